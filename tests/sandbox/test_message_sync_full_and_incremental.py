"""message-sync: a full sync (FSync) returns the live messages of the window and a
syncToken; an incremental sync (ISync) with it returns every change since — new, updated and
deleted messages — and a new token."""

from __future__ import annotations

import httpx
import pytest

from tests.sandbox.message_helpers import SYNC, T_SYNC, inbound_sms, send_sms
from tests.sandbox.spec import conforms, load_or_skip
from tests.support.sandbox import SandboxProcess


@pytest.fixture
def spec() -> dict:
    return load_or_skip()


def _sync(client: httpx.Client, **params: object) -> dict:
    return conforms(client.get(SYNC, params=params), "GET", T_SYNC)


def test_full_then_incremental_sync(spec: dict, fresh_sandbox: SandboxProcess,
                                    agent: httpx.Client) -> None:
    first = inbound_sms(fresh_sandbox, "102", "First")
    second = inbound_sms(fresh_sandbox, "102", "Second")
    full = _sync(agent, syncType="FSync")
    assert [m["id"] for m in full["records"]] == [second["id"], first["id"]]
    assert full["syncInfo"]["syncType"] == "FSync"
    assert full["syncInfo"]["olderRecordsExist"] is False
    token = full["syncInfo"]["syncToken"]

    third = inbound_sms(fresh_sandbox, "102", "Third")
    agent.put(first["uri"], json={"readStatus": "Read"})
    agent.delete(second["uri"])
    changes = _sync(agent, syncType="ISync", syncToken=token)
    assert changes["syncInfo"]["syncType"] == "ISync"
    by_id = {m["id"]: m for m in changes["records"]}
    assert set(by_id) == {first["id"], second["id"], third["id"]}
    assert by_id[first["id"]]["readStatus"] == "Read"
    assert by_id[second["id"]]["availability"] == "Deleted"
    # Nothing changed since: an empty answer, and the token still works.
    again = _sync(agent, syncToken=changes["syncInfo"]["syncToken"])
    assert again["records"] == [] and again["syncInfo"]["syncType"] == "ISync"
    # A full sync lists live messages only.
    assert {m["id"] for m in _sync(agent)["records"]} == {first["id"], third["id"]}


def test_record_count_and_filters(spec: dict, fresh_sandbox: SandboxProcess,
                                  agent: httpx.Client) -> None:
    inbound_sms(fresh_sandbox, "102", "One")
    two = inbound_sms(fresh_sandbox, "102", "Two")
    limited = _sync(agent, recordCount=1)
    assert [m["id"] for m in limited["records"]] == [two["id"]]
    assert limited["syncInfo"]["olderRecordsExist"] is True
    outbound_only = _sync(agent, direction="Outbound")
    assert outbound_only["records"] == []
    token = outbound_only["syncInfo"]["syncToken"]
    inbound_sms(fresh_sandbox, "102", "Inbound, not synced by this token")
    sent = send_sms(agent, "+16505550102", "+16504445567", "Outbound, synced")
    assert [m["id"] for m in _sync(agent, syncToken=token)["records"]] == [sent["id"]]


def test_incremental_sync_pages_through_many_changes(fresh_sandbox: SandboxProcess,
                                                     agent: httpx.Client) -> None:
    token = _sync(agent)["syncInfo"]["syncToken"]
    made = [inbound_sms(fresh_sandbox, "102", f"Message {n}")["id"] for n in range(5)]
    seen: list[int] = []
    for _ in range(3):
        page = _sync(agent, syncToken=token, recordCount=2)
        seen += [m["id"] for m in page["records"]]
        token = page["syncInfo"]["syncToken"]
    assert seen == made


def test_bad_sync_requests_get_clear_errors(fresh_sandbox: SandboxProcess,
                                            agent: httpx.Client) -> None:
    token = _sync(agent)["syncInfo"]["syncToken"]
    for params, name in (({"syncType": "Sometimes"}, "syncType"),
                         ({"syncType": "ISync"}, "syncToken"),
                         ({"syncToken": "not-a-token"}, "syncToken"),
                         ({"recordCount": "0"}, "recordCount")):
        response = agent.get(SYNC, params=params)
        assert response.status_code == 400, params
        assert response.json()["errors"][0]["parameterName"] == name
    with fresh_sandbox.api("103") as colleague:
        assert colleague.get(SYNC, params={"syncToken": token}).status_code == 400
    fresh_sandbox.reset()
    with fresh_sandbox.api("102") as again:
        assert again.get(SYNC, params={"syncToken": token}).status_code == 400
