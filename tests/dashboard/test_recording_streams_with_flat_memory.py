"""A long recording streams through the real ASGI server (uvicorn) without being held in
memory: the web process's resident memory grows by a small fraction of the recording's
size while the whole of it flows to the listener, and a seek is a 206 from RingCentral.

Memory is read from /proc/<pid>/status (VmRSS) of the server process. The CSV export takes
the same asynchronous path, reading the calls through a database cursor.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from crm_cti.accounts.models import Agent
from crm_cti.accounts.services import client_for_agent
from tests.accounts.signin_helpers import sign_in
from tests.support.people import call_make
from tests.support.stack import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# About 48 MB of audio (32 kbit/s): far more than a web process could hold unnoticed.
SECONDS = 12_000


def _rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS line")


@pytest.fixture
def recorded_call(client, rc, live_app):
    assert sign_in(client, username="102").status_code == 302
    agent = Agent.objects.get(extension_number="102")
    rc.inject_call_log("102", 30, seed=7)
    rc.config(recording_content_seconds=SECONDS)
    records = client_for_agent(agent).list_call_log(with_recording=True, per_page=5)["records"]
    assert records, "the sandbox injected no call with a recording"
    recording = records[0]["recording"]
    call = call_make(agent, session_id=records[0]["sessionId"], recording={
        "id": recording["id"], "content_uri": recording["contentUri"], "type": "Automatic"})
    cookies = {"sessionid": client.cookies["sessionid"].value}
    return call, cookies


def test_a_long_recording_streams_with_flat_memory(live_app, recorded_call):
    call, cookies = recorded_call
    url = f"{live_app.url}/calls/{call.pk}/recording/"
    pid = live_app.process.proc.pid
    # Warm up the code paths (imports, connections) before the baseline.
    warm = requests.get(url, cookies=cookies, headers={"Range": "bytes=0-999"}, timeout=30)
    assert warm.status_code == 206, warm.text[:300]
    size = int(warm.headers["Content-Range"].rsplit("/", 1)[1])
    assert size > 40_000_000

    baseline = _rss_bytes(pid)
    peak = baseline
    received = 0
    with requests.get(url, cookies=cookies, stream=True, timeout=60) as response:
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("audio/")
        for chunk in response.iter_content(chunk_size=256 * 1024):
            received += len(chunk)
            peak = max(peak, _rss_bytes(pid))
    assert received == size
    growth = peak - baseline
    assert growth < size / 4, (
        f"the web process grew by {growth / 1e6:.1f} MB streaming {size / 1e6:.1f} MB"
    )

    # The player seeks: a byte range far into the recording comes back as a 206.
    seek = requests.get(url, cookies=cookies, headers={"Range": f"bytes={size - 1440}-"},
                        timeout=30)
    assert seek.status_code == 206
    assert seek.headers["Content-Range"] == f"bytes {size - 1440}-{size - 1}/{size}"
    assert seek.headers["Accept-Ranges"] == "bytes" and len(seek.content) == 1440


def test_the_csv_export_streams_through_a_cursor_under_uvicorn(client, live_app):
    # More rows than one fetch of the cursor (500) and one chunk of the body (64 KB).
    from crm_cti.telephony.models import Call
    from tests.support.people import agent_create

    agent = agent_create(extension="104")
    template = call_make(agent, notes="n" * 100)
    Call.objects.bulk_create(
        Call(**{f.attname: getattr(template, f.attname) for f in Call._meta.concrete_fields
                if f.attname != "id"} | {"session_id": f"csv-{i}", "from_name": f"=cmd{i}"})
        for i in range(2500)
    )
    client.force_login(agent.user)
    response = requests.get(f"{live_app.url}/calls/export.csv", timeout=60, stream=True,
                            cookies={"sessionid": client.cookies["sessionid"].value})
    assert response.status_code == 200
    assert "Content-Length" not in response.headers  # streamed, not built up front
    lines = response.content.decode().splitlines()
    assert len(lines) == 1 + 2501
    assert sum(1 for line in lines if ",'=cmd" in line) == 2500


def test_streams_past_the_cap_wait_and_a_closed_player_frees_its_slot(live_app, recorded_call):
    call, cookies = recorded_call
    url = f"{live_app.url}/calls/{call.pk}/recording/"
    players = [requests.get(url, cookies=cookies, stream=True, timeout=30) for _ in range(3)]
    try:
        for player in players:
            assert player.status_code == 200
            next(player.iter_content(chunk_size=64 * 1024))  # playing
        refused = requests.get(url, cookies=cookies, timeout=30)
        assert refused.status_code == 429
        assert "already playing 3 recordings" in refused.text
    finally:
        for player in players:
            player.close()  # the listener leaves mid-recording

    # The server notices the disconnects and gives the slots back.
    def plays_again() -> bool:
        with requests.get(url, cookies=cookies, headers={"Range": "bytes=0-99"},
                          timeout=30) as again:
            return again.status_code == 206

    wait_until(plays_again, timeout=20, interval=0.5, what="a freed stream slot")
