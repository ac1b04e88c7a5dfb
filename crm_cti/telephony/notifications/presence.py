"""Presence notifications (``detailedTelephonyState=true``): an extension's telephony
status and every call it is part of (``activeCalls``), each a leg of a session."""

from __future__ import annotations

import re
from typing import Any

from crm_cti.telephony.notifications.fields import (
    display_of,
    envelope_of,
    identifier_of,
    not_after,
    parse_time,
    text_of,
)
from crm_cti.telephony.notifications.shape import (
    DIRECTIONS,
    TELEPHONY_STATUSES,
    InvalidEvent,
    Leg,
    ParsedEvent,
)

KIND = "presence"
# The `event` of a presence notification names the extension it is about.
PRESENCE_PATH = re.compile(
    r"^/restapi/v1\.0/account/[^/?]+/extension/([^/?]+)/presence(?:\?.*)?$"
)


def presence_path_extension(path: Any) -> str | None:
    """The extension a presence ``event`` path is about, or None when it is not one."""
    match = PRESENCE_PATH.match(path) if isinstance(path, str) else None
    return match.group(1) if match is not None else None


def presence_parse(payload: dict[str, Any]) -> ParsedEvent:
    """Validate a presence notification and pull out what the tracker uses; raise
    InvalidEvent."""
    uuid, timestamp, body = envelope_of(payload)
    extension_id = identifier_of(body.get("extensionId"), "body.extensionId", 32)
    if extension_id == "~":
        raise InvalidEvent("missing body.extensionId")
    sequence = body.get("sequence")
    if isinstance(sequence, bool) or not isinstance(sequence, (int, str)):
        raise InvalidEvent("missing body.sequence")
    try:
        sequence = int(sequence)
    except ValueError:
        raise InvalidEvent("body.sequence is not an integer") from None
    if not 0 <= sequence < 2**63:
        raise InvalidEvent("body.sequence is out of range")
    status = text_of(body.get("telephonyStatus"))
    if status and status not in TELEPHONY_STATUSES:
        raise InvalidEvent(f"unknown body.telephonyStatus {status!r}")
    active = body.get("activeCalls", [])
    if active is None:
        active = []
    if not isinstance(active, list):
        raise InvalidEvent("body.activeCalls is not a list")
    if not active and not status:
        raise InvalidEvent("neither body.activeCalls nor body.telephonyStatus")
    legs = tuple(_leg(item, index, timestamp) for index, item in enumerate(active))
    return ParsedEvent(
        uuid=uuid,
        subscription_id=text_of(payload.get("subscriptionId")),
        extension_id=extension_id,
        sequence=sequence,
        timestamp=timestamp,
        telephony_status=status,
        legs=legs,
        kind=KIND,
    )


def _leg(item: Any, index: int, timestamp: Any) -> Leg:
    if not isinstance(item, dict):
        raise InvalidEvent(f"activeCalls[{index}] is not an object")
    session_id = text_of(item.get("sessionId"))
    if session_id:
        session_id = identifier_of(item.get("sessionId"), f"activeCalls[{index}].sessionId", 64)
    leg_status = text_of(item.get("telephonyStatus"))
    direction = text_of(item.get("direction"))
    if not session_id:
        raise InvalidEvent(f"activeCalls[{index}] has no sessionId")
    if leg_status not in TELEPHONY_STATUSES:
        raise InvalidEvent(f"activeCalls[{index}] has no valid telephonyStatus")
    if direction not in DIRECTIONS:
        raise InvalidEvent(f"activeCalls[{index}] has no valid direction")
    return Leg(
        session_id=session_id,
        status=leg_status,
        direction=DIRECTIONS[direction],
        leg_id=display_of(item.get("id"), 64) or display_of(item.get("partyId"), 64),
        telephony_session_id=display_of(item.get("telephonySessionId"), 64),
        from_number=display_of(item.get("from"), 40),
        from_name=display_of(item.get("fromName"), 200),
        to_number=display_of(item.get("to"), 40),
        to_name=display_of(item.get("toName"), 200),
        # No call starts after the event that reports it.
        start_time=not_after(parse_time(item.get("startTime")), timestamp),
        termination_type=text_of(item.get("terminationType")),
    )
