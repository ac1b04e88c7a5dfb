"""The call tracker: the state machine from parsed notifications to ``Call`` rows, and the
batch persistence around it. Called by services/events.py (``events_process_batch``),
inside its transaction; the facts of a call follow call_rules.py, the payloads are parsed
by notifications/.

Rules (README "How a call becomes a pop", and the seed flows in crm_cti/sandbox/):

- A call is identified by its ``sessionId`` on one extension. Each event lists every call of
  the extension (``activeCalls``), so every item is handled: concurrent calls are normal.
- Several items of one session are legs (several devices ringing, or a RingOut's two legs);
  the session's status is aggregated over them: connected beats on hold beats parked beats
  ringing beats ``NoCall``.
- Order: the extension row is locked (``select_for_update``) so two workers applying
  events of one extension serialise. Each call remembers the newest ``sequence`` that set
  its state; an event not newer than that does not change the state. It still contributes
  *facts* that do not depend on order: the earliest time the call was seen, and the
  earliest time it was seen connected. So a late ``CallConnected`` still turns a call that
  looked missed into an answered one, and applying the same events in any order, or any
  event twice, gives the same rows.
- ``NoCall`` after connected = ended (answered), at once; after only ringing = missed for an
  inbound call, ended (unanswered) for an outbound one; voicemail comes from the call log's
  result; durations from the event times (connected → ended is the talk time). A leg marked
  ``terminationType: intermediate`` (the transitional ``NoCall`` when several devices ring)
  ends nothing. That marker is deprecated, so a ``NoCall`` for a call that only rang, unless
  marked ``final``, leaves it ringing with a deadline (``missed_due_at``,
  ``CALL_MISSED_GRACE_SECONDS`` away) and pushes nothing: a newer ``Ringing``/
  ``CallConnected`` inside the grace clears it; past it the call ends as of the ``NoCall``
  (``calls_missed_expire``, by a delayed task and the events sweep). A newer live status
  after such an end reopens the same row: one call, one pop.
- Telephony sessions (``CallControl``) report each party with its own extension, in the
  session's own ``sequence`` (events are ordered per session: their key is the session's,
  notifications/telephony_sessions.py). A party is a leg of its extension's call, the same
  row presence makes (same ``sessionId``, or the same ``telephonySessionId``): one call, one
  card. Once a session event set a call's state, the session decides it (``session_sequence``
  orders them) and presence only adds facts (and carries a ringing call to answered, should
  the session's Answered be lost), so presence's transitional NoCall is never an end; a
  session's end is final (no grace), and a live status never reopens an ended call (sessions
  send no transitional ends: it is an old event arriving late).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone

from crm_cti.accounts.models import Agent
from crm_cti.telephony.call_rows import CallRows
from crm_cti.telephony.call_rules import (
    call_blanks_fill,
    call_duration,
    call_end,
    call_final_state,
    call_missed_deadline,
    call_numbers_refresh,
    call_party_facts,
    call_peers_link,
)
from crm_cti.telephony.call_views import SessionView, is_session, views_of
from crm_cti.telephony.hot_sql import events_mark_processed, extension_states_save
from crm_cti.telephony.models import Call, ExtensionState, TelephonyEvent
from crm_cti.telephony.notifications import (
    InvalidEvent,
    ParsedEvent,
    event_parse,
)
from crm_cti.telephony.notifications.messages import KIND as MESSAGE_KIND
from crm_cti.telephony.serializers import call_to_dict

logger = logging.getLogger(__name__)

LIVE_STATE_FOR_STATUS = {
    "Ringing": Call.State.RINGING,
    "CallConnected": Call.State.CONNECTED,
    "OnHold": Call.State.ON_HOLD,
    "ParkedCall": Call.State.PARKED,
}
ANSWERED_STATUSES = ("CallConnected", "OnHold", "ParkedCall")

# Fields whose change is worth a push to the browser.
PUSHED_FIELDS = (
    "state", "direction", "from_number", "from_name", "to_number", "to_name", "contact_id",
    "contact_matches", "started_at", "answered_at", "ended_at", "duration", "result",
    "recording", "legs", "telephony_session_id", "agent_id", "party_id", "party_status",
    "party_reason", "peer_name", "park_orbit", "hold_started_at", "reached_voicemail",
    "transferred_from_id",
)


def _snapshot(call: Call) -> tuple:
    return tuple(getattr(call, name) for name in PUSHED_FIELDS)


def _min_time(current: datetime | None, candidate: datetime | None) -> datetime | None:
    if candidate is None:
        return current
    if current is None or candidate < current:
        return candidate
    return current


def _apply_view(
    *, call: Call, view: SessionView, sequence: int, at: datetime, newest: bool,
    missed_due_at: datetime | None = None, session: bool = False,
) -> None:
    """``missed_due_at``: the deadline a NoCall for a call that only rang gets (None = no
    grace, it ends the call at once). ``session``: the view is a telephony session's party
    (``newest`` then compares with ``session_sequence``)."""
    # Facts that do not depend on the order of events.
    call.started_at = _min_time(call.started_at, view.start_time or at)
    if view.status in ANSWERED_STATUSES:
        call.answered_at = _min_time(call.answered_at, at)
    filled = call_blanks_fill(call, view.facts)
    if filled or call.pk is None:
        call_numbers_refresh(call)
    party = view.party
    if session and party is not None:
        call_party_facts(
            call, party_id=party.leg_id, party_status=party.party_status,
            party_reason=party.party_reason, peer_party_id=party.peer_party_id,
            park_orbit=party.park_orbit, queue_call=party.queue_call, newest=newest,
        )

    # Presence sets the state until a telephony session speaks for the call; after that it
    # may only carry a ringing call forward to answered (a session's Answered lost on the
    # way), never end, reopen or turn back a call.
    sets_state = newest and (
        session or call.session_sequence == 0
        or (call.state == Call.State.RINGING and view.status in ANSWERED_STATUSES)
    )
    if newest and session:
        call.session_sequence = sequence
        call.last_event_at = at
    elif newest:
        call.last_sequence = sequence
        if call.session_sequence == 0:
            call.last_event_at = at
    if sets_state:
        if view.status != "NoCall" and session and call.state in Call.FINAL_STATES:
            pass  # an old live party status arriving late: the session's end stands
        elif (session and view.status == "Ringing" and call.answered_at is not None
              and party is not None and party.leg_id == call.party_id):
            # The party's Setup/Proceeding applied after presence said it answered (each
            # kind is applied in its own order): old news, the call does not ring again.
            # A new party of this extension (transferred back) does ring.
            pass
        elif view.status != "NoCall":
            if call.state in Call.FINAL_STATES:
                # Reopened by a newer event (transitional NoCall): the same card carries on.
                call.ended_at = None
                call.duration = None
                if call.enrichment == Call.Enrichment.PENDING:
                    call.enrichment = Call.Enrichment.NONE
            state = LIVE_STATE_FOR_STATUS[view.status]
            if state == Call.State.ON_HOLD and (call.state != Call.State.ON_HOLD
                                                or call.hold_started_at is None):
                call.hold_started_at = at  # the card's hold timer runs from here
            call.state = state
            # Inside the grace: the NoCall was transitional, nothing was pushed for it.
            call.missed_due_at = None
        elif not view.intermediate and call.state not in Call.FINAL_STATES:
            if call.answered_at is None and not view.final and missed_due_at is not None:
                # Maybe another device rings next: the call still shows as ringing.
                call.missed_due_at = missed_due_at
            else:
                call_end(call, at=at)
    if (call.missed_due_at is not None and call.answered_at is not None
            and call.state not in Call.FINAL_STATES):
        # A late (older) "connected": the pending NoCall ended an answered call, when it came.
        call_end(call, at=call.last_event_at or at)
    if call.state != Call.State.ON_HOLD:
        call.hold_started_at = None
    if session and view.status == "NoCall" and call.state in Call.FINAL_STATES:
        # A session's end is never transitional: the party ended at its first end (VoiceMail
        # before Disconnected), whichever arrived first.
        call.ended_at = _min_time(call.ended_at, at)
    if call.state in Call.FINAL_STATES:
        # A late "connected" turns a call that looked missed into an answered one.
        call.state = call_final_state(call)
        if call.enrichment != Call.Enrichment.DONE:
            call.duration = call_duration(call)


@dataclass(frozen=True)
class EnrichmentPlan:
    """How the tracker marks a call it ends as waiting for its call-log record, in the same
    transaction (a separate one per batch cost four round trips): ``due_at`` is when the
    record should be there; ``account_mode`` says the service credential fetches for calls
    with no agent too."""

    due_at: datetime
    account_mode: bool = False

    def wants(self, call: Call) -> bool:
        return call.enrichment != Call.Enrichment.DONE and (
            self.account_mode or call.agent_id is not None
        )

    def mark(self, call: Call) -> bool:
        """Mark an ended call as waiting for its record, if it wants one; returns whether
        it did. Caller saves."""
        if not self.wants(call):
            return False
        call.enrichment = Call.Enrichment.PENDING
        call.enrich_due_at = self.due_at
        return True


@dataclass
class ApplyResult:
    # Calls that changed, each once, in the order they first changed.
    changed_call_ids: list[int] = field(default_factory=list)
    ended_call_ids: list[int] = field(default_factory=list)
    # The call objects to push, one per change, in the order the changes happened.
    messages: list[dict[str, Any]] = field(default_factory=list)
    # Beside each message: when the event that made the change was stored (pop receipts).
    message_event_at: list[datetime | None] = field(default_factory=list)
    # Calls a NoCall left ringing with a new missed_due_at: check them when it has passed.
    missed_pending_call_ids: list[int] = field(default_factory=list)
    # Message-store notifications: no call to apply them to; messaging applies them after
    # the commit (events._applied_publish hands them on by task name).
    message_event_ids: list[int] = field(default_factory=list)
    applied_events: int = 0


def extensions_apply(
    *, extension_ids: list[str], result: ApplyResult, enrichment: EnrichmentPlan | None = None
) -> dict[int, str]:
    """Apply every pending event of these extensions, inside the caller's transaction,
    adding to ``result``; returns each applied event's outcome.

    A batch of extensions costs a handful of queries, not a handful per event: the
    extensions' rows are locked in one statement (in id order, so two appliers never wait
    on each other in a cycle), their pending events, agents and states read at once, and
    the events marked processed with one UPDATE per outcome.
    """
    ids = sorted(set(extension_ids))
    states = _states_lock(ids)
    missing = [ext for ext in ids if ext not in states]
    if missing:
        # An extension's first event: its row is made once (a concurrent applier may make it
        # at the same moment, hence ignore_conflicts), then locked like the others.
        ExtensionState.objects.bulk_create(
            [ExtensionState(rc_extension_id=ext) for ext in missing], ignore_conflicts=True
        )
        states.update(_states_lock(missing))
    pending: dict[str, list[TelephonyEvent]] = {}
    for event in (
        TelephonyEvent.objects.select_for_update()
        .filter(rc_extension_id__in=ids, processed_at__isnull=True)
        .order_by("rc_extension_id", "sequence", "pk")
    ):
        pending.setdefault(event.rc_extension_id, []).append(event)
    if not pending:
        return {}
    parsed = {event.pk: _parse_stored(event) for events in pending.values() for event in events}
    # A telephony-session event's parties name their extensions (its key is the session's).
    party_extensions = {
        ext for event in parsed.values() if isinstance(event, ParsedEvent)
        for ext, _view in views_of(event)
    }
    agents = {
        a.rc_extension_id: a
        for a in Agent.objects.filter(rc_extension_id__in=list(party_extensions | set(pending)))
    }
    missed_due_at = call_missed_deadline(now=timezone.now())
    calls = CallRows.lock(parsed.values())
    outcomes: dict[int, str] = {}
    moved_states = []
    for extension_id, events in pending.items():
        ext_state = states[extension_id]
        sequence_before = ext_state.last_sequence
        for event in events:
            outcomes[event.pk] = _event_apply_one(
                event=event, parsed=parsed[event.pk], ext_state=ext_state,
                agents=agents, calls=calls, result=result,
                enrichment=enrichment, missed_due_at=missed_due_at,
            )
        if ext_state.last_sequence != sequence_before:
            moved_states.append(ext_state)
    calls.save_changed()
    now = timezone.now()
    extension_states_save(moved_states, now=now)
    by_outcome: dict[str, list[int]] = {}
    for pk, outcome in outcomes.items():
        if outcome != TelephonyEvent.Outcome.FAILED:  # saved with its error already
            by_outcome.setdefault(outcome, []).append(pk)
    for outcome, pks in by_outcome.items():
        events_mark_processed(pks=pks, outcome=outcome, now=now)
    return outcomes


def _states_lock(ids: list[str]) -> dict[str, ExtensionState]:
    # In id order, so two appliers locking overlapping batches never wait in a cycle.
    return {
        state.rc_extension_id: state
        for state in ExtensionState.objects.select_for_update()
        .filter(rc_extension_id__in=ids)
        .order_by("rc_extension_id")
    }


def _parse_stored(event: TelephonyEvent) -> ParsedEvent | InvalidEvent:
    try:
        return event_parse(event.payload)
    except InvalidEvent as exc:
        return exc


def _event_apply_one(
    *,
    event: TelephonyEvent,
    parsed: ParsedEvent | InvalidEvent,
    ext_state: ExtensionState,
    agents: dict[str, Agent],
    calls: CallRows,
    result: ApplyResult,
    enrichment: EnrichmentPlan | None,
    missed_due_at: datetime | None = None,
) -> str:
    if isinstance(parsed, InvalidEvent):
        event.processed_at = timezone.now()
        event.outcome = TelephonyEvent.Outcome.FAILED
        event.error = str(parsed)
        event.save(update_fields=["processed_at", "outcome", "error"])
        return event.outcome
    if parsed.kind == MESSAGE_KIND:
        result.message_event_ids.append(event.pk)
        result.applied_events += 1
        return TelephonyEvent.Outcome.APPLIED
    at = parsed.timestamp or event.received_at or timezone.now()
    newer_than_extension = parsed.sequence > ext_state.last_sequence
    any_newest = False
    session = is_session(parsed)
    for extension_id, view in views_of(parsed):
        agent = agents.get(extension_id)
        call = calls.get(extension_id, view.session_id,
                         view.facts.get("telephony_session_id", ""))
        before = None
        if call is None:
            call = Call(
                rc_extension_id=extension_id,
                session_id=view.session_id,
                direction=view.direction,
                agent=agent,
                state=LIVE_STATE_FOR_STATUS.get(view.status, Call.State.RINGING),
            )
        else:
            before = _snapshot(call)
            if call.agent_id is None and agent is not None:
                call.agent = agent
        was_final = call.pk is not None and call.state in Call.FINAL_STATES
        due_before = call.missed_due_at
        newest = parsed.sequence > (call.session_sequence if session else call.last_sequence)
        any_newest = any_newest or newest
        _apply_view(call=call, view=view, sequence=parsed.sequence, at=at, newest=newest,
                    missed_due_at=missed_due_at, session=session)
        changed = before is None or _snapshot(call) != before
        ended_now = call.state in Call.FINAL_STATES and not was_final
        if ended_now and enrichment is not None:
            enrichment.mark(call)
        if changed or newest:
            calls.save(call)
        if session and call.telephony_session_id:
            _peers_apply(call, calls, result)
            changed = changed or (before is not None and _snapshot(call) != before)
        if (call.missed_due_at is not None and call.missed_due_at != due_before
                and call.pk not in result.missed_pending_call_ids):
            result.missed_pending_call_ids.append(call.pk)
        elif call.missed_due_at is None and call.pk in result.missed_pending_call_ids:
            # Carried on within the same batch: nothing left to check.
            result.missed_pending_call_ids.remove(call.pk)
        if changed:
            if call.pk not in result.changed_call_ids:
                result.changed_call_ids.append(call.pk)
            result.messages.append(call_to_dict(call))
            result.message_event_at.append(event.received_at)
            if ended_now:
                result.ended_call_ids.append(call.pk)
    if newer_than_extension:
        # Saved, with the event's outcome, once per batch (extensions_apply).
        ext_state.last_sequence = parsed.sequence
        ext_state.last_event_at = at
    result.applied_events += 1
    return (
        TelephonyEvent.Outcome.APPLIED
        if newer_than_extension or any_newest
        else TelephonyEvent.Outcome.STALE
    )


def _peers_apply(call: Call, calls: CallRows, result: ApplyResult) -> None:
    """Link the call with the parties of its session that took over from it (or it from
    them), in whichever order they arrived; the others that changed are saved and pushed."""
    before = _snapshot(call)
    for other in call_peers_link(call, calls.in_session(call.telephony_session_id)):
        calls.save(other)
        if other.pk not in result.changed_call_ids:
            result.changed_call_ids.append(other.pk)
        result.messages.append(call_to_dict(other))
    if _snapshot(call) != before:
        calls.save(call)


def calls_missed_expire(
    *, now: datetime, enrichment: EnrichmentPlan | None = None,
    call_ids: list[int] | None = None,
) -> ApplyResult:
    """End the calls whose pending NoCall's grace has passed with no newer event, inside the
    caller's transaction: ended as of that NoCall (``last_event_at``, the newest event's
    time), exactly as the NoCall would have ended them at once. ``call_ids`` limits it to
    those calls (the delayed check); without, every due call (the sweep).

    The rows are locked like the tracker locks them (calls in id order, after nothing
    else), and PostgreSQL re-checks the filter on a row a tracker just committed: a call a
    newer Ringing carried on is no longer due, and is left alone.
    """
    result = ApplyResult()
    rows = (
        Call.objects.select_for_update(of=("self",))
        .select_related("contact")
        .filter(missed_due_at__lte=now)
        .order_by("pk")
    )
    if call_ids is not None:
        rows = rows.filter(pk__in=call_ids)
    for call in rows[:1000]:
        if call.state in Call.FINAL_STATES:
            # Ended meanwhile by reconciliation or the call log: only the mark is left.
            Call.objects.filter(pk=call.pk).update(missed_due_at=None)
            continue
        call_end(call, at=call.last_event_at or now)
        call.duration = call_duration(call)
        if enrichment is not None:
            enrichment.mark(call)
        call.save()
        result.changed_call_ids.append(call.pk)
        result.ended_call_ids.append(call.pk)
        result.messages.append(call_to_dict(call))
        result.message_event_at.append(None)  # no event made it: the grace ran out
    return result
