"""notifications/: every notification is read by one pure function (no database), into one
shape; what the webhook stores parses again to exactly what the door parsed; a second
kind of notification plugs in beside presence by its event path."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from crm_cti.telephony import notifications
from crm_cti.telephony.models import Call
from crm_cti.telephony.notifications import (
    MAX_JSON_DEPTH,
    InvalidEvent,
    Kind,
    Leg,
    ParsedEvent,
    event_kind,
    event_parse,
    payload_load,
)
from tests.telephony.conftest import fixture_events

FLOWS = sorted(p.stem for p in (Path(__file__).resolve().parents[2] / "fixtures" / "events")
               .glob("*.json"))
# sessions_*: telephony-session notifications (tests/telephony/unit/test_telephony_sessions_*).
PRESENCE_FLOWS = [flow for flow in FLOWS if not flow.startswith("sessions_")]


@pytest.mark.parametrize("flow", PRESENCE_FLOWS)
def test_every_recorded_notification_parses_into_the_one_shape(flow):
    for payload in fixture_events(flow):
        parsed = event_parse(payload)
        assert isinstance(parsed, ParsedEvent) and parsed.kind == "presence"
        assert parsed.extension_id == str(payload["body"]["extensionId"])
        assert parsed.sequence == int(payload["body"]["sequence"])
        assert len(parsed.legs) == len(payload["body"].get("activeCalls") or [])
        for leg in parsed.legs:
            assert leg.direction in Call.Direction.values
            # No call starts after the event that reports it.
            assert leg.start_time is None or leg.start_time <= parsed.timestamp


@pytest.mark.parametrize("flow", FLOWS)
def test_what_the_webhook_stores_parses_again_to_what_the_door_parsed(flow):
    for payload in fixture_events(flow):
        at_the_door = event_parse(payload_load(json.dumps(payload).encode()))
        # The row keeps the cleaned payload as JSON; the worker parses that.
        stored = json.loads(json.dumps(payload_load(json.dumps(payload).encode())))
        assert event_parse(stored) == at_the_door


def test_the_door_cleans_what_postgresql_would_refuse():
    raw = (b'{"uuid": "u\\u0000", "name": "A\\ud800B", "n": NaN, "ok": 1.5}')
    assert payload_load(raw) == {"uuid": "u", "name": "A\ufffdB", "n": None, "ok": 1.5}
    deep = ("[" * (MAX_JSON_DEPTH + 2) + "]" * (MAX_JSON_DEPTH + 2))
    with pytest.raises(InvalidEvent, match="nested deeper"):
        payload_load(('{"a": ' + deep + "}").encode())
    for bad in (b"\xff", b"{", b"[]"):
        with pytest.raises(InvalidEvent):
            payload_load(bad)


def _presence(**body):
    return {"uuid": "u-1", "event": "/restapi/v1.0/account/1/extension/2/presence",
            "timestamp": "2026-01-01T00:00:00Z", "subscriptionId": "s",
            "body": {"extensionId": "2", "sequence": 1, **body}}


@pytest.mark.parametrize(("payload", "why"), [
    ([], "not a JSON object"),
    ({"uuid": "u"}, "missing body"),
    (_presence(sequence=True, telephonyStatus="NoCall"), "body.sequence"),
    (_presence(sequence=-1, telephonyStatus="NoCall"), "out of range"),
    (_presence(telephonyStatus="Dancing"), "unknown body.telephonyStatus"),
    (_presence(), "neither"),
    (_presence(activeCalls=[{"sessionId": "1", "telephonyStatus": "Ringing"}]), "direction"),
    (_presence(activeCalls=[{"sessionId": ["x"], "telephonyStatus": "Ringing",
                             "direction": "Inbound"}]), "sessionId"),
])
def test_a_notification_missing_what_the_tracker_needs_is_invalid(payload, why):
    with pytest.raises(InvalidEvent, match=re.escape(why)):
        event_parse(payload)


def test_presence_is_the_kind_of_a_presence_path_and_of_an_unknown_one():
    assert event_kind(_presence(telephonyStatus="NoCall")).name == "presence"
    # Before a second kind existed every notification was read as presence: still so.
    assert event_kind({"event": "/somewhere/else"}).name == "presence"
    assert event_kind({}).name == "presence"


def test_a_second_kind_plugs_in_beside_presence(monkeypatch):
    def session_parse(payload):
        body = payload["body"]
        return ParsedEvent(
            uuid=payload["uuid"], subscription_id="", extension_id=body["ext"],
            sequence=body["seq"], timestamp=None, telephony_status="",
            legs=(Leg(session_id=body["session"], status="Ringing", direction="inbound"),),
            kind="telephony-session",
        )

    sessions = Kind(name="telephony-session",
                    path=re.compile(r"^/restapi/v1\.0/account/[^/]+/telephony/sessions"),
                    parse=session_parse)
    monkeypatch.setattr(notifications, "KINDS", (notifications.PRESENCE, sessions))
    parsed = event_parse({"uuid": "t-1", "event": "/restapi/v1.0/account/1/telephony/sessions",
                          "body": {"ext": "7", "seq": 3, "session": "42"}})
    assert parsed.kind == "telephony-session" and parsed.legs[0].session_id == "42"
    # Presence is still presence.
    assert event_parse(_presence(telephonyStatus="NoCall")).kind == "presence"
