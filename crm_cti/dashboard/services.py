"""Writes the dashboard pages make: notes and disposition, the RingOut "from" number,
linking calls to a contact created from a pop card, the contact picked on a card for a
shared number, a number added to a contact from a card; and what they ask of RingCentral
for an agent (SMS, pager messages, a recording's audio) through ``client_for_agent``."""

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
from django.db.models import Q
from django.utils import timezone

from crm_cti.accounts.models import Agent
from crm_cti.accounts.preferences import team_settings_get
from crm_cti.accounts.services import client_for_agent
from crm_cti.crm.matching import Rule
from crm_cti.crm.models import Contact, Disposition
from crm_cti.crm.phones import InvalidPhoneNumber, is_extension_number, normalize_e164
from crm_cti.crm.services import contact_phone_add, number_choice_remember
from crm_cti.ringcentral.client import RecordingContent
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
# The Range values a player sends (one range; "bytes=1000-", "bytes=0-99", "bytes=-500"):
# anything else is not passed on to RingCentral, and the whole recording is served.
_RANGE = re.compile(r"^bytes=(\d+-\d*|-\d+)$")


def _push(calls: list[Call]) -> None:
    # Imported here: the push module pulls in Channels, which pages don't otherwise need.
    from crm_cti.telephony.push import push_call

    for call in calls:
        transaction.on_commit(lambda call=call: push_call(call))


class CallNotValid(ValueError):
    """What the agent asked cannot be done to this call; ``field`` is the form field the
    message belongs next to ("" for the whole form)."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


_KEEP = object()


def call_needs_note(*, notes: str, disposition: Disposition | None) -> bool:
    return disposition is not None and disposition.requires_note and not notes.strip()


@transaction.atomic
def call_annotate(
    *, call: Call, notes: str | None = None, disposition: Disposition | object | None = _KEEP
) -> Call:
    """Save the agent's notes and/or disposition on a call (``disposition`` None clears it;
    left out, it stays) and push the change. Raises CallNotValid when the disposition
    requires a note and the call would have none."""
    fields = []
    new_notes = call.notes if notes is None else notes[:NOTES_MAX_CHARS]
    new_disposition = call.disposition if disposition is _KEEP else disposition
    if call_needs_note(notes=new_notes, disposition=new_disposition):  # type: ignore[arg-type]
        raise CallNotValid(f"“{new_disposition}” needs a note: write what happened.", field="notes")
    if notes is not None:
        call.notes = new_notes
        fields.append("notes")
    if disposition is not _KEEP:
        call.disposition = new_disposition  # type: ignore[assignment]
        fields.append("disposition")
    if fields:
        call.save(update_fields=[*fields, "updated_at"])
        _push([call])
    return call


@transaction.atomic
def calls_link_contact(*, contact: Contact, e164: str) -> int:
    """Attach calls with ``e164`` on the other side and no contact yet to ``contact``.

    Used when an agent creates a contact from an unknown caller's card: the live card
    and the history then show the new name. Returns how many calls changed.
    """
    calls = list(
        Call.objects.select_for_update()
        .filter(contact__isnull=True)
        .filter(
            Q(direction=Call.Direction.INBOUND, from_e164=e164)
            | Q(direction=Call.Direction.OUTBOUND, to_e164=e164)
        )
    )
    for call in calls:
        call.contact = contact
        call.contact_matches = 1
        call.match_info = {"rule": Rule.ONLY, "number": e164}
        call.save(update_fields=["contact", "contact_matches", "match_info", "updated_at"])
    # Live cards and the recent-calls list need the new name; older history is just saved.
    recent = timezone.now() - RECENT_PUSH_WINDOW
    _push([c for c in calls if c.is_live or (c.ended_at and c.ended_at >= recent)])
    return len(calls)


def call_dismiss_check(*, call: Call) -> None:
    """Whether the card of ``call`` may leave the dashboard; raises CallNotValid (with what
    is missing) when the team requires a disposition on answered calls and it has none."""
    if call.is_live:
        raise CallNotValid("The call is still going on.")
    if call.answered_at is None:
        return
    if call.disposition_id is None and team_settings_get().require_disposition:
        raise CallNotValid("Set a disposition before you dismiss the call.", field="disposition")
    if call_needs_note(notes=call.notes, disposition=call.disposition):
        raise CallNotValid(f"“{call.disposition}” needs a note.", field="notes")


def _other_e164(call: Call) -> str:
    return call.from_e164 if call.direction == Call.Direction.INBOUND else call.to_e164


@transaction.atomic
def call_contact_choose(*, call: Call, contact: Contact) -> Call:
    """The agent says who is on ``call`` among the contacts sharing its number: the call
    shows them, and the agent's next call with that number pops them (NumberChoice).

    Raises CallNotValid when ``contact`` does not have the call's number.
    """
    e164 = _other_e164(call)
    if not e164 or not contact.phones.filter(e164=e164).exists():
        raise CallNotValid(f"{contact.full_name} does not have this number.")
    if call.agent_id is not None:
        number_choice_remember(agent_id=call.agent_id, e164=e164, contact=contact)
    phone = contact.phones.filter(e164=e164).first()
    call.contact = contact
    call.match_info = {
        **(call.match_info or {}),
        "rule": Rule.CHOICE,
        "number": phone.raw if phone else e164,
        "label": phone.get_label_display() if phone else "",
    }
    call.save(update_fields=["contact", "match_info", "updated_at"])
    _push([call])
    return call


def call_number_add_to_contact(
    *, call: Call, contact: Contact, label: str = "other", changed_by: Any = None
) -> Call:
    """Add the number of ``call``'s other party to ``contact`` (audited as a change made on
    a pop card); the call, and every call from that number after it, shows the contact.

    Raises CallNotValid for a call without an outside number (an internal call, a hidden
    caller ID).
    """
    e164 = _other_e164(call)
    if not e164:
        raise CallNotValid("This call has no outside number to add.")
    contact_phone_add(
        contact=contact, raw=call.other_number or e164, label=label,
        changed_by=changed_by, source="pop card",
    )
    calls_link_contact(contact=contact, e164=e164)
    call.refresh_from_db()
    return call


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
    from crm_cti.telephony.tasks import calllog_import

    transaction.on_commit(lambda: calllog_import.delay(agent.pk))
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
    return client_for_agent(agent).send_sms(
        from_number=from_number, to_numbers=[to_number], text=text
    )


def pager_send(*, agent: Agent, to_extension_numbers: list[str], text: str) -> dict[str, Any]:
    """Send a company pager message from ``agent``'s extension; RingCentral's record."""
    return client_for_agent(agent).send_pager(
        from_extension_number=agent.extension_number,
        to_extension_numbers=to_extension_numbers,
        text=text,
    )


def recording_open(*, agent: Agent, content_uri: str, byte_range: str = "") -> RecordingContent:
    """Open a recording's audio with ``agent``'s credential, for streaming; the caller closes
    it. ``byte_range`` is the player's ``Range`` header, passed on when well-formed."""
    byte_range = byte_range.replace(" ", "")
    return client_for_agent(agent).stream_recording_content(
        content_uri, byte_range=byte_range if _RANGE.match(byte_range) else None
    )
