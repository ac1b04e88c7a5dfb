"""Writes and streams the dashboard pages make: the RingOut "from" number, the history's
refresh and CSV export, recording stream slots; and what they ask of RingCentral for an
agent (SMS, pager messages, a recording's audio) through ``client_for_agent``. Writes to a
``Call`` (notes and disposition, linking calls to a contact created from a pop card, the
contact picked on a card for a shared number, a number added to a contact from a card) are
telephony's: crm_cti/telephony/services/calls.py."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from crm_cti.accounts.models import Agent
from crm_cti.accounts.services import client_for_agent
from crm_cti.crm.phones import InvalidPhoneNumber, is_extension_number, normalize_e164
from crm_cti.messaging.services.conversations import message_sent_record
from crm_cti.ringcentral.client import RecordingContent
from crm_cti.ringcentral.recording import range_header
from crm_cti.telephony import dispatch
from crm_cti.telephony.models import Call

NOTES_MAX_CHARS = 10_000
RECENT_PUSH_WINDOW = timedelta(minutes=30)

CSV_COLUMNS = [
    "id", "started_at", "direction", "state", "result", "from_number", "from_name",
    "to_number", "to_name", "contact", "company", "agent", "extension", "duration",
    "disposition", "notes", "has_recording",
]
# A spreadsheet runs a cell that starts with one of these as a formula (=HYPERLINK(...),
# =cmd|...): caller-ID names and notes come from outside, so such cells are quoted.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^\+?\d+$")
# Rows are handed to the response in pieces of about this size.
CSV_CHUNK_CHARS = 64 * 1024
# A recording stream holds one of its user's slots; a slot a crashed process never released
# expires after this long, and a stream still flowing renews its slot more often than that.
RECORDING_SLOT_SECONDS = 120
RECORDING_SLOT_REFRESH_SECONDS = 30


@transaction.atomic
def agent_set_ringout_from(*, agent: Agent, number: str) -> str:
    """Remember the agent's RingOut "from" number (E.164, or one of their extension numbers).

    Raises InvalidPhoneNumber for something that cannot be dialled.
    """
    number = (number or "").strip()
    if is_extension_number(number):
        raise InvalidPhoneNumber("RingOut rings your phone first: give a full phone number.")
    e164 = normalize_e164(number)
    agent.ringout_from_number = e164
    agent.save(update_fields=["ringout_from_number", "updated_at"])
    return e164


def calllog_refresh_request(*, agent: Agent) -> bool:
    """Queue an incremental call-log import for ``agent``, at most once per
    ``CALLLOG_REFRESH_SECONDS`` (shared by every process through the cache).

    The history page calls this, so the local history catches up with calls made
    elsewhere (desk phone, mobile app) without a request per page view. Returns whether an
    import was queued.
    """
    if agent.needs_signin:
        return False
    if not cache.add(f"calllog-refresh:{agent.pk}", 1, timeout=settings.CALLLOG_REFRESH_SECONDS):
        return False
    transaction.on_commit(lambda: dispatch.send(dispatch.CALLLOG_IMPORT, agent.pk))
    return True


def csv_safe_cell(value: Any) -> Any:
    """``value`` as a spreadsheet shows it without running it: a text that starts like a
    formula gets a leading apostrophe (OWASP's advice); an E.164 number stays as it is."""
    if not isinstance(value, str) or not value.startswith(_FORMULA_START):
        return value
    if _PLAIN_NUMBER.match(value):
        return value
    return "'" + value


def _call_csv_row(call: Call) -> list[Any]:
    return [
        call.pk,
        call.started_at.isoformat() if call.started_at else "",
        call.direction,
        call.state,
        call.result,
        call.from_number,
        call.from_name,
        call.to_number,
        call.to_name,
        call.contact.full_name if call.contact else "",
        call.contact.company if call.contact else "",
        call.agent.name if call.agent else "",
        call.agent.extension_number if call.agent else "",
        call.duration if call.duration is not None else "",
        call.disposition.name if call.disposition else "",
        call.notes,
        "yes" if call.recording else "no",
    ]


def calls_csv_chunks(*, calls: Any) -> Iterator[str]:
    """The CSV export of ``calls``, in pieces: rows are read through a database cursor
    (``iterator``), never all at once, so memory stays flat however long the history."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for call in calls.select_related("disposition").iterator(chunk_size=500):
        writer.writerow([csv_safe_cell(cell) for cell in _call_csv_row(call)])
        if buffer.tell() >= CSV_CHUNK_CHARS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _slot_key(user_id: int, number: int) -> str:
    return f"recording-stream:{user_id}:{number}"


def recording_stream_slot_take(*, user_id: int) -> str | None:
    """One of the user's ``RECORDING_MAX_STREAMS_PER_USER`` stream slots, or None when all
    are taken. Slots live in the cache (Redis in distributed mode), so the cap holds across
    web processes; ``cache.add`` takes a slot atomically."""
    for number in range(settings.RECORDING_MAX_STREAMS_PER_USER):
        key = _slot_key(user_id, number)
        if cache.add(key, 1, timeout=RECORDING_SLOT_SECONDS):
            return key
    return None


def recording_stream_slot_keep(*, slot: str) -> None:
    cache.touch(slot, timeout=RECORDING_SLOT_SECONDS)


def recording_stream_slot_release(*, slot: str) -> None:
    cache.delete(slot)


# ---------------------------------------------------------------------------- RingCentral


def sms_send(*, agent: Agent, from_number: str, to_number: str, text: str) -> dict[str, Any]:
    """Send an SMS as ``agent`` from one of their SMS numbers; RingCentral's message record.

    Raises a ``RingCentralError`` when RingCentral refuses (never retried: a write)."""
    record = client_for_agent(agent).send_sms(
        from_number=from_number, to_numbers=[to_number], text=text
    )
    message_sent_record(agent=agent, record=record)
    return record


def pager_send(*, agent: Agent, to_extension_numbers: list[str], text: str) -> dict[str, Any]:
    """Send a company pager message from ``agent``'s extension; RingCentral's record."""
    record = client_for_agent(agent).send_pager(
        from_extension_number=agent.extension_number,
        to_extension_numbers=to_extension_numbers,
        text=text,
    )
    message_sent_record(agent=agent, record=record)
    return record


def recording_open(*, agent: Agent, content_uri: str, byte_range: str = "") -> RecordingContent:
    """Open a recording's audio with ``agent``'s credential, for streaming; the caller closes
    it. ``byte_range`` is the player's ``Range`` header, passed on when well-formed."""
    return client_for_agent(agent).stream_recording_content(
        content_uri, byte_range=range_header(byte_range)
    )
