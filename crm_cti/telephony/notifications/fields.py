"""Reading one value of a platform payload: ids, display text, times. Pure: no ORM."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from crm_cti.telephony.notifications.shape import InvalidEvent

# Times outside this range are clamped into it: year 1 or 9999 is stored by PostgreSQL but
# overflows when a page shows it in a time zone, and no call of ours happened then.
EARLIEST_TIME = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_TIME = datetime(2100, 1, 1, tzinfo=UTC)


def text_of(value: Any) -> str:
    return "" if value is None else str(value).strip()


def identifier_of(value: Any, what: str, max_length: int, *, integer_ok: bool = True) -> str:
    """An id from the payload: a string (or an integer), short enough for its column.

    Anything else (a list, a bool, a 10 KB string) is garbage: refused with a 400 rather than
    stored as a valid event, or failing the insert on PostgreSQL with a 503 that would make
    the platform redeliver it forever."""
    allowed = (str, int) if integer_ok else (str,)
    if value is None or isinstance(value, bool) or not isinstance(value, allowed):
        raise InvalidEvent(f"{what} is missing or not a string")
    text = str(value).strip()
    if not text:
        raise InvalidEvent(f"missing {what}")
    if len(text) > max_length:
        raise InvalidEvent(f"{what} is longer than {max_length} characters")
    return text


def display_of(value: Any, max_length: int) -> str:
    """A display field (number, name), cut to its column rather than refused."""
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        return ""
    return text_of(value)[:max_length]


def parse_time(value: Any) -> datetime | None:
    """A platform time (ISO 8601, UTC when it names no zone), clamped to EARLIEST_TIME ..
    LATEST_TIME; None when missing or unreadable."""
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = parse_datetime(value)
    except (ValueError, OverflowError):
        return None
    if parsed is None:
        return None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.UTC)
    try:
        return min(max(parsed, EARLIEST_TIME), LATEST_TIME)
    except OverflowError:  # year 1 with a positive offset is before datetime.min in UTC
        return EARLIEST_TIME


def not_after(value: datetime | None, limit: datetime | None) -> datetime | None:
    return limit if value is not None and limit is not None and value > limit else value


def envelope_of(payload: dict[str, Any]) -> tuple[str, datetime | None, dict[str, Any]]:
    """A notification's envelope: its ``uuid``, ``timestamp`` and ``body`` (every kind has
    them); raise InvalidEvent."""
    uuid = identifier_of(payload.get("uuid"), "uuid", 64, integer_ok=False)
    timestamp = parse_time(payload.get("timestamp"))
    body = payload.get("body")
    if not isinstance(body, dict):
        raise InvalidEvent("missing body")
    return uuid, timestamp, body
