"""Applying stored events: the batch path every mode takes (the applier in distributed
mode, the ``telephony.event_process`` task in embedded mode), what happens after the
commit (pushes, enrichment), the NoCall grace's end, giving up on events that fail.

Route: stream.Applier (or tasks.event_process) → ``events_process`` →
``events_process_batch`` → tracker.extensions_apply, in one transaction → push (journaled
first, push.py) → services/calllog and services/activecalls schedule the enrichment
through dispatch.py.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from crm_cti.telephony import dispatch
from crm_cti.telephony.models import Call, ExtensionState, TelephonyEvent
from crm_cti.telephony.notifications.telephony_sessions import ORDER_KEY_PREFIX
from crm_cti.telephony.push import push_call_dicts, push_journal_add, push_journal_done
from crm_cti.telephony.services.activecalls import active_calls_refresh_schedule
from crm_cti.telephony.services.calllog import call_log_fetch_schedule
from crm_cti.telephony.services.scopes import account_mode_active, enrichment_plan, scope_key_of
from crm_cti.telephony.tracker import ApplyResult, calls_missed_expire, extensions_apply

logger = logging.getLogger(__name__)


def event_process(*, event_id: int) -> None:
    """Where events are tasks (embedded mode, eager Celery), the ``telephony.event_process``
    task's work: the event's extension's pending events, through the applier's path
    (``events_process``). No stream delivers an event again there, so the batch is every
    pending event of the extension: one that fails is counted whichever task meets it."""
    extension_id = (
        TelephonyEvent.objects.filter(pk=event_id, processed_at__isnull=True)
        .values_list("rc_extension_id", flat=True).first()
    )
    if extension_id is None:
        return
    pending = list(
        TelephonyEvent.objects.filter(rc_extension_id=extension_id, processed_at__isnull=True)
        .values_list("pk", flat=True)
    )
    events_process(event_ids=pending, extension_ids=[extension_id])


def events_process(*, event_ids: list[int], extension_ids: list[str] | None = None) -> set[int]:
    """Apply a batch (``events_process_batch``); when it fails with the database answering,
    apply its events one by one, so that only the failing ones wait for another try.
    Returns the ids of those (each failure counted, EVENT_MAX_ATTEMPTS then given up on).

    An outage (the database does not answer) raises: nothing is counted, the caller keeps
    the batch for later (the applier retries it, a task's event is swept again)."""
    try:
        events_process_batch(event_ids=event_ids, extension_ids=extension_ids)
    except Exception:
        if not database_answers():
            raise
        logger.exception("batch of %d events failed; applying one by one", len(event_ids))
        return events_failures_record(events_apply_isolated(event_ids=event_ids))
    return set()


def events_process_batch(*, event_ids: list[int], extension_ids: list[str] | None = None) -> int:
    """Apply a batch of stored events (the unit of work of every mode); returns how many
    extensions were brought up to date.

    Every pending event of the batch's extensions is applied, in sequence order per
    extension, under the extensions' locks, in one transaction (tracker.extensions_apply).
    The stream's entries name each event's extension (``extension_ids``), which spares a
    query; without them they are read from the events.
    """
    if not extension_ids:
        extension_ids = list(
            TelephonyEvent.objects.filter(pk__in=event_ids, processed_at__isnull=True)
            .order_by()  # the model's ordering would make DISTINCT keep one row per event
            .values_list("rc_extension_id", flat=True)
            .distinct()
        )
    if not extension_ids:
        return 0
    account_mode = account_mode_active()
    result = ApplyResult()
    with transaction.atomic():
        extensions_apply(
            extension_ids=extension_ids, result=result, enrichment=enrichment_plan(account_mode)
        )
        journal = push_journal_add(call_ids=result.changed_call_ids)
    _applied_publish(result, journal, account_mode=account_mode)
    return len(extension_ids)


def _applied_publish(result: ApplyResult, journal: str | None, *, account_mode: bool) -> None:
    """After the commit: push what changed, then start enrichment off the hot path."""
    if result.missed_pending_call_ids:
        call_missed_check_schedule(call_ids=result.missed_pending_call_ids)
    if result.message_event_ids:
        message_events_hand_on(event_ids=result.message_event_ids)
    if not result.changed_call_ids:
        return
    push_call_dicts(result.messages, result.message_event_at)
    push_journal_done(journal)
    # The pushed messages carry each call's agent: no query needed to find the scopes. The
    # tracker already marked the calls it ended as waiting for the call log.
    agent_of = {message["id"]: message.get("agent_id") for message in result.messages}
    ended_scopes = {scope_key_of(agent_of.get(pk), account_mode) for pk in result.ended_call_ids}
    for key in ended_scopes - {None}:
        call_log_fetch_schedule(scope_key=key, countdown=settings.CALL_LOG_DELAY_SECONDS)
    scopes = {scope_key_of(message.get("agent_id"), account_mode) for message in result.messages}
    for key in scopes - {None}:
        active_calls_refresh_schedule(scope_key=key)


def message_events_hand_on(*, event_ids: list[int]) -> None:
    """Messaging applies stored message-store events (its task, by name: telephony never
    imports messaging). A lost hand-on is repaired by messaging's periodic sync."""
    try:
        dispatch.send(dispatch.MESSAGE_EVENTS_APPLY, sorted(set(event_ids)))
    except Exception:
        logger.exception("could not hand %d message events on; the message sync will",
                         len(event_ids))


def call_missed_check_schedule(*, call_ids: list[int]) -> None:
    """Check these calls once their grace after a NoCall has passed (calls_missed_end)."""
    dispatch.later(dispatch.CALL_MISSED_CHECK, args=[sorted(set(call_ids))],
                   countdown=settings.CALL_MISSED_GRACE_SECONDS)


def calls_missed_end(*, call_ids: list[int] | None = None) -> float | None:
    """End the calls whose grace after a NoCall passed with no newer event (missed, or ended
    when outbound), push them and start their enrichment, as the tracker does for a call it
    ends. ``call_ids``: only those (the delayed check), and return the seconds until the
    next of them is due, or None; without, every due call (the sweep's safety net for a lost
    check)."""
    now = timezone.now()
    due = Call.objects.filter(missed_due_at__lte=now)
    if call_ids is not None:
        due = due.filter(pk__in=call_ids)
    if due.exists():
        account_mode = account_mode_active()
        with transaction.atomic():
            result = calls_missed_expire(
                now=now, enrichment=enrichment_plan(account_mode), call_ids=call_ids
            )
            journal = push_journal_add(call_ids=result.changed_call_ids)
        _applied_publish(result, journal, account_mode=account_mode)
    if call_ids is None:
        return None
    # A check that ran early (or a deadline a newer NoCall moved) waits for the rest.
    nxt = (
        Call.objects.filter(pk__in=call_ids, missed_due_at__isnull=False)
        .order_by("missed_due_at").values_list("missed_due_at", flat=True).first()
    )
    return None if nxt is None else max((nxt - timezone.now()).total_seconds(), 0.05)


def events_fail(*, event_ids: list[int], error: str) -> int:
    """Give up on events: marked failed with ``error`` (the operations page lists them) and
    processed, so that they no longer hold up their extension's later events."""
    if not event_ids:
        return 0
    count = TelephonyEvent.objects.filter(pk__in=event_ids, processed_at__isnull=True).update(
        processed_at=timezone.now(), outcome=TelephonyEvent.Outcome.FAILED, error=error[:2000]
    )
    if count:
        logger.error("gave up on %d events (%s): %s", count, sorted(event_ids)[:20], error)
    return count


def events_failures_record(failures: dict[int, str]) -> set[int]:
    """Count a failed application of each event (``{event id: error}``); those failed
    ``EVENT_MAX_ATTEMPTS`` times are given up on. Returns the ids still worth another try."""
    if not failures:
        return set()
    for pk, error in failures.items():
        TelephonyEvent.objects.filter(pk=pk, processed_at__isnull=True).update(
            attempts=F("attempts") + 1, error=error[:2000]
        )
    rows = dict(
        TelephonyEvent.objects.filter(pk__in=list(failures), processed_at__isnull=True)
        .values_list("pk", "attempts")
    )
    exhausted = [pk for pk, attempts in rows.items() if attempts >= settings.EVENT_MAX_ATTEMPTS]
    for pk in exhausted:
        events_fail(
            event_ids=[pk],
            error=f"failed {rows[pk]} times: {failures[pk]}",
        )
    return set(rows) - set(exhausted)


def database_answers() -> bool:
    """Whether the database takes a query now: tells an outage (wait, count nothing) from an
    event that fails on its own (count it against that event)."""
    from django.db import DatabaseError, close_old_connections, connection

    close_old_connections()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except DatabaseError:
        return False


def events_apply_isolated(*, event_ids: list[int]) -> dict[int, str]:
    """Apply each of these events on its own, in its own transaction, so that one event the
    tracker cannot apply (a bug, a row the database refuses) does not fail the others of its
    batch or of its extension. Returns ``{event id: error}`` for those that failed.

    The tracker applies every pending event of an extension at once; here the extension's
    other pending events are set aside (marked processed inside the transaction, unmarked
    before it commits, so nobody else ever sees the mark) while one is applied. The tracker
    is order-safe, so applying an extension's events apart and in another order gives the
    rows applying them together would have.
    """
    failures: dict[int, str] = {}
    pending = list(
        TelephonyEvent.objects.filter(pk__in=event_ids, processed_at__isnull=True)
        .order_by("rc_extension_id", "sequence", "pk")
        .values_list("pk", "rc_extension_id")
    )
    account_mode = account_mode_active()
    for pk, extension_id in pending:
        try:
            _event_apply_alone(pk, extension_id, account_mode=account_mode)
        except Exception as exc:
            if not database_answers():
                raise  # an outage, not this event: the caller retries everything later
            logger.exception("event %s failed on its own", pk)
            failures[pk] = f"{type(exc).__name__}: {exc}"
    return failures


def _event_apply_alone(pk: int, extension_id: str, *, account_mode: bool) -> None:
    result = ApplyResult()
    with transaction.atomic():
        # The extension's row is locked first, as the tracker does, so that setting its
        # other events aside never waits in a cycle with an applier.
        ExtensionState.objects.bulk_create(
            [ExtensionState(rc_extension_id=extension_id)], ignore_conflicts=True
        )
        list(ExtensionState.objects.select_for_update().filter(rc_extension_id=extension_id))
        others = list(
            TelephonyEvent.objects.select_for_update()
            .filter(rc_extension_id=extension_id, processed_at__isnull=True)
            .exclude(pk=pk)
            .values_list("pk", flat=True)
        )
        if others:
            TelephonyEvent.objects.filter(pk__in=others).update(processed_at=timezone.now())
        extensions_apply(
            extension_ids=[extension_id], result=result,
            enrichment=enrichment_plan(account_mode),
        )
        if others:
            TelephonyEvent.objects.filter(pk__in=others).update(processed_at=None)
        journal = push_journal_add(call_ids=result.changed_call_ids)
    _applied_publish(result, journal, account_mode=account_mode)


def events_prune() -> int:
    """Delete applied events older than ``EVENT_RETENTION_DAYS`` (the calls keep the facts)."""
    cutoff = timezone.now() - timedelta(days=settings.EVENT_RETENTION_DAYS)
    deleted, _ = TelephonyEvent.objects.filter(
        processed_at__isnull=False, received_at__lt=cutoff
    ).delete()
    # A telephony session's ordering row (one per call) is no use once its events are gone;
    # an extension's is kept (its sequence goes on).
    ExtensionState.objects.filter(
        rc_extension_id__startswith=ORDER_KEY_PREFIX, updated_at__lt=cutoff
    ).exclude(
        rc_extension_id__in=TelephonyEvent.objects.values("rc_extension_id")
    ).delete()
    return deleted
