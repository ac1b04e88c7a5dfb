"""notifications/telephony_sessions.py: a ``TelephonySessionsEventBody`` is parsed (pure, no
database) into the one shape, a leg per party of one of our extensions, ordered by a key of
its session (its ``sequence`` counts per session); bad input is an InvalidEvent."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from crm_cti.telephony.notifications import InvalidEvent, event_kind, event_parse
from crm_cti.telephony.notifications.telephony_sessions import (
    session_order_key,
    sessions_path_extension,
)
from tests.telephony.conftest import fixture_events

SESSION_FLOWS = sorted(
    p.stem for p in (Path(__file__).resolve().parents[2] / "fixtures" / "events")
    .glob("sessions_*.json")
)


def _sample() -> dict:
    return copy.deepcopy(fixture_events("sessions_rc_docs_sample", fresh=False)[0])


def test_the_platforms_documented_sample_parses():
    payload = _sample()
    parsed = event_parse(payload)
    assert parsed.kind == "telephony-sessions"
    assert event_kind(payload).name == "telephony-sessions"
    assert parsed.uuid == "1823485288313944239"
    assert parsed.sequence == 3
    assert parsed.extension_id == session_order_key("s-a6abd24ca6774373a8120a3390d3cbe8")
    assert len(parsed.extension_id) <= 32  # TelephonyEvent.rc_extension_id
    (leg,) = parsed.legs
    assert leg.extension_id == "809646016"
    assert leg.session_id == "425008160016"
    assert leg.telephony_session_id == "s-a6abd24ca6774373a8120a3390d3cbe8"
    assert leg.leg_id == "p-a6abd24ca6774373a8120a3390d3cbe8-2"
    assert (leg.status, leg.party_status, leg.direction) == ("Ringing", "Setup", "inbound")
    assert (leg.from_number, leg.to_number, leg.to_name) == (
        "+14083388064", "+19043014558", "TESTER Babji")


@pytest.mark.parametrize("flow", SESSION_FLOWS)
def test_every_session_fixture_parses_and_keeps_its_order_key(flow):
    for payload in fixture_events(flow):
        parsed = event_parse(payload)
        body = payload["body"]
        if "parties" not in body:
            assert parsed.kind == "presence"
            continue
        assert parsed.kind == "telephony-sessions"
        assert parsed.extension_id == session_order_key(body["telephonySessionId"])
        assert parsed.sequence == body["sequence"]
        assert [leg.leg_id for leg in parsed.legs] == [p["id"] for p in body["parties"]]


def test_status_codes_map_onto_the_trackers_statuses():
    expected = {"Setup": "Ringing", "Proceeding": "Ringing", "Answered": "CallConnected",
                "Hold": "OnHold", "Parked": "ParkedCall", "VoiceMail": "NoCall",
                "Gone": "NoCall", "Disconnected": "NoCall"}
    for code, status in expected.items():
        payload = _sample()
        payload["body"]["parties"][0]["status"]["code"] = code
        (leg,) = event_parse(payload).legs
        assert leg.status == status, code
        # A session never sends a transitional end: every end is final.
        assert (leg.termination_type == "final") == (status == "NoCall")


def test_peer_park_and_queue_facts_are_kept():
    payload = _sample()
    party = payload["body"]["parties"][0]
    party["status"] = {"code": "Disconnected", "reason": "AgentAnswered",
                       "peerId": {"sessionId": "1", "telephonySessionId": "s-1",
                                  "partyId": "p-other"}}
    party["queueCall"] = True
    (leg,) = event_parse(payload).legs
    assert (leg.party_reason, leg.peer_party_id, leg.queue_call) == (
        "AgentAnswered", "p-other", True)
    party["status"] = {"code": "Parked", "parkData": "*801"}
    party["park"] = {"id": "*801"}
    assert event_parse(payload).legs[0].park_orbit == "*801"


def test_an_extension_event_speaks_only_for_its_extensions_parties():
    payload = _sample()
    far_end = {"id": "p-far", "direction": "Outbound", "status": {"code": "Answered"},
               "from": {"phoneNumber": "+14083388064"}}
    colleague = {**copy.deepcopy(payload["body"]["parties"][0]), "id": "p-colleague",
                 "extensionId": "809646099"}
    payload["body"]["parties"] += [far_end, colleague]
    assert [leg.leg_id for leg in event_parse(payload).legs] == [
        "p-a6abd24ca6774373a8120a3390d3cbe8-2"]
    payload["event"] = "/restapi/v1.0/account/809646016/telephony/sessions"
    # The account's event: every party of one of the account's extensions (not the far end).
    assert [leg.extension_id for leg in event_parse(payload).legs] == ["809646016", "809646099"]


def test_paths_say_whose_sessions():
    assert sessions_path_extension(
        "/restapi/v1.0/account/~/extension/400000102/telephony/sessions") == "400000102"
    assert sessions_path_extension("/restapi/v1.0/account/~/telephony/sessions?direction=Inbound"
                                   ) == ""
    assert sessions_path_extension(
        "/restapi/v1.0/account/~/extension/1/presence?detailedTelephonyState=true") is None


@pytest.mark.parametrize(("change", "message"), [
    (lambda b: b.pop("telephonySessionId"), "telephonySessionId"),
    (lambda b: b.pop("sessionId"), "sessionId"),
    (lambda b: b.update(sequence="3"), "sequence"),
    (lambda b: b.update(sequence=-1), "sequence"),
    (lambda b: b.update(sequence=True), "sequence"),
    (lambda b: b.update(parties=[]), "parties"),
    (lambda b: b.update(parties={"id": 1}), "parties"),
    (lambda b: b["parties"].append("x"), "parties\\[1\\]"),
    (lambda b: b["parties"][0].update(status={"code": "Dancing"}), "status.code"),
    (lambda b: b["parties"][0].pop("status"), "status"),
    (lambda b: b["parties"][0].update(direction="Sideways"), "direction"),
    (lambda b: b["parties"][0].update(id=["p"]), "parties\\[0\\].id"),
    (lambda b: b["parties"][0].update(extensionId="9" * 40), "extensionId"),
    (lambda b: b["parties"][0].update(to="+1650"), "to"),
    (lambda b: b.update(telephonySessionId="s" * 65), "telephonySessionId"),
])
def test_bad_input_is_an_invalid_event(change, message):
    payload = _sample()
    change(payload["body"])
    with pytest.raises(InvalidEvent, match=message):
        event_parse(payload)
    # What the webhook stores parses again to the same error (JSON round trip).
    with pytest.raises(InvalidEvent):
        event_parse(json.loads(json.dumps(payload)))


def test_a_missing_body_is_an_invalid_event():
    payload = _sample()
    payload["body"] = "nope"
    with pytest.raises(InvalidEvent, match="body"):
        event_parse(payload)
