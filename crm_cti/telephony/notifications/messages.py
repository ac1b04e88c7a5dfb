"""Message-store notifications: the inbound SMS itself (``.../message-store/instant?type=SMS``,
``InstantMessageEvent``: the body is the message record) and changes to the store
(``.../message-store``, ``MessageEvent``: per message type, how many are new or updated and
the new ids).

The tracker has no call to apply them to: they parse into a ``ParsedEvent`` without legs
(sequence 0, so they never move an extension's presence order), are stored by the same
webhook ingest, and the tracker hands their ids on to messaging (``ApplyResult
.message_event_ids``), which reads them with ``message_event_read``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crm_cti.telephony.notifications.fields import identifier_of, parse_time, text_of
from crm_cti.telephony.notifications.shape import InvalidEvent, ParsedEvent

KIND = "message"
# The `event` of a message-store notification names the extension whose store it is.
MESSAGE_PATH = re.compile(
    r"^/restapi/v1\.0/account/[^/?]+/extension/([^/?]+)/message-store(/instant)?(?:\?.*)?$"
)
MESSAGE_TYPES = ("SMS", "Pager", "VoiceMail", "Fax", "Text")


@dataclass(frozen=True)
class MessageChange:
    """One ``MessageChanges`` entry: a message type, and the ids of its new messages."""

    type: str
    new_count: int = 0
    updated_count: int = 0
    new_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class MessageEvent:
    """What a message notification says: ``record`` (an instant SMS: the message itself, in
    the message store's field names) or ``changes`` (a store change)."""

    uuid: str
    extension_id: str
    timestamp: datetime | None
    record: dict[str, Any] | None = None
    changes: tuple[MessageChange, ...] = field(default_factory=tuple)


def _count(value: Any, what: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidEvent(f"{what} is not a count")
    return value


def _change(item: Any, index: int) -> MessageChange:
    if not isinstance(item, dict):
        raise InvalidEvent(f"body.changes[{index}] is not an object")
    kind = text_of(item.get("type"))
    if kind not in MESSAGE_TYPES:
        raise InvalidEvent(f"body.changes[{index}].type is not a message type")
    ids = item.get("newMessageIds") or []
    if not isinstance(ids, list):
        raise InvalidEvent(f"body.changes[{index}].newMessageIds is not a list")
    return MessageChange(
        type=kind,
        new_count=_count(item.get("newCount"), f"body.changes[{index}].newCount"),
        updated_count=_count(item.get("updatedCount"), f"body.changes[{index}].updatedCount"),
        new_ids=tuple(identifier_of(i, f"body.changes[{index}].newMessageIds", 64)
                      for i in ids),
    )


def message_event_read(payload: dict[str, Any]) -> MessageEvent:
    """Validate a message notification; raise InvalidEvent."""
    uuid = identifier_of(payload.get("uuid"), "uuid", 64, integer_ok=False)
    match = MESSAGE_PATH.match(text_of(payload.get("event")))
    if match is None:
        raise InvalidEvent("event is not a message-store path")
    body = payload.get("body")
    if not isinstance(body, dict):
        raise InvalidEvent("missing body")
    timestamp = parse_time(payload.get("timestamp"))
    if match.group(2):  # instant: the message record itself
        extension_id = identifier_of(
            body.get("ownerId") or body.get("extensionId") or match.group(1),
            "body.ownerId", 32,
        )
        identifier_of(body.get("id"), "body.id", 64)
        if not isinstance(body.get("from"), dict | None):
            raise InvalidEvent("body.from is not an object")
        if not isinstance(body.get("to"), list | None):
            raise InvalidEvent("body.to is not a list")
        record = {**body, "type": text_of(body.get("type")) or "SMS"}
        return MessageEvent(uuid=uuid, extension_id=extension_id, timestamp=timestamp,
                            record=record)
    extension_id = identifier_of(body.get("extensionId") or body.get("ownerId"),
                                 "body.extensionId", 32)
    changes = body.get("changes") or []
    if not isinstance(changes, list):
        raise InvalidEvent("body.changes is not a list")
    return MessageEvent(
        uuid=uuid, extension_id=extension_id, timestamp=timestamp,
        changes=tuple(_change(item, i) for i, item in enumerate(changes)),
    )


def messages_parse(payload: dict[str, Any]) -> ParsedEvent:
    """The shape the webhook stores: no legs, sequence 0 (messages have no presence
    sequence; 0 never counts as newer than what the extension applied)."""
    event = message_event_read(payload)
    if event.extension_id == "~":
        raise InvalidEvent("missing body.extensionId")
    return ParsedEvent(
        uuid=event.uuid,
        subscription_id=text_of(payload.get("subscriptionId")),
        extension_id=event.extension_id,
        sequence=0,
        timestamp=event.timestamp,
        telephony_status="",
        kind=KIND,
    )
