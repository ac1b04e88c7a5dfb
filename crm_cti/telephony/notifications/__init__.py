"""Notifications in: pure parsing (no ORM) of every kind of event we subscribe to, into the
one shape the tracker applies (``shape.ParsedEvent``).

The webhook parses a delivery once (``payload_load`` then ``event_parse``) to check and
store it; the worker re-parses the stored, cleaned payload through the same
``event_parse``. Three kinds: presence (``presence.py``), telephony sessions
(``telephony_sessions.py``) and message-store notifications (``messages.py``); another kind
plugs in as a module of its own and a ``Kind`` in ``KINDS``, recognised by its ``event`` path.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crm_cti.telephony.notifications import messages, presence, telephony_sessions
from crm_cti.telephony.notifications.fields import EARLIEST_TIME, LATEST_TIME, parse_time
from crm_cti.telephony.notifications.payload import MAX_JSON_DEPTH, payload_load
from crm_cti.telephony.notifications.shape import (
    DIRECTIONS,
    TELEPHONY_STATUSES,
    InvalidEvent,
    Leg,
    ParsedEvent,
)

__all__ = [
    "DIRECTIONS", "EARLIEST_TIME", "KINDS", "LATEST_TIME", "MAX_JSON_DEPTH",
    "TELEPHONY_SESSIONS", "TELEPHONY_STATUSES", "InvalidEvent", "Kind", "Leg", "ParsedEvent",
    "event_kind", "event_parse", "event_path_extension", "parse_time", "payload_load",
]


@dataclass(frozen=True)
class Kind:
    """One kind of notification: the ``event`` paths it arrives under, and its parser."""

    name: str
    path: re.Pattern[str]
    parse: Callable[[dict[str, Any]], ParsedEvent]


PRESENCE = Kind(name=presence.KIND, path=presence.PRESENCE_PATH, parse=presence.presence_parse)
TELEPHONY_SESSIONS = Kind(
    name=telephony_sessions.KIND,
    path=telephony_sessions.SESSIONS_PATH,
    parse=telephony_sessions.telephony_sessions_parse,
)
MESSAGES = Kind(name=messages.KIND, path=messages.MESSAGE_PATH, parse=messages.messages_parse)
KINDS: tuple[Kind, ...] = (PRESENCE, TELEPHONY_SESSIONS, MESSAGES)


def event_kind(payload: dict[str, Any]) -> Kind:
    """The kind whose ``event`` path the notification has. Presence otherwise: until there
    was a second kind, every notification was read as presence whatever its path (an
    account subscription's scope is not checked against it), and still is."""
    path = payload.get("event")
    if isinstance(path, str):
        for kind in KINDS:
            if kind.path.match(path):
                return kind
    return PRESENCE


def event_path_extension(payload: dict[str, Any]) -> str | None:
    """The extension the notification's ``event`` path is about (every kind's path names
    it first), or None when the path is none of ours."""
    path = payload.get("event")
    if not isinstance(path, str):
        return None
    for kind in KINDS:
        match = kind.path.match(path)
        if match is not None:
            return match.group(1)
    return None


def event_parse(payload: Any) -> ParsedEvent:
    """Validate a notification and pull out what the tracker uses; raise InvalidEvent."""
    if not isinstance(payload, dict):
        raise InvalidEvent("the notification is not a JSON object")
    return event_kind(payload).parse(payload)
