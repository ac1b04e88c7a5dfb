"""The call-control scenarios (call queue, blind and warm transfer, park and pickup, forward,
reject to voicemail) play the events a real call of that shape produces, to every
extension involved, and leave the call log with each extension's leg."""

from __future__ import annotations

import httpx
import pytest

from tests.sandbox.conftest import ACCOUNT_PRESENCE, subscribe
from tests.sandbox.receiver import Receiver
from tests.sandbox.session_helpers import (
    ACCOUNT_SESSIONS,
    last_party,
    party_codes,
    presence_events,
    session_events,
)
from tests.support.sandbox import SandboxProcess

AGENT, PRIYA, DANIEL = "400000102", "400000103", "400000104"
PLAYED = ["Setup", "Proceeding", "Answered", "Disconnected"]


@pytest.fixture
def fast(fresh_sandbox: SandboxProcess) -> SandboxProcess:
    fresh_sandbox.config(speed=20, call_log_lag=0)
    return fresh_sandbox


def _play(sandbox: SandboxProcess, admin: httpx.Client, receiver: Receiver, scenario: str,
          **kw) -> tuple[dict, dict, list[dict]]:
    subscribe(admin, receiver, [ACCOUNT_SESSIONS, ACCOUNT_PRESENCE])
    started = sandbox.start_call(scenario, extension="102", **kw)
    ended = sandbox.wait_for(lambda: (c := sandbox.call(started["sessionId"]))["endTime"] and c)
    # Every party's last event has arrived once each leg's Disconnected/Gone is in.
    sandbox.wait_for(lambda: all(
        party_codes(session_events(receiver, started["telephonySessionId"]),
                    leg["extensionId"])[-1:] in (["Disconnected"], ["Gone"])
        for leg in ended["legs"]))
    return started, ended, session_events(receiver, started["telephonySessionId"])


def test_call_queue_rings_everyone_and_one_answers(fast, admin, receiver) -> None:
    _started, ended, events = _play(fast, admin, receiver, "call_queue")
    assert party_codes(events, AGENT) == PLAYED
    for other in (PRIYA, DANIEL):
        assert party_codes(events, other) == ["Setup", "Proceeding", "Disconnected"]
        final = last_party(events, other)
        assert final["status"]["reason"] == "AgentAnswered"
        assert final["missedCall"] is False and final["queueCall"] is True
    assert [leg["result"] for leg in ended["legs"]] == ["Accepted", "Answered Elsewhere",
                                                        "Answered Elsewhere"]
    # Presence of the others: rang, then stopped (not a missed call on their phones).
    assert [p["telephonyStatus"] for p in presence_events(receiver, PRIYA)] == [
        "Ringing", "NoCall"]


def test_blind_transfer_scenario(fast, admin, receiver) -> None:
    started, _ended, events = _play(fast, admin, receiver, "blind_transfer")
    assert started["colleague"] == "103"
    assert party_codes(events, AGENT) == ["Setup", "Proceeding", "Answered", "Gone"]
    assert party_codes(events, PRIYA) == PLAYED
    gone = last_party(events, AGENT)["status"]
    assert gone["reason"] == "BlindTransfer"
    priya_party = last_party(events, PRIYA)["id"]
    assert gone["peerId"]["partyId"] == priya_party
    assert sorted(b["sequence"] for b in events) == list(range(1, len(events) + 1))
    records = fast.wait_for(lambda: admin.get("/restapi/v1.0/account/~/call-log", params={
        "sessionId": started["sessionId"], "dateFrom": "2020-01-01"}).json()["records"])
    assert sorted(r["extension"]["id"] for r in records) == [int(AGENT), int(PRIYA)]
    assert {r["result"] for r in records} == {"Accepted"}


def test_warm_transfer_scenario(fast, admin, receiver) -> None:
    started, _ended, events = _play(fast, admin, receiver, "warm_transfer")
    assert party_codes(events, AGENT) == ["Setup", "Proceeding", "Answered", "Hold", "Gone"]
    assert last_party(events, AGENT)["status"]["reason"] == "AttendedTransfer"
    # Priya joins the customer's session already talking (she was consulted first).
    assert party_codes(events, PRIYA) == ["Setup", "Answered", "Disconnected"]
    consult = [b for b in session_events(receiver)
               if b["telephonySessionId"] != started["telephonySessionId"]]
    assert party_codes(consult, AGENT) == ["Setup", "Proceeding", "Answered", "Gone"]
    assert party_codes(consult, PRIYA) == ["Setup", "Proceeding", "Answered", "Gone"]


def test_park_and_pickup_scenario(fast, admin, receiver) -> None:
    _started, _ended, events = _play(fast, admin, receiver, "park_pickup")
    assert party_codes(events, AGENT) == ["Setup", "Proceeding", "Answered", "Parked", "Gone"]
    parked = next(p for b in events for p in b["parties"] if p["status"]["code"] == "Parked")
    assert parked["park"]["id"] == "*801" and parked["status"]["parkData"] == "*801"
    assert last_party(events, AGENT)["status"]["reason"] == "Pickup"
    assert party_codes(events, PRIYA) == ["Setup", "Answered", "Disconnected"]
    assert [p["telephonyStatus"] for p in presence_events(receiver, AGENT)] == [
        "Ringing", "CallConnected", "ParkedCall", "NoCall"]


def test_forward_scenario(fast, admin, receiver) -> None:
    _started, ended, events = _play(fast, admin, receiver, "forward", to="104")
    assert party_codes(events, AGENT) == ["Setup", "Proceeding", "Disconnected"]
    final = last_party(events, AGENT)
    assert final["status"]["reason"] == "CallRedirected" and final["missedCall"] is False
    assert party_codes(events, DANIEL) == PLAYED
    assert [leg["result"] for leg in ended["legs"]] == ["Stopped", "Accepted"]


def test_reject_to_voicemail_scenario(fast, admin, receiver) -> None:
    _started, ended, events = _play(fast, admin, receiver, "reject_voicemail")
    assert party_codes(events, AGENT) == ["Setup", "Proceeding", "VoiceMail", "Disconnected"]
    assert last_party(events, AGENT)["status"]["reason"] == "Rejected"
    assert ended["legs"][0]["result"] == "Voicemail"


def test_unknown_colleague_is_refused(fast) -> None:
    response = fast.http.post("/sandbox/calls", json={
        "scenario": "blind_transfer", "extension": "102", "to": "999"})
    assert response.status_code == 400


def test_console_party_buttons_refuse_with_the_platforms_words(fast) -> None:
    call = fast.start_call("interactive", extension="102", ring_seconds=600)
    party = fast.wait_for(lambda: (c := fast.call(call["sessionId"]))["legs"][0][
        "partyStatus"] == "Proceeding" and c)["legs"][0]["partyId"]
    base = f"/sandbox/calls/{call['sessionId']}/parties/{party}"
    refused = fast.http.post(base + "/forward", json={"target": "999"})
    assert refused.status_code == 400
    assert refused.json()["error"] == "Resource for parameter [extensionNumber] is not found"
    held = fast.http.post(base + "/hold")
    assert held.status_code == 409 and "cannot be held" in held.json()["error"]
    assert fast.http.post(base + "/dance").status_code == 400
    assert fast.http.post(base + "/answer").json()["legs"][0]["partyStatus"] == "Answered"
