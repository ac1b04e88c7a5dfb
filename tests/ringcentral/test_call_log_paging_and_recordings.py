"""Call log filters and the paging iterator; recording metadata and streamed content."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def test_iterator_follows_next_page_to_the_end(rc, rc_client):
    rc.inject_call_log("102", 25)
    since = datetime.now(UTC) - timedelta(days=7)

    first = rc_client.list_call_log(date_from=since, per_page=10)
    assert len(first["records"]) == 10
    assert first["navigation"].get("nextPage")

    ids = [r["id"] for r in rc_client.iter_call_log(date_from=since, per_page=10)]
    assert len(ids) == 25
    assert len(set(ids)) == 25


def test_filters_reach_the_platform(rc, rc_client):
    rc.inject_call_log("102", 30)
    since = datetime.now(UTC) - timedelta(days=7)
    inbound = list(rc_client.iter_call_log(date_from=since, direction="Inbound", per_page=100))
    assert inbound and all(r["direction"] == "Inbound" for r in inbound)
    recorded = rc_client.list_call_log(date_from=since, with_recording=True)["records"]
    assert recorded and all(r.get("recording") for r in recorded)
    one = rc_client.get_call_log_record(recorded[0]["id"])
    assert one["id"] == recorded[0]["id"]


def test_recording_content_streams_in_chunks(rc, rc_client):
    rc.inject_call_log("102", 30)
    since = datetime.now(UTC) - timedelta(days=7)
    record = rc_client.list_call_log(date_from=since, with_recording=True)["records"][0]
    meta = rc_client.get_recording(record["recording"]["id"])
    assert str(meta["id"]) == str(record["recording"]["id"])

    with rc_client.stream_recording_content(meta["contentUri"]) as audio:
        assert audio.content_type.startswith("audio/")
        body = b"".join(audio)
    assert body
    assert audio.content_length in (None, len(body))
