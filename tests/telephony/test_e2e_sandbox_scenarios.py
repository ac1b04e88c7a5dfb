"""Every sandbox scenario end to end: POST /sandbox/calls → webhook → worker → websocket.

Checks what the agent's browser receives: the states in order, the right contact, and the
right call-log result once enrichment has run.
"""

import pytest

from tests.support.people import contact_make
from tests.telephony.pipeline import states_in_order

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

CALLER = "+14155550100"


def _finished(sock, session_id):
    def check(_history):
        calls = sock.calls(session_id)
        return calls and calls[-1]["result"] and calls[-1]["state"] in ("ended", "missed",
                                                                        "voicemail")
    return check


def _debug(pipeline):
    deliveries = [
        {k: d.get(k) for k in ("at", "status", "fault", "attempts", "duration", "error", "uuid")}
        | {"seq": (d.get("body") or {}).get("sequence")}
        for d in pipeline.sandbox.deliveries()
    ]
    return f"deliveries: {deliveries}\nlogs:\n{pipeline.stack.logs()}"


def _run(pipeline, scenario, *, expected_states, expected_result, **kw):
    agent = pipeline.sign_in("102")
    pipeline.subscribe(agent)
    contact = contact_make("Ada", "Lovelace", CALLER, company="Analytical Engines")
    sock = pipeline.socket(agent)
    started = pipeline.sandbox.start_call(scenario, extension="102", from_=CALLER, **kw)
    session_id = started["sessionId"]
    sock.wait_for(_finished(sock, session_id), timeout=60, what=f"{scenario} to be enriched",
                  context=lambda: _debug(pipeline))
    calls = sock.calls(session_id)
    assert states_in_order(calls) == expected_states
    final = calls[-1]
    assert final["result"] == expected_result
    assert final["contact"]["id"] == contact.pk
    assert final["contact"]["name"] == "Ada Lovelace"
    assert final["direction"] == "inbound"
    assert final["from_number"].lstrip("+") == CALLER.lstrip("+")
    return sock, started, final


def test_inbound_answered(pipeline):
    _, _, final = _run(
        pipeline, "inbound_answered",
        expected_states=["ringing", "connected", "ended"], expected_result="Accepted",
    )
    assert final["answered_at"] is not None
    assert final["duration"] is not None


def test_inbound_missed(pipeline):
    _, _, final = _run(
        pipeline, "inbound_missed",
        expected_states=["ringing", "missed"], expected_result="Missed",
    )
    assert final["answered_at"] is None


def test_inbound_voicemail(pipeline):
    # The app has CallControl: the telephony session says VoiceMail, so the card never shows
    # "missed" before the call log's result (presence alone shows missed, then voicemail).
    _run(
        pipeline, "inbound_voicemail",
        expected_states=["ringing", "voicemail"], expected_result="Voicemail",
    )


def test_multi_device(pipeline):
    # The intermediate NoCall between the devices never shows: one card, no "missed".
    _run(
        pipeline, "multi_device",
        expected_states=["ringing", "connected", "ended"], expected_result="Accepted",
    )


def test_hold_resume(pipeline):
    _run(
        pipeline, "hold_resume",
        expected_states=["ringing", "connected", "on_hold", "connected", "ended"],
        expected_result="Accepted",
    )


def test_recording_is_attached_after_enrichment(pipeline):
    _, _, final = _run(
        pipeline, "inbound_answered", talk_seconds=40,
        expected_states=["ringing", "connected", "ended"], expected_result="Accepted",
    )
    assert final["recording"] is not None
    assert final["recording"]["url"].endswith("/recording/")


def test_concurrent(pipeline):
    agent = pipeline.sign_in("102")
    pipeline.subscribe(agent)
    sock = pipeline.socket(agent)
    started = pipeline.sandbox.start_call("concurrent", extension="102", from_=CALLER)
    first, second = started["sessionIds"]
    for session_id in (first, second):
        sock.wait_for(_finished(sock, session_id), timeout=60, what="both calls enriched")
    assert states_in_order(sock.calls(first)) == [
        "ringing", "connected", "on_hold", "connected", "ended",
    ]
    assert states_in_order(sock.calls(second)) == ["ringing", "connected", "ended"]
    assert sock.calls(first)[-1]["result"] == "Accepted"
    assert sock.calls(second)[-1]["result"] == "Accepted"


def test_internal(pipeline):
    callee = pipeline.sign_in("102")
    caller = pipeline.sign_in("103")
    pipeline.subscribe(callee)
    pipeline.subscribe(caller)
    callee_sock = pipeline.socket(callee)
    caller_sock = pipeline.socket(caller)
    started = pipeline.sandbox.start_call("internal", extension="102", from_="103")
    session_id = started["sessionId"]
    callee_sock.wait_for(_finished(callee_sock, session_id), timeout=60, what="callee's card")
    caller_sock.wait_for(_finished(caller_sock, session_id), timeout=60, what="caller's card")
    incoming = callee_sock.calls(session_id)[-1]
    outgoing = caller_sock.calls(session_id)[-1]
    assert incoming["direction"] == "inbound"
    assert outgoing["direction"] == "outbound"
    assert incoming["from_name"] == caller.name
    assert incoming["contact"] is None
    assert states_in_order(callee_sock.calls(session_id)) == ["ringing", "connected", "ended"]
