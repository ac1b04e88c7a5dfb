"""Reading the platform's call records (call log, active calls): each value cut to its
``Call`` column, the parties, the recording, and which record is a call's."""

from __future__ import annotations

from typing import Any

from crm_cti.telephony.models import Call
from crm_cti.telephony.notifications import DIRECTIONS


def record_clip(value: Any, field: str) -> str:
    """A call-log value cut to its ``Call`` column: PostgreSQL refuses a longer one, and the
    record would then fail its enrichment (or the whole history import) on every try."""
    text = "" if value is None else str(value)
    return text[: Call._meta.get_field(field).max_length]


def record_duration(record: dict[str, Any]) -> int | None:
    """The record's duration in seconds, or None."""
    # Seconds, within the column's range (a negative or huge figure is refused by PostgreSQL).
    duration = record.get("duration")
    if not isinstance(duration, int) or isinstance(duration, bool):
        return None
    return min(max(duration, 0), 2**31 - 1)


def record_party(record: dict[str, Any], side: str) -> tuple[str, str]:
    """The number and name of one side (``from``/``to``) of a record, cut to the columns."""
    party = record.get(side)
    if not isinstance(party, dict):
        party = {}
    number = party.get("phoneNumber") or party.get("extensionNumber") or ""
    name = party.get("name") or ""
    return record_clip(number, f"{side}_number"), record_clip(name, f"{side}_name")


def record_parties(record: dict[str, Any]) -> dict[str, str]:
    """Both sides of a record, and its telephony session, as ``Call`` fields (for
    ``call_rules.call_blanks_fill``)."""
    from_number, from_name = record_party(record, "from")
    to_number, to_name = record_party(record, "to")
    return {"from_number": from_number, "from_name": from_name, "to_number": to_number,
            "to_name": to_name,
            "telephony_session_id": record_clip(record.get("telephonySessionId") or "",
                                                "telephony_session_id")}


def record_recording(record: dict[str, Any]) -> dict[str, Any] | None:
    """The recording a call-log record names, as ``Call.recording`` keeps it."""
    rec = record.get("recording")
    if not isinstance(rec, dict) or not rec.get("id"):
        return None
    return {
        "id": str(rec.get("id")),
        "uri": rec.get("uri", ""),
        "content_uri": rec.get("contentUri", ""),
        "type": rec.get("type", ""),
        "duration": record.get("duration"),
    }


def record_for_call(call: Call, records: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Of a session's records, the one of the call's extension, else of its direction."""
    if not records:
        return None
    for record in records:
        ext = (record.get("extension") or {}).get("id")
        if ext is not None and str(ext) == call.rc_extension_id:
            return record
    for record in records:
        direction = DIRECTIONS.get(str(record.get("direction", "")))
        if direction == call.direction:
            return record
    return records[0]
