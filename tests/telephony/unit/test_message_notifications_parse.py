"""Message-store notifications parse (pure) into the shape the webhook stores: the instant
SMS with its record, a store change with its new ids; what lacks what we need is refused."""

from __future__ import annotations

import pytest

from crm_cti.telephony.notifications import (
    InvalidEvent,
    event_kind,
    event_parse,
    event_path_extension,
)
from crm_cti.telephony.notifications.messages import message_event_read

INSTANT = "/restapi/v1.0/account/~/extension/400000102/message-store/instant?type=SMS"
STORE = "/restapi/v1.0/account/400000001/extension/400000102/message-store"


def _instant(**body):
    return {"uuid": "u-1", "event": INSTANT, "timestamp": "2026-12-01T10:00:00.000Z",
            "subscriptionId": "sub-1",
            "body": {"id": "7001", "ownerId": "400000102", "direction": "Inbound",
                     "from": {"phoneNumber": "+16504445567"},
                     "to": [{"phoneNumber": "+16505550102"}], "subject": "Hello", **body}}


def _change(changes):
    return {"uuid": "u-2", "event": STORE, "timestamp": "2026-12-01T10:00:00.000Z",
            "body": {"extensionId": "400000102", "changes": changes}}


def test_an_instant_sms_carries_its_record():
    parsed = event_parse(_instant())
    assert (parsed.kind, parsed.extension_id, parsed.sequence, parsed.legs) == (
        "message", "400000102", 0, ())
    event = message_event_read(_instant())
    assert event.record["id"] == "7001" and event.record["type"] == "SMS"
    assert event_path_extension(_instant()) == "400000102"


def test_a_store_change_carries_its_new_ids():
    payload = _change([{"type": "VoiceMail", "newCount": 1, "newMessageIds": [7002]},
                       {"type": "SMS", "updatedCount": 2}])
    assert event_kind(payload).name == "message"
    event = message_event_read(payload)
    assert event.record is None
    assert [(c.type, c.new_ids, c.updated_count) for c in event.changes] == [
        ("VoiceMail", ("7002",), 0), ("SMS", (), 2)]


@pytest.mark.parametrize("payload", [
    {**_instant(), "uuid": None},
    {**_instant(), "body": "text"},
    _instant(id=None),
    _instant(to="+16505550102"),
    _change("lots"),
    _change([{"type": "Telegram"}]),
    _change([{"type": "SMS", "newCount": -1}]),
    _change([{"type": "SMS", "newMessageIds": "7"}]),
])
def test_what_lacks_what_we_need_is_refused(payload):
    with pytest.raises(InvalidEvent):
        event_parse(payload)


def test_presence_is_still_presence():
    presence = {"uuid": "p", "event": "/restapi/v1.0/account/~/extension/1/presence"}
    assert event_kind(presence).name == "presence"
    assert event_path_extension(presence) == "1"
    assert event_path_extension({"event": "/restapi/v1.0/glip/posts"}) is None
