"""The client's Call Control methods against the sandbox: devices, a session and its
parties, hold / transfer / park, recordings, call-out; refusals arrive as typed errors."""

from __future__ import annotations

import pytest

from crm_cti.ringcentral.errors import NotFound, RingCentralError


def _ringing(rc) -> dict:
    call = rc.start_call("interactive", extension="102", ring_seconds=600)
    rc.wait_for(lambda: rc.call(call["sessionId"])["legs"][0]["telephonyStatus"] == "Ringing")
    return call


def test_answer_hold_record_and_transfer(rc, rc_client):
    devices = rc_client.list_devices()["records"]
    assert {d["type"] for d in devices} == {"HardPhone", "SoftPhone"}
    call = _ringing(rc)
    session_id = call["telephonySessionId"]
    party = rc_client.get_call_session(session_id)["parties"][0]
    answered = rc_client.call_party_action(session_id, party["id"], "answer",
                                           {"deviceId": devices[0]["id"]})
    assert answered["status"]["code"] == "Answered"
    assert rc_client.call_party_action(session_id, party["id"], "hold")["status"]["code"] == (
        "Hold")
    # Holding twice is refused with the platform's words, as a typed error.
    with pytest.raises(RingCentralError) as refused:
        rc_client.call_party_action(session_id, party["id"], "hold")
    assert refused.value.status == 409
    rc_client.call_party_action(session_id, party["id"], "unhold")
    recording = rc_client.call_party_action(session_id, party["id"], "recordings")
    paused = rc_client.set_call_recording(session_id, party["id"], recording["id"],
                                          active=False)
    assert paused["active"] is False
    with pytest.raises(NotFound):
        rc_client.call_party_action(session_id, party["id"], "transfer",
                                    {"extensionNumber": "999"})
    moved = rc_client.call_party_action(session_id, party["id"], "transfer",
                                        {"extensionNumber": "103"})
    assert moved["status"]["code"] == "Gone"
    legs = rc.call(call["sessionId"])["legs"]
    assert [(leg["extensionNumber"], leg["telephonyStatus"]) for leg in legs] == [
        ("102", "NoCall"), ("103", "Ringing")]
    rc_client.end_call_session(session_id)
    assert rc.wait_for(lambda: rc.call(call["sessionId"])["endTime"])


def test_call_out_and_drop_the_party(rc, rc_client):
    device = rc_client.list_devices()["records"][1]["id"]
    created = rc_client.call_out(device_id=device, to_extension_number="103")
    session = created["session"]
    assert session["origin"]["type"] == "CallOut"
    mine = next(p for p in session["parties"] if p["extensionId"] == "400000102")
    rc_client.drop_call_party(session["id"], mine["id"])
    after = rc_client.get_call_session(session["id"])
    assert next(p for p in after["parties"] if p["id"] == mine["id"])["status"]["code"] == (
        "Disconnected")
    with pytest.raises(ValueError):
        rc_client.call_out(device_id=device)
