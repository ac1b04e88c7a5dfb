"""The rules of a call's facts, written once: every path that writes a ``Call`` (events,
active calls, the call log, the history import, a contact made from a pop card) uses them.

- Final state: the call log's result names it best (voicemail, missed); else a call that
  was answered ended; else an inbound one was missed and an outbound one ended unanswered.
- Duration: talk time from the event times (connected → ended) until the call log's
  figure replaces it.
- Ending: ``call_end`` (ended_at, the final state, no missed deadline left); a record
  that has a start and a duration ends the call at start + duration (``call_end_time``).
- Parties: a blank number or name takes what a source reports; a known one is never
  overwritten (the first source to know it wins, in any order). When a number changes the
  E.164 forms and the contact match are refreshed (``call_numbers_refresh``), for the
  other party (``Call.other_number``).
- A NoCall for a call that only rang leaves it ringing until ``call_missed_deadline``.
- Telephony sessions: a party's facts (``call_party_facts``) and who took over from it
  (``call_peers_link``: "Answered by Priya Shah", the transferred call's first agent).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from django.conf import settings

from crm_cti.crm.matching import party_match
from crm_cti.crm.phones import try_normalize_e164
from crm_cti.telephony.models import Call

# Call-log results that name the final state better than the events can.
RESULT_STATES = {
    "Voicemail": Call.State.VOICEMAIL,
    "Missed": Call.State.MISSED,
}
ANSWERED_RESULTS = ("Accepted", "Call connected", "Call Connected")
# A party that ended unanswered for one of these reasons (telephony sessions' status.reason)
# was handled elsewhere (a colleague answered the queue call, it was forwarded, replied to,
# picked up): not missed.
HANDED_OVER_REASONS = ("AgentAnswered", "CallRedirected", "CallReplied", "BlindTransfer",
                       "AttendedTransfer", "Pickup")
# ... and for these the other party carries the same customer on: its card shows this one's
# notes and disposition.
TRANSFER_REASONS = ("BlindTransfer", "AttendedTransfer", "Pickup", "CallRedirected")
# The fields a source may fill when blank.
PARTY_FIELDS = ("from_number", "from_name", "to_number", "to_name")
NUMBER_FIELDS = ("from_number", "to_number")


def call_final_state(call: Call) -> str:
    """The state of an ended call from what we know: call-log result first, then events
    (a telephony session's VoiceMail, an answer, a party handed over: not missed)."""
    if call.result in RESULT_STATES:
        return RESULT_STATES[call.result]
    if call.reached_voicemail and call.answered_at is None:
        return Call.State.VOICEMAIL
    if call.answered_at is not None or call.result in ANSWERED_RESULTS:
        return Call.State.ENDED
    if call.party_reason in HANDED_OVER_REASONS:
        return Call.State.ENDED
    if call.direction == Call.Direction.INBOUND:
        return Call.State.MISSED
    return Call.State.ENDED


def call_duration(call: Call) -> int | None:
    """Talk time from the event times; the call log's figure replaces it once known."""
    if call.ended_at is None:
        return None
    if call.answered_at is None:
        return 0
    return max(int((call.ended_at - call.answered_at).total_seconds()), 0)


def call_end(call: Call, *, at: datetime) -> None:
    """End the call at ``at``: its final state, and no NoCall grace left pending."""
    call.ended_at = at
    call.state = call_final_state(call)
    call.missed_due_at = None


def call_end_time(
    *, started_at: datetime | None, duration: int | None, otherwise: datetime | None
) -> datetime | None:
    """When a record says the call ended: start + duration, when it has both."""
    if started_at is not None and duration is not None:
        return started_at + timedelta(seconds=duration)
    return otherwise


def call_blanks_fill(call: Call, values: Mapping[str, str]) -> bool:
    """Give the call's blank fields the values a source reports (a known value stays);
    returns whether a number was filled (then ``call_numbers_refresh``)."""
    number_filled = False
    for name, value in values.items():
        if value and not getattr(call, name):
            setattr(call, name, value)
            number_filled = number_filled or name in NUMBER_FIELDS
    return number_filled


def call_numbers_refresh(call: Call) -> None:
    """The numbers changed: their E.164 forms, and the other party's contact."""
    call.from_e164 = try_normalize_e164(call.from_number)
    call.to_e164 = try_normalize_e164(call.to_number)
    call_match_other_party(call)


def call_match_other_party(call: Call) -> None:
    """Link the contact (or the internal agent's name) for the other party's number."""
    match = party_match(raw_number=call.other_number, agent_id=call.agent_id)
    call.contact = match.contact
    call.contact_matches = match.contact_count
    call.match_info = match.info
    if match.agent is not None:
        name = match.agent.name or match.agent.user.get_username()
        if call.direction == Call.Direction.INBOUND and not call.from_name:
            call.from_name = name
        elif call.direction == Call.Direction.OUTBOUND and not call.to_name:
            call.to_name = name


def call_missed_deadline(*, now: datetime) -> datetime | None:
    """Until when a NoCall for a call that only rang leaves it ringing (another device may
    ring next); None: no grace (``CALL_MISSED_GRACE_SECONDS`` 0), it ends the call at once."""
    grace = settings.CALL_MISSED_GRACE_SECONDS
    return now + timedelta(seconds=grace) if grace > 0 else None


def call_party_facts(call: Call, *, party_id: str, party_status: str, party_reason: str,
                     peer_party_id: str, park_orbit: str, queue_call: bool,
                     newest: bool) -> None:
    """What a telephony-session party tells about the call. Facts that hold whatever the
    order (its id, that it reached voicemail, who took over) are kept from any event; the
    status, its reason and the orbit only from the newest."""
    if party_id and not call.party_id:
        call.party_id = party_id
    if party_status in ("VoiceMail", "VoiceMailScreening"):
        call.reached_voicemail = True
    if queue_call:
        call.queue_call = True
    if peer_party_id and not call.peer_party_id:
        call.peer_party_id = peer_party_id
    if newest:
        call.party_status = party_status
        call.party_reason = party_reason
        if park_orbit:
            call.park_orbit = park_orbit


def _party_name(call: Call) -> str:
    if call.agent is not None and call.agent.name:
        return call.agent.name
    return (call.to_name if call.direction == Call.Direction.INBOUND else call.from_name) or ""


def call_peers_link(call: Call, others: list[Call]) -> list[Call]:
    """Link ``call`` with the calls of its telephony session that took over from it or that
    it took over from (``peer_party_id``), whichever arrived first; returns the others that
    changed. A transferred call learns whose it was (``transferred_from``), the first one
    learns who has it now (``peer_name``)."""
    changed = []
    for other in others:
        if other is call or other.telephony_session_id != call.telephony_session_id:
            continue
        before = (other.peer_name, other.transferred_from_id)
        for earlier, later in ((call, other), (other, call)):
            if not earlier.peer_party_id or earlier.peer_party_id != later.party_id:
                continue
            name = _party_name(later)
            if name:
                earlier.peer_name = name
            if (earlier.party_reason in TRANSFER_REASONS and earlier.pk is not None
                    and later.transferred_from_id is None):
                later.transferred_from = earlier
        if (other.peer_name, other.transferred_from_id) != before:
            changed.append(other)
    return changed
