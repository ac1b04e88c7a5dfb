"""Every call the sandbox plays emits telephony-session notifications consistent with its
presence: per-party status codes in order, a per-session ``sequence``, the event filter's
options honoured, delivery faults applied, and each body valid against the spec."""

from __future__ import annotations

import time

import jsonschema
import pytest

from tests.sandbox.conftest import PRESENCE, subscribe
from tests.sandbox.receiver import Receiver
from tests.sandbox.session_helpers import (
    ACCOUNT_SESSIONS,
    SESSIONS,
    last_party,
    party_codes,
    presence_events,
    session_events,
    subscribe_sessions,
)
from tests.sandbox.spec import FORMATS, load_or_skip
from tests.support.sandbox import SandboxProcess

AGENT, PRIYA, DANIEL = "400000102", "400000103", "400000104"


@pytest.fixture
def spec() -> dict:
    return load_or_skip()


@pytest.fixture
def fast(fresh_sandbox: SandboxProcess) -> SandboxProcess:
    fresh_sandbox.config(speed=20, call_log_lag=0)
    return fresh_sandbox


def _ended(sandbox: SandboxProcess, session_id: str) -> dict:
    return sandbox.wait_for(lambda: (c := sandbox.call(session_id))["endTime"] and c)


def _validator(spec: dict) -> jsonschema.Draft7Validator:
    schema = {"$ref": "#/components/schemas/TelephonySessionsEventBody",
              "components": spec["components"]}
    return jsonschema.Draft7Validator(schema, format_checker=FORMATS)


def test_an_answered_call_goes_setup_proceeding_answered_disconnected(
        fast: SandboxProcess, agent, receiver: Receiver, spec: dict) -> None:
    subscribe_sessions(agent, receiver)
    call = fast.start_call("inbound_answered", extension="102")
    _ended(fast, call["sessionId"])
    events = fast.wait_for(lambda: (e := session_events(receiver)) and len(e) >= 4 and e)
    assert party_codes(events, AGENT) == ["Setup", "Proceeding", "Answered", "Disconnected"]
    assert [body["sequence"] for body in sorted(events, key=lambda b: b["sequence"])] == [
        1, 2, 3, 4]
    for body in events:
        assert body["telephonySessionId"] == call["telephonySessionId"]
        assert body["sessionId"] == call["sessionId"]
        assert body["origin"] == {"type": "Call"}
        errors = list(_validator(spec).iter_errors(body))
        assert not errors, errors[0].message
    final = last_party(events, AGENT)
    assert final["missedCall"] is False and final["direction"] == "Inbound"
    assert final["to"]["extensionId"] == AGENT and final["from"]["phoneNumber"]
    # Presence tells the same story of the same party.
    presence = fast.wait_for(lambda: (p := presence_events(receiver, AGENT)) and len(p) >= 3
                             and p)
    entry = presence[0]["activeCalls"][0]
    assert entry["telephonySessionId"] == call["telephonySessionId"]
    assert entry["partyId"] == final["id"]
    assert [p["telephonyStatus"] for p in presence] == ["Ringing", "CallConnected", "NoCall"]


def test_a_missed_call_says_missed_and_voicemail_says_voicemail(
        fast: SandboxProcess, agent, receiver: Receiver) -> None:
    subscribe_sessions(agent, receiver, [SESSIONS])
    missed = fast.start_call("inbound_missed", extension="102")
    _ended(fast, missed["sessionId"])
    voicemail = fast.start_call("inbound_voicemail", extension="102")
    _ended(fast, voicemail["sessionId"])
    fast.wait_for(lambda: len(session_events(receiver, voicemail["telephonySessionId"])) >= 4)
    missed_events = session_events(receiver, missed["telephonySessionId"])
    assert party_codes(missed_events, AGENT) == ["Setup", "Proceeding", "Disconnected"]
    assert last_party(missed_events, AGENT)["missedCall"] is True
    vm_events = session_events(receiver, voicemail["telephonySessionId"])
    assert party_codes(vm_events, AGENT) == ["Setup", "Proceeding", "VoiceMail",
                                             "Disconnected"]


def test_multi_device_ringing_never_disconnects_the_party(
        fast: SandboxProcess, agent, receiver: Receiver) -> None:
    subscribe_sessions(agent, receiver)
    call = fast.start_call("multi_device", extension="102")
    _ended(fast, call["sessionId"])
    events = fast.wait_for(lambda: (e := session_events(receiver)) and len(e) >= 4 and e)
    # Presence flashes a transitional NoCall; the telephony session stays in Proceeding.
    assert party_codes(events, AGENT) == ["Setup", "Proceeding", "Answered", "Disconnected"]
    statuses = [p["telephonyStatus"] for p in presence_events(receiver, AGENT)]
    assert statuses[:3] == ["Ringing", "NoCall", "Ringing"]


def test_hold_resume_and_internal_calls(fast: SandboxProcess, agent, receiver: Receiver,
                                        ) -> None:
    subscribe(agent, receiver, [SESSIONS])
    hold = fast.start_call("hold_resume", extension="102")
    _ended(fast, hold["sessionId"])
    fast.wait_for(lambda: len(session_events(receiver, hold["telephonySessionId"])) >= 6)
    assert party_codes(session_events(receiver, hold["telephonySessionId"]), AGENT) == [
        "Setup", "Proceeding", "Answered", "Hold", "Answered", "Disconnected"]


def test_account_filter_sees_every_party_and_options_narrow_it(
        fast: SandboxProcess, admin, receiver: Receiver) -> None:
    everything = Receiver().start()
    outbound = Receiver().start()
    ended = Receiver().start()
    try:
        subscribe(admin, everything, [ACCOUNT_SESSIONS])
        subscribe(admin, outbound, [ACCOUNT_SESSIONS + "?direction=Outbound"])
        subscribe(admin, ended, [ACCOUNT_SESSIONS + "?statusCode=Disconnected&missedCall=true"])
        call = fast.start_call("internal", extension="102", from_="103")
        missed = fast.start_call("inbound_missed", extension="104")
        _ended(fast, call["sessionId"])
        _ended(fast, missed["sessionId"])
        fast.wait_for(lambda: len(session_events(everything)) >= 11)
        all_events = session_events(everything, call["telephonySessionId"])
        assert party_codes(all_events, AGENT) == ["Setup", "Proceeding", "Answered",
                                                  "Disconnected"]
        assert party_codes(all_events, PRIYA) == ["Setup", "Proceeding", "Answered",
                                                  "Disconnected"]
        # One numbering for the whole session, whoever's party changed.
        assert sorted(b["sequence"] for b in all_events) == list(range(1, 9))
        fast.wait_for(lambda: len(session_events(outbound)) >= 4)
        assert {p["direction"] for b in session_events(outbound) for p in b["parties"]} == {
            "Outbound"}
        fast.wait_for(lambda: session_events(ended))
        time.sleep(0.5)
        only = session_events(ended)
        assert len(only) == 1
        assert only[0]["parties"][0]["extensionId"] == DANIEL
        assert only[0]["parties"][0]["status"]["code"] == "Disconnected"
    finally:
        for running in (everything, outbound, ended):
            running.stop()


def test_filter_options_are_checked_and_account_level_needs_an_admin(agent) -> None:
    def create(event_filter: str):
        return agent.post("/restapi/v1.0/subscription", json={
            "eventFilters": [event_filter],
            "deliveryMode": {"transportType": "WebHook", "address": "http://127.0.0.1:9/"}})

    bad = create(SESSIONS + "?direction=Sideways")
    assert bad.status_code == 400 and "eventFilters" in bad.text
    assert create(SESSIONS + "?colour=blue").status_code == 400
    forbidden = create(ACCOUNT_SESSIONS)
    assert forbidden.status_code == 403


def test_delivery_faults_apply_to_session_events(fast: SandboxProcess, agent,
                                                 receiver: Receiver) -> None:
    subscribe(agent, receiver, [SESSIONS])
    call = fast.start_call("inbound_answered", extension="102", faults=[
        {"type": "drop", "index": 1, "event": "telephony-sessions"},
        {"type": "duplicate", "index": 2, "event": "telephony-sessions"}])
    _ended(fast, call["sessionId"])
    fast.wait_for(lambda: len(session_events(receiver)) >= 4)
    time.sleep(0.3)
    sequences = [b["sequence"] for b in session_events(receiver)]
    # Proceeding (2) dropped, Answered (3) delivered twice.
    assert sorted(sequences) == [1, 3, 3, 4]
    wrong = fast.http.post("/sandbox/calls", json={
        "scenario": "inbound_answered", "extension": "102",
        "faults": [{"type": "drop", "event": "sms"}]})
    assert wrong.status_code == 400


def test_out_of_order_session_event(fast: SandboxProcess, agent, receiver: Receiver) -> None:
    subscribe(agent, receiver, [SESSIONS])
    call = fast.start_call("inbound_answered", extension="102",
                           faults=[{"type": "out_of_order", "index": 1,
                                    "event": "telephony-sessions"}])
    _ended(fast, call["sessionId"])
    fast.wait_for(lambda: len(session_events(receiver)) >= 4)
    assert [b["sequence"] for b in session_events(receiver)] == [1, 3, 2, 4]


def test_sandbox_notify_delivers_a_raw_session_body(fast: SandboxProcess, agent,
                                                    receiver: Receiver) -> None:
    subscribe(agent, receiver, [SESSIONS, PRESENCE])
    raw = {"sequence": 9, "telephonySessionId": "s-raw", "parties": []}
    assert fast.notify("102", raw, event="telephony-sessions") == {"queued": 1}
    assert fast.notify("102", {"extensionId": AGENT, "sequence": 1}) == {"queued": 1}
    fast.wait_for(lambda: len(receiver.received) >= 2)
    by_event = {b["event"].rsplit("/", 2)[-1].split("?")[0]: b["body"]
                for b in receiver.bodies()}
    assert by_event["sessions"] == raw
    bad = fast.http.post("/sandbox/notify", json={"extension": "102", "body": {},
                                                  "event": "sms"})
    assert bad.status_code == 400


async def test_session_events_arrive_over_the_websocket_gateway(fast: SandboxProcess,
                                                                 agent) -> None:
    from tests.sandbox.wsclient import gateway_open

    gateway = await gateway_open(agent)
    await gateway.subscribe([SESSIONS])
    call = fast.start_call("inbound_answered", extension="102")
    notes = await gateway.notifications(4)
    bodies = [note[1]["body"] for note in notes]
    assert party_codes(bodies, AGENT) == ["Setup", "Proceeding", "Answered", "Disconnected"]
    assert {b["telephonySessionId"] for b in bodies} == {call["telephonySessionId"]}
    assert notes[0][1]["event"].endswith("/extension/400000102/telephony/sessions")
    await gateway.close()
