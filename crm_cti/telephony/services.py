"""Telephony actions: event processing, enrichment, reconciliation, subscriptions, RingOut.

Views, tasks and signal receivers call these functions and stay thin. Anything that talks
to RingCentral runs in a Celery task, never in the webhook view, and asks the shared rate
budget first: work that would exceed it is rescheduled (``countdown``), never dropped.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from crm_cti.accounts.models import Agent
from crm_cti.crm.phones import (
    InvalidPhoneNumber,
    is_extension_number,
    normalize_e164,
    try_normalize_e164,
)
from crm_cti.ringcentral.errors import (
    NeedsSignIn,
    NotFound,
    RateLimited,
    RingCentralError,
)
from crm_cti.telephony.models import (
    Call,
    CallLogSync,
    ExtensionState,
    RingOut,
    Subscription,
    TelephonyEvent,
)
from crm_cti.telephony.push import (
    push_call,
    push_call_dicts,
    push_calls,
    push_journal_add,
    push_journal_done,
    push_journal_replay,
    push_ringout,
)
from crm_cti.telephony.tracker import (
    DIRECTIONS,
    PUSHED_FIELDS,
    ApplyResult,
    EnrichmentPlan,
    call_duration,
    call_final_state,
    call_match_other_party,
    calls_missed_expire,
    event_apply,
    extensions_apply,
    parse_time,
)

logger = logging.getLogger(__name__)

EXTENSION_EVENT_FILTER = "/restapi/v1.0/account/~/extension/~/presence?detailedTelephonyState=true"
ACCOUNT_EVENT_FILTER = "/restapi/v1.0/account/~/presence?detailedTelephonyState=true"
ACCOUNT_SCOPE = "account"
# A ringing call absent from active calls is ended only after this long without events.
RINGING_ABSENT_GRACE = timedelta(seconds=120)
# Active-calls results of a call that is still going on; any other result means it ended.
LIVE_RESULTS = ("In Progress", "Ringing", "")
# The events sweep re-announces at most this many events per run, reading the unapplied
# ones in pages of this size, at most this many pages.
SWEEP_BATCH = 1000
SWEEP_PAGES = 20
# An unfinished RingOut not polled for this many intervals (plus a margin, for a busy worker)
# has lost its chain of polls: the sweep starts a new one.
RINGOUT_LOST_AFTER_POLLS = 3
RINGOUT_LOST_MARGIN = 10.0
# A subscription whose re-creation failed keeps its row with this status until a
# replacement exists (Subscription.status is free text: the platform's own, and this).
SUBSCRIPTION_RECREATING = "Recreating"
# Longest a subscription check holds its owner's lock (a few platform requests).
SUBSCRIPTION_LOCK_SECONDS = 120.0


class RingOutInvalid(ValueError):
    """The RingOut request is wrong (bad number); the message says which field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


# --------------------------------------------------------------------------- scheduling


def tasks_are_eager() -> bool:
    """Eager Celery (tests, manage.py commands) cannot delay work: leave it to the sweeps."""
    from crm_cti.celery import app

    return bool(app.conf.task_always_eager)


def task_later(task: Any, *, args: list[Any], countdown: float) -> bool:
    """``apply_async`` with a countdown, or nothing in eager mode (the beat sweeps pick the
    pending work up). Returns whether it was scheduled."""
    if tasks_are_eager():
        logger.debug("eager mode: %s%s left for the periodic sweep", task.name, args)
        return False
    try:
        task.apply_async(args=args, countdown=max(float(countdown), 0.0))
    except Exception:
        logger.exception("could not schedule %s%s; the periodic sweep will", task.name, args)
        return False
    return True


# --------------------------------------------------------------------------- clients


@dataclass
class Scope:
    """Who asks RingCentral about a set of calls: one agent, or the account (service)."""

    key: str
    client: Any
    user_key: str
    account_level: bool
    agent: Agent | None = None

    def calls(self) -> QuerySet[Call]:
        if self.agent is not None:
            return Call.objects.filter(agent=self.agent)
        return Call.objects.all()


def account_mode_active() -> bool:
    """An active account-level subscription exists and the service credential is set."""
    if not settings.RC_JWT:
        return False
    return Subscription.objects.filter(
        mode=Subscription.Mode.ACCOUNT, status="Active"
    ).exists()


def scope_key_for_call(call: Call) -> str | None:
    return _scope_key(call.agent_id, account_mode_active())


def _scope_key(agent_id: int | None, account_mode: bool) -> str | None:
    if account_mode:
        return ACCOUNT_SCOPE
    if agent_id is not None:
        return f"agent:{agent_id}"
    return None


def scope_resolve(key: str) -> Scope | None:
    """The client for a scope key, or None when nobody can ask (signed out, no service)."""
    from crm_cti.accounts.services import client_for_agent, service_client

    if key == ACCOUNT_SCOPE:
        client = service_client()
        if client is None:
            return None
        return Scope(key=key, client=client, user_key=client.user_key,
                     account_level=True)
    agent_id = int(key.split(":", 1)[1])
    agent = Agent.objects.filter(pk=agent_id).first()
    if agent is None or agent.needs_signin:
        return None
    try:
        client = client_for_agent(agent)
    except NeedsSignIn:
        return None
    return Scope(key=key, client=client, user_key=client.user_key,
                 account_level=False, agent=agent)


def _heavy_wait(scope: Scope) -> float:
    from crm_cti.ringcentral.budget import budget_wait_seconds

    return budget_wait_seconds(user_key=scope.user_key, group="Heavy")


# --------------------------------------------------------------------------- events


def event_process(*, event_id: int) -> None:
    """Apply one stored event, push what changed, and start enrichment off the hot path."""
    event = TelephonyEvent.objects.filter(pk=event_id).first()
    if event is None or event.processed_at is not None:
        return
    try:
        _event_process_loaded(event, account_mode=account_mode_active())
    except Exception:
        if not database_answers():
            raise  # an outage: the task (or the sweeper) tries again once it answers
        # One of the extension's pending events fails: apply them one by one, so that only
        # that one waits for another try (and is given up on after EVENT_MAX_ATTEMPTS).
        logger.exception("event %s: its extension's events failed together", event_id)
        pending = list(
            TelephonyEvent.objects.filter(
                rc_extension_id=event.rc_extension_id, processed_at__isnull=True
            ).values_list("pk", flat=True)
        )
        events_failures_record(events_apply_isolated(event_ids=pending))


def events_process_batch(*, event_ids: list[int], extension_ids: list[str] | None = None) -> int:
    """Apply a batch of stored events (the applier's unit of work); returns how many
    extensions were brought up to date.

    Every pending event of the batch's extensions is applied, in sequence order per
    extension, under the extensions' locks, in one transaction (tracker.extensions_apply).
    The stream's entries name each event's extension (``extension_ids``), which spares a
    query; without them they are read from the events.
    """
    if not extension_ids:
        extension_ids = list(
            TelephonyEvent.objects.filter(pk__in=event_ids, processed_at__isnull=True)
            .values_list("rc_extension_id", flat=True)
            .distinct()
        )
    if not extension_ids:
        return 0
    account_mode = account_mode_active()
    result = ApplyResult()
    with transaction.atomic():
        extensions_apply(
            extension_ids=extension_ids, result=result, enrichment=_enrichment_plan(account_mode)
        )
        journal = push_journal_add(call_ids=result.changed_call_ids)
    _applied_publish(result, journal, account_mode=account_mode)
    return len(extension_ids)


def _enrichment_plan(account_mode: bool) -> EnrichmentPlan:
    due = timezone.now() + timedelta(seconds=settings.CALL_LOG_DELAY_SECONDS)
    return EnrichmentPlan(due_at=due, account_mode=account_mode)


def _event_process_loaded(event: TelephonyEvent, *, account_mode: bool) -> None:
    # The journal entry is written inside the transaction, so it exists whenever the changes
    # were committed: a worker killed before the pushes below leaves it for the sweeper.
    with transaction.atomic():
        result = event_apply(event=event, enrichment=_enrichment_plan(account_mode))
        journal = push_journal_add(call_ids=result.changed_call_ids)
    _applied_publish(result, journal, account_mode=account_mode)


def _applied_publish(result: ApplyResult, journal: str | None, *, account_mode: bool) -> None:
    """After the commit: push what changed, then start enrichment off the hot path."""
    if result.missed_pending_call_ids:
        call_missed_check_schedule(call_ids=result.missed_pending_call_ids)
    if not result.changed_call_ids:
        return
    push_call_dicts(result.messages)
    push_journal_done(journal)
    # The pushed messages carry each call's agent: no query needed to find the scopes. The
    # tracker already marked the calls it ended as waiting for the call log.
    agent_of = {message["id"]: message.get("agent_id") for message in result.messages}
    ended_scopes = {_scope_key(agent_of.get(pk), account_mode) for pk in result.ended_call_ids}
    for key in ended_scopes - {None}:
        call_log_fetch_schedule(scope_key=key, countdown=settings.CALL_LOG_DELAY_SECONDS)
    scopes = {_scope_key(message.get("agent_id"), account_mode) for message in result.messages}
    for key in scopes - {None}:
        active_calls_refresh_schedule(scope_key=key)


def call_missed_check_schedule(*, call_ids: list[int]) -> None:
    """Check these calls once their grace after a NoCall has passed (calls_missed_end)."""
    from crm_cti.telephony.tasks import call_missed_check

    task_later(call_missed_check, args=[sorted(set(call_ids))],
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
                now=now, enrichment=_enrichment_plan(account_mode), call_ids=call_ids
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


def events_sweep() -> int:
    """Announce again the stored events still unapplied after ``EVENT_SWEEP_AFTER_SECONDS``
    that no stream entry speaks for any more (stored while Redis was down, lost when it
    restarted, trimmed), even while the appliers are busy with others; returns how many.

    Events still in the stream are left to the appliers (an overload is not made worse by a
    second copy). Each announcement counts as an attempt; an event announced
    ``EVENT_MAX_ATTEMPTS`` times without being applied is marked failed.
    """
    # Calls left ringing past their grace after a NoCall (the delayed check was lost).
    calls_missed_end()

    # Where tasks run eagerly nothing is announced on the stream (applier.event_announce), so
    # whatever another deployment left there says nothing about this one's events.
    eager = tasks_are_eager()
    cutoff = timezone.now() - timedelta(seconds=settings.EVENT_SWEEP_AFTER_SECONDS)
    unapplied = TelephonyEvent.objects.filter(processed_at__isnull=True, received_at__lt=cutoff)
    announced = 0
    if unapplied.exists():
        in_stream: set[int] = set()
        if not eager:
            from crm_cti.telephony.applier import stream_event_ids

            found = stream_event_ids()
            if found is None:
                # Redis is away: an announcement would fail too. The next sweep tries again.
                logger.warning("events sweep: the stream cannot be read; nothing re-announced")
                return 0
            in_stream = found
        # Oldest first, page by page: under load the oldest may all still be in the stream,
        # and the lost ones behind them must not wait until it drains.
        lost: list[int] = []
        after = 0
        for _page in range(SWEEP_PAGES):
            page = list(
                unapplied.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[
                    :SWEEP_BATCH
                ]
            )
            lost += [pk for pk in page if pk not in in_stream]
            if len(page) < SWEEP_BATCH or len(lost) >= SWEEP_BATCH:
                break
            after = page[-1]
        announced = _events_reannounce(lost[:SWEEP_BATCH], stream=not eager)
    # Pushes a killed worker journaled but never sent (see push.py).
    push_journal_replay(older_than=settings.EVENT_SWEEP_AFTER_SECONDS)
    return announced


def _events_reannounce(event_ids: list[int], *, stream: bool) -> int:
    """Announce again events no stream entry speaks for (the stream was lost or trimmed, the
    broker dropped the task), counting each announcement; give up on those announced
    ``EVENT_MAX_ATTEMPTS`` times already."""
    from crm_cti.telephony.applier import event_announce
    from crm_cti.telephony.tasks import event_process as event_process_task

    # An applier may have finished some of them since they were read.
    rows = list(
        TelephonyEvent.objects.filter(pk__in=event_ids, processed_at__isnull=True)
        .values_list("pk", "rc_extension_id", "attempts")
    )
    exhausted = [pk for pk, _ext, attempts in rows if attempts >= settings.EVENT_MAX_ATTEMPTS]
    if exhausted:
        events_fail(
            event_ids=exhausted,
            error=f"not applied after {settings.EVENT_MAX_ATTEMPTS} attempts "
            "(announced again each time it went missing)",
        )
    again = [(pk, ext) for pk, ext, attempts in rows if attempts < settings.EVENT_MAX_ATTEMPTS]
    if not again:
        return 0
    TelephonyEvent.objects.filter(pk__in=[pk for pk, _ext in again]).update(
        attempts=F("attempts") + 1
    )
    for pk, ext in again:
        if stream:
            event_announce(event_id=pk, extension_id=ext)
        else:
            event_process_task.delay(pk)
    logger.info("events sweep: re-announced %d unprocessed events", len(again))
    return len(again)


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
            enrichment=_enrichment_plan(account_mode),
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
    return deleted


# --------------------------------------------------------------------------- call records


def _clip(value: Any, field: str) -> str:
    """A call-log value cut to its ``Call`` column: PostgreSQL refuses a longer one, and the
    record would then fail its enrichment (or the whole history import) on every try."""
    text = "" if value is None else str(value)
    return text[: Call._meta.get_field(field).max_length]


def _record_duration(record: dict[str, Any]) -> int | None:
    # Seconds, within the column's range (a negative or huge figure is refused by PostgreSQL).
    duration = record.get("duration")
    if not isinstance(duration, int) or isinstance(duration, bool):
        return None
    return min(max(duration, 0), 2**31 - 1)


def _party(record: dict[str, Any], side: str) -> tuple[str, str]:
    party = record.get(side)
    if not isinstance(party, dict):
        party = {}
    number = party.get("phoneNumber") or party.get("extensionNumber") or ""
    return _clip(number, f"{side}_number"), _clip(party.get("name") or "", f"{side}_name")


def _recording(record: dict[str, Any]) -> dict[str, Any] | None:
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


def call_log_record_apply(*, call: Call, record: dict[str, Any]) -> None:
    """Fill a call from its call-log record (the record of authority). Caller saves."""
    call.rc_call_log_id = _clip(record.get("id") or call.rc_call_log_id, "rc_call_log_id")
    call.result = _clip(record.get("result") or call.result, "result")
    if record.get("telephonySessionId") and not call.telephony_session_id:
        call.telephony_session_id = _clip(record["telephonySessionId"], "telephony_session_id")
    legs = record.get("legs")
    if isinstance(legs, list):
        call.legs = legs
    call.recording = _recording(record) or call.recording
    started = parse_time(record.get("startTime"))
    if started is not None and call.started_at is None:
        call.started_at = started
    duration = _record_duration(record)
    numbers_changed = False
    for side in ("from", "to"):
        number, name = _party(record, side)
        if number and not getattr(call, f"{side}_number"):
            setattr(call, f"{side}_number", number)
            numbers_changed = True
        if name and not getattr(call, f"{side}_name"):
            setattr(call, f"{side}_name", name)
    if numbers_changed:
        call.from_e164 = try_normalize_e164(call.from_number)
        call.to_e164 = try_normalize_e164(call.to_number)
        call_match_other_party(call)
    if call.state in Call.LIVE_STATES:
        # The call log only holds finished calls: our NoCall was lost.
        call.ended_at = (
            call.started_at + timedelta(seconds=duration)
            if call.started_at is not None and duration is not None
            else timezone.now()
        )
    call.state = call_final_state(call)
    if duration is not None:
        call.duration = duration
    elif call.duration is None:
        call.duration = call_duration(call)
    call.enrichment = Call.Enrichment.DONE
    call.enrich_due_at = None


def call_log_enrichment_begin(*, call_ids: list[int]) -> None:
    """Mark ended calls as waiting for their call-log record and schedule the fetch."""
    # The same rule as the tracker's for the calls it ends (EnrichmentPlan.wants).
    account_mode = account_mode_active()
    plan = _enrichment_plan(account_mode)
    keys: set[str] = set()
    with transaction.atomic():
        for call in Call.objects.select_for_update().filter(pk__in=call_ids):
            if not plan.wants(call):
                continue
            call.enrichment = Call.Enrichment.PENDING
            call.enrich_due_at = plan.due_at
            call.save(update_fields=["enrichment", "enrich_due_at", "updated_at"])
            keys.add(_scope_key(call.agent_id, account_mode))
    for key in keys:
        call_log_fetch_schedule(scope_key=key, countdown=settings.CALL_LOG_DELAY_SECONDS)


def call_log_fetch_schedule(*, scope_key: str, countdown: float) -> None:
    """One pending fetch per scope at a time: later ends ride along with it."""
    from crm_cti.telephony.tasks import call_log_fetch

    cache_key = f"telephony:calllog:{scope_key}"
    scheduled = cache.add(cache_key, 1, timeout=int(countdown) + 120)
    if scheduled and not task_later(call_log_fetch, args=[scope_key], countdown=countdown):
        cache.delete(cache_key)


def _pending_calls(scope: Scope) -> QuerySet[Call]:
    qs = scope.calls().filter(enrichment=Call.Enrichment.PENDING)
    if scope.agent is None and scope.key != ACCOUNT_SCOPE:
        return qs.none()
    return qs


def call_log_fetch(*, scope_key: str) -> float | None:
    """Fetch the call log once for every due pending call of a scope.

    Returns seconds after which to run again (still pending, or the budget is spent), or
    None when nothing is left to do.
    """
    cache.delete(f"telephony:calllog:{scope_key}")
    scope = scope_resolve(scope_key)
    if scope is None:
        logger.info("call log fetch for %s: nobody can ask now; left pending", scope_key)
        return None
    now = timezone.now()
    pending = _pending_calls(scope)
    due = list(pending.filter(enrich_due_at__lte=now + timedelta(seconds=1)).order_by("pk"))
    if not due:
        nxt = pending.order_by("enrich_due_at").values_list("enrich_due_at", flat=True).first()
        return max((nxt - now).total_seconds(), 1.0) if nxt else None
    wait = _heavy_wait(scope)
    if wait > 0:
        return wait
    earliest = min((c.started_at or c.created_at) for c in due)
    try:
        if len(due) == 1:
            response = scope.client.list_call_log(
                account_level=scope.account_level,
                session_id=due[0].session_id,
                view="Detailed",
                date_from=earliest - timedelta(minutes=5),
            )
        else:
            response = scope.client.list_call_log(
                account_level=scope.account_level,
                view="Detailed",
                date_from=earliest - timedelta(minutes=5),
                per_page=250,
            )
    except RateLimited as exc:
        return max(exc.retry_after, 1.0)
    except NeedsSignIn:
        logger.info("call log fetch for %s: agent must sign in again; left pending", scope_key)
        return None
    except RingCentralError as exc:
        logger.warning("call log fetch for %s failed: %s; retrying", scope_key, exc)
        return float(settings.CALL_LOG_RETRY_SECONDS)
    records = response.get("records", []) if isinstance(response, dict) else []
    by_session: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_session.setdefault(str(record.get("sessionId", "")), []).append(record)
    changed: list[int] = []
    with transaction.atomic():
        for call in Call.objects.select_for_update().filter(pk__in=[c.pk for c in due]):
            if call.enrichment != Call.Enrichment.PENDING:
                continue
            record = _record_for_call(call, by_session.get(call.session_id, []))
            if record is not None:
                call_log_record_apply(call=call, record=record)
            else:
                call.enrich_attempts += 1
                if call.enrich_attempts >= settings.CALL_LOG_MAX_ATTEMPTS:
                    logger.warning(
                        "call %s (session %s) never appeared in the call log after %d tries",
                        call.pk, call.session_id, call.enrich_attempts,
                    )
                    call.enrichment = Call.Enrichment.GAVE_UP
                    call.enrich_due_at = None
                else:
                    call.enrich_due_at = now + timedelta(seconds=settings.CALL_LOG_RETRY_SECONDS)
            call.save()
            if call.enrichment == Call.Enrichment.DONE:
                changed.append(call.pk)
    push_calls(changed)
    nxt = pending.order_by("enrich_due_at").values_list("enrich_due_at", flat=True).first()
    if nxt is None:
        return None
    return max((nxt - timezone.now()).total_seconds(), 1.0)


def _record_for_call(call: Call, records: list[dict[str, Any]]) -> dict[str, Any] | None:
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


def call_log_sweep() -> int:
    """Safety net (beat): schedule fetches for pending calls whose task was lost (a crash,
    eager mode), and mark ended calls that never got marked (a worker died between the
    tracker's commit and the scheduling). Returns the number of scopes scheduled."""
    now = timezone.now()
    forgotten = list(
        Call.objects.filter(
            state__in=Call.FINAL_STATES,
            enrichment=Call.Enrichment.NONE,
            agent__isnull=False,
            ended_at__lt=now - timedelta(seconds=settings.CALL_LOG_DELAY_SECONDS),
            ended_at__gte=now - timedelta(days=1),
        ).values_list("pk", flat=True)[:1000]
    )
    if forgotten:
        logger.info("call log sweep: %d ended calls were never scheduled", len(forgotten))
        call_log_enrichment_begin(call_ids=forgotten)
    keys: set[str] = set()
    for call in Call.objects.filter(
        enrichment=Call.Enrichment.PENDING, enrich_due_at__lte=now
    ).only("pk", "agent_id")[:5000]:
        key = scope_key_for_call(call)
        if key:
            keys.add(key)
    for key in keys:
        call_log_fetch_schedule(scope_key=key, countdown=0)
    return len(keys)


# --------------------------------------------------------------------------- active calls


def active_calls_refresh_schedule(*, scope_key: str) -> None:
    """At most one active-calls request per scope per window (coalescing a burst of events)."""
    from crm_cti.telephony.tasks import active_calls_refresh

    window = settings.ACTIVE_CALLS_WINDOW_SECONDS
    if cache.add(f"telephony:active:{scope_key}", 1, timeout=window):
        task_later(
            active_calls_refresh, args=[scope_key], countdown=settings.ACTIVE_CALLS_DELAY_SECONDS
        )


def active_calls_refresh(*, scope_key: str) -> float | None:
    """Fill in what events lack from active calls, and end calls whose NoCall was lost.

    Returns seconds after which to retry (budget spent), or None.
    """
    scope = scope_resolve(scope_key)
    if scope is None:
        return None
    wait = _heavy_wait(scope)
    if wait > 0:
        return wait
    try:
        response = scope.client.list_active_calls(account_level=scope.account_level)
    except RateLimited as exc:
        return max(exc.retry_after, 1.0)
    except NeedsSignIn:
        return None
    except RingCentralError as exc:
        logger.warning("active calls for %s failed: %s", scope_key, exc)
        return None
    records = response.get("records", []) if isinstance(response, dict) else []
    changed = active_calls_apply(scope=scope, records=records)
    push_calls(changed)
    ended = [
        pk for pk in changed
        if Call.objects.filter(pk=pk, state__in=Call.FINAL_STATES).exists()
    ]
    if ended:
        call_log_enrichment_begin(call_ids=ended)
    return None


def active_calls_apply(*, scope: Scope, records: list[dict[str, Any]]) -> list[int]:
    """Merge active-call records into our calls; returns the ids of calls that changed."""
    by_session: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_session.setdefault(str(record.get("sessionId", "")), []).append(record)
    now = timezone.now()
    grace = timedelta(seconds=settings.RECONCILE_GRACE_SECONDS)
    changed: list[int] = []
    candidates = scope.calls().filter(
        Q(session_id__in=list(by_session)) | Q(state__in=Call.LIVE_STATES)
    )
    with transaction.atomic():
        for call in candidates.select_for_update():
            before = tuple(getattr(call, f) for f in PUSHED_FIELDS)
            record = _record_for_call(call, by_session.get(call.session_id, []))
            if record is not None:
                for side in ("from", "to"):
                    number, name = _party(record, side)
                    if name and not getattr(call, f"{side}_name"):
                        setattr(call, f"{side}_name", name)
                    if number and not getattr(call, f"{side}_number"):
                        setattr(call, f"{side}_number", number)
                if record.get("telephonySessionId") and not call.telephony_session_id:
                    call.telephony_session_id = _clip(record["telephonySessionId"],
                                                      "telephony_session_id")
                result = _clip(record.get("result") or "", "result")
                if call.is_live and result not in LIVE_RESULTS and _silent(call, now, grace):
                    started = parse_time(record.get("startTime")) or call.started_at
                    duration = _record_duration(record)
                    call.ended_at = (
                        started + timedelta(seconds=duration)
                        if started is not None and duration is not None
                        else now
                    )
                    call.result = result
                    call.state = call_final_state(call)
                    call.duration = duration if duration is not None else call_duration(call)
                    logger.info("reconcile: call %s ended (%s) per active calls", call.pk, result)
            elif call.is_live and _silent(call, now, _absent_grace(call, grace)):
                # Gone from active calls and no event for a while: its NoCall was lost.
                call.ended_at = now
                call.state = call_final_state(call)
                call.duration = call_duration(call)
                logger.info("reconcile: call %s absent from active calls; ended", call.pk)
            if tuple(getattr(call, f) for f in PUSHED_FIELDS) != before:
                call.save()
                changed.append(call.pk)
    return changed


def _absent_grace(call: Call, grace: timedelta) -> timedelta:
    # Active calls leave out calls still being routed to the extension: a ringing call may
    # be missing from them while it is perfectly alive, so give it until a ring timeout.
    if call.state == Call.State.RINGING:
        return max(grace, RINGING_ABSENT_GRACE)
    return grace


def _silent(call: Call, now: datetime, grace: timedelta) -> bool:
    last = call.last_event_at or call.updated_at or call.created_at
    return last is None or now - last >= grace


def reconcile_all() -> int:
    """Periodic repair: refresh active calls for every scope with live calls.

    Also reschedules call-log fetches whose task was lost. Returns the number of scopes.
    """
    from crm_cti.telephony.tasks import active_calls_refresh as refresh_task

    call_log_sweep()
    keys: set[str] = set()
    if account_mode_active():
        keys.add(ACCOUNT_SCOPE)
    else:
        for agent_id in (
            Call.objects.filter(state__in=Call.LIVE_STATES, agent__isnull=False)
            .values_list("agent_id", flat=True)
            .distinct()
        ):
            keys.add(f"agent:{agent_id}")
    for key in keys:
        # Bypasses the event window: reconciliation must run even in a quiet period.
        refresh_task.delay(key)
    return len(keys)


# --------------------------------------------------------------------------- history import


def calllog_import(*, agent: Agent, since: datetime | None = None) -> int:
    """Page through the agent's call log and upsert finished calls (incremental).

    The high-water mark (``CallLogSync.synced_until``) makes the next import start where
    this one stopped, minus a small overlap for records that were late to appear.
    """
    from crm_cti.accounts.services import client_for_agent

    client = client_for_agent(agent)
    sync, _ = CallLogSync.objects.get_or_create(agent=agent)
    if since is None and sync.synced_until is not None:
        since = sync.synced_until - timedelta(minutes=10)
    if since is None:
        since = timezone.now() - timedelta(days=7)
    newest = sync.synced_until
    count = 0
    for record in client.iter_call_log(view="Detailed", date_from=since):
        session_id = str(record.get("sessionId") or "")
        if not session_id or record.get("type", "Voice") != "Voice":
            continue
        started = parse_time(record.get("startTime"))
        if started is not None and (newest is None or started > newest):
            newest = started
        if _import_record(agent=agent, session_id=session_id, record=record):
            count += 1
    sync.synced_until = newest
    sync.imported = sync.imported + count
    sync.save(update_fields=["synced_until", "imported", "updated_at"])
    return count


def _import_record(*, agent: Agent, session_id: str, record: dict[str, Any]) -> bool:
    with transaction.atomic():
        call = (
            Call.objects.select_for_update()
            .filter(rc_extension_id=agent.rc_extension_id, session_id=session_id)
            .first()
        )
        if call is not None and (call.is_live or call.enrichment == Call.Enrichment.DONE):
            return False
        created = call is None
        if created:
            from_number, from_name = _party(record, "from")
            to_number, to_name = _party(record, "to")
            call = Call(
                agent=agent,
                rc_extension_id=agent.rc_extension_id,
                session_id=session_id,
                direction=DIRECTIONS.get(str(record.get("direction")), Call.Direction.INBOUND),
                from_number=from_number,
                from_name=from_name,
                to_number=to_number,
                to_name=to_name,
                state=Call.State.ENDED,
                started_at=parse_time(record.get("startTime")),
            )
            call.from_e164 = try_normalize_e164(from_number)
            call.to_e164 = try_normalize_e164(to_number)
            call_match_other_party(call)
            duration = _record_duration(record)
            if call.started_at is not None and duration is not None:
                call.ended_at = call.started_at + timedelta(seconds=duration)
        call_log_record_apply(call=call, record=record)
        call.save()
    return True


# --------------------------------------------------------------------------- subscriptions


def webhook_address() -> str:
    return settings.WEBHOOK_BASE_URL + reverse("telephony:ringcentral_webhook")


def _subscription_update(sub: Subscription, info: dict[str, Any]) -> None:
    sub.status = str(info.get("status") or sub.status)
    sub.expires_at = parse_time(info.get("expirationTime")) or sub.expires_at
    if info.get("eventFilters"):
        sub.event_filters = info["eventFilters"]
    sub.last_error = ""


def _subscription_client(agent: Agent | None) -> Any:
    from crm_cti.accounts.services import client_for_agent, service_client

    if agent is not None:
        return client_for_agent(agent)
    client = service_client()
    if client is None:
        raise RingCentralError("account mode needs the service credential: set RC_JWT")
    return client


def _subscription_owner(agent: Agent | None) -> Q:
    return Q(agent=agent) if agent is not None else Q(mode=Subscription.Mode.ACCOUNT)


def subscription_ensure(*, agent: Agent | None = None) -> Subscription:
    """Make sure the agent's (or the account's) subscription exists, is Active and not
    about to expire: renew it before expiry, recreate it when missing, expired or
    Blacklisted.

    The row outlives a failed re-creation (status ``Recreating``, with the error): beat
    (``subscriptions_maintain``) tries again until a replacement exists, and the operations
    page shows the agent as without a working subscription meanwhile. One caller at a time
    per owner (a lock shared by every process): the sign-in task and beat never create two.
    """
    from crm_cti.accounts.locks import shared_lock

    client = _subscription_client(agent)
    name = f"subscription:agent:{agent.pk}" if agent is not None else "subscription:account"
    with shared_lock(name, hold_seconds=SUBSCRIPTION_LOCK_SECONDS,
                     wait_seconds=SUBSCRIPTION_LOCK_SECONDS):
        return _subscription_ensure_locked(client=client, agent=agent)


def _subscription_ensure_locked(*, client: Any, agent: Agent | None) -> Subscription:
    mode = Subscription.Mode.EXTENSION if agent is not None else Subscription.Mode.ACCOUNT
    sub = Subscription.objects.filter(_subscription_owner(agent)).first()
    now = timezone.now()
    renew_before = timedelta(seconds=settings.SUBSCRIPTION_RENEW_BEFORE_SECONDS)
    if sub is not None and sub.rc_id:
        try:
            info = client.get_subscription(sub.rc_id)
        except NotFound:
            info = None
        if info is not None:
            _subscription_update(sub, info)
            alive = sub.status == "Active" and sub.expires_at is not None and sub.expires_at > now
            if alive and sub.expires_at - now > renew_before:
                sub.save()
                return sub
            if alive:
                try:
                    _subscription_update(sub, client.renew_subscription(sub.rc_id))
                    sub.save()
                    logger.info("subscription %s renewed until %s", sub.rc_id, sub.expires_at)
                    return sub
                except NotFound:
                    pass
            else:
                with contextlib.suppress(NotFound):
                    client.delete_subscription(sub.rc_id)
        logger.info("subscription %s is %s; recreating", sub.rc_id, sub.status or "missing")
    return _subscription_create(client=client, agent=agent, mode=mode, sub=sub)


def _subscription_create(
    *, client: Any, agent: Agent | None, mode: str, sub: Subscription | None = None
) -> Subscription:
    event_filter = EXTENSION_EVENT_FILTER if agent is not None else ACCOUNT_EVENT_FILTER
    if sub is None:
        try:
            # Saved before the request: a delivery can arrive before the response does, and
            # the webhook view adopts it by this token.
            sub = Subscription.objects.create(
                agent=agent,
                mode=mode,
                verification_token=secrets.token_urlsafe(32),
                event_filters=[event_filter],
                address=webhook_address(),
            )
        except IntegrityError:
            # Someone else is creating it right now.
            return Subscription.objects.get(_subscription_owner(agent))
    else:
        # The same row carries the replacement (one per owner), with a fresh token; until
        # the platform made it, the row says so, and keeps saying so if that fails.
        sub.rc_id = ""
        sub.verification_token = secrets.token_urlsafe(32)
        sub.event_filters = [event_filter]
        sub.address = webhook_address()
        sub.status = SUBSCRIPTION_RECREATING
        sub.expires_at = None
        sub.save()
    try:
        info = client.create_subscription(
            event_filters=[event_filter],
            address=sub.address,
            verification_token=sub.verification_token,
            expires_in=settings.SUBSCRIPTION_EXPIRES_IN,
        )
    except Exception as exc:
        # Kept, never deleted: nothing else would ever bring this subscription back.
        sub.status = SUBSCRIPTION_RECREATING
        sub.last_error = str(exc)[:500] or type(exc).__name__
        sub.save(update_fields=["status", "last_error", "updated_at"])
        logger.warning("subscription for %s could not be created: %s", agent or "the account",
                       exc)
        raise
    sub.rc_id = str(info.get("id") or "")
    _subscription_update(sub, info)
    sub.save()
    logger.info("subscription %s created for %s", sub.rc_id, agent or "the account")
    return sub


def subscription_delete(*, agent: Agent | None = None) -> None:
    """Delete the agent's (or the account's) subscription on RingCentral and here."""
    sub = Subscription.objects.filter(_subscription_owner(agent)).first()
    if sub is None:
        return
    if sub.rc_id:
        with contextlib.suppress(NotFound):
            _subscription_client(agent).delete_subscription(sub.rc_id)
    sub.delete()


def account_mode_wanted() -> bool:
    """Account mode is configured (``ACCOUNT_SUBSCRIPTION``) or an admin created the account
    subscription: it is kept, and sign-ins create no per-extension ones."""
    return settings.ACCOUNT_SUBSCRIPTION or Subscription.objects.filter(
        mode=Subscription.Mode.ACCOUNT
    ).exists()


def agents_signed_in() -> QuerySet[Agent]:
    """Agents with a RingCentral token that works (or refreshes): background work may act
    for them."""
    return Agent.objects.filter(needs_signin=False, rc_token__isnull=False)


def subscriptions_maintain() -> dict[str, int]:
    """Beat: renew or recreate every subscription we keep, and create those that should
    exist and do not: a signed-in agent's whose creation task was lost (it lives only in the
    broker) or failed for good, the account's in account mode. Errors are recorded per row
    (``last_error``)."""
    counts = {"ok": 0, "failed": 0, "created": 0}
    owners: list[tuple[Agent | None, bool]] = [
        (sub.agent, True)
        for sub in Subscription.objects.select_related("agent")
        if sub.agent is None or not sub.agent.needs_signin
    ]
    account_mode = account_mode_wanted()
    if account_mode and not any(agent is None for agent, _kept in owners):
        owners.append((None, False))
    if settings.SUBSCRIBE_ON_SIGNIN and not account_mode:
        owners += [
            (agent, False)
            for agent in agents_signed_in().filter(subscriptions__isnull=True).distinct()
        ]
    for agent, kept in owners:
        try:
            subscription_ensure(agent=agent)
            counts["ok" if kept else "created"] += 1
        except Exception as exc:
            counts["failed"] += 1
            logger.warning("subscription of %s: %s", agent or "the account", exc)
            Subscription.objects.filter(_subscription_owner(agent)).update(
                last_error=str(exc)[:500] or type(exc).__name__
            )
    return counts


def subscription_wanted_for(agent: Agent) -> bool:
    return settings.SUBSCRIBE_ON_SIGNIN and not account_mode_wanted()


# --------------------------------------------------------------------------- RingOut


def _ringout_number(raw: str, field: str) -> str:
    raw = (raw or "").strip()
    if is_extension_number(raw):
        return raw
    try:
        return normalize_e164(raw)
    except InvalidPhoneNumber as exc:
        raise RingOutInvalid(field, str(exc)) from None


def ringout_to_dict(ringout: RingOut) -> dict[str, Any]:
    return {
        "id": ringout.pk,
        "rc_id": ringout.rc_id,
        "from": ringout.from_number,
        "to": ringout.to_number,
        "status": ringout.call_status,
        "caller_status": ringout.caller_status,
        "callee_status": ringout.callee_status,
        "final": ringout.finished_at is not None,
    }


def _ringout_update(ringout: RingOut, info: dict[str, Any]) -> None:
    status = info.get("status") or {}
    ringout.call_status = str(status.get("callStatus") or ringout.call_status)
    ringout.caller_status = str(status.get("callerStatus") or ringout.caller_status)
    ringout.callee_status = str(status.get("calleeStatus") or ringout.callee_status)
    if ringout.call_status and ringout.call_status != "InProgress":
        ringout.finished_at = ringout.finished_at or timezone.now()


def ringout_create(*, agent: Agent, to_number: str, from_number: str) -> RingOut:
    """Place a RingOut (ring ``from`` first, then connect ``to``) and start polling it."""
    from crm_cti.accounts.services import client_for_agent
    from crm_cti.telephony.tasks import ringout_poll

    to_number = _ringout_number(to_number, "to")
    from_number = _ringout_number(from_number or agent.ringout_from_number, "from")
    info = client_for_agent(agent).create_ringout(from_number=from_number, to_number=to_number)
    ringout = RingOut(
        agent=agent, rc_id=str(info.get("id")), from_number=from_number, to_number=to_number
    )
    _ringout_update(ringout, info)
    ringout.save()
    if agent.ringout_from_number != from_number:
        Agent.objects.filter(pk=agent.pk).update(ringout_from_number=from_number)
    push_ringout(agent_id=agent.pk, ringout=ringout_to_dict(ringout))
    if ringout.finished_at is None:
        task_later(ringout_poll, args=[ringout.pk], countdown=settings.RINGOUT_POLL_SECONDS)
    return ringout


def ringout_poll(*, ringout_id: int) -> bool:
    """Read a RingOut's status once and push it; returns whether to poll again."""
    from crm_cti.accounts.services import client_for_agent

    ringout = RingOut.objects.select_related("agent").filter(pk=ringout_id).first()
    if ringout is None or ringout.finished_at is not None:
        return False
    if ringout.polls and timezone.now() - ringout.updated_at < timedelta(
        seconds=settings.RINGOUT_POLL_SECONDS / 2
    ):
        # Polled a moment ago by another chain of polls (the sweep restarted one it thought
        # lost): that one carries on, this one stops, so a RingOut is never polled twice.
        return False
    try:
        info = client_for_agent(ringout.agent).get_ringout(ringout.rc_id)
    except NotFound:
        info = {"status": {"callStatus": ringout.call_status or "Finished"}}
        ringout.finished_at = timezone.now()
    except NeedsSignIn:
        return False
    except RateLimited:
        # Still being polled: the sweep must not take this chain for lost.
        ringout.save(update_fields=["updated_at"])
        return True
    except RingCentralError as exc:
        logger.warning("RingOut %s status: %s", ringout.rc_id, exc)
        ringout.polls += 1
        ringout.save(update_fields=["polls", "updated_at"])
        return ringout.polls < settings.RINGOUT_MAX_POLLS
    before = (ringout.call_status, ringout.caller_status, ringout.callee_status)
    _ringout_update(ringout, info)
    ringout.polls += 1
    if ringout.polls >= settings.RINGOUT_MAX_POLLS and ringout.finished_at is None:
        ringout.finished_at = timezone.now()
    ringout.save()
    after = (ringout.call_status, ringout.caller_status, ringout.callee_status)
    if after != before or ringout.finished_at is not None:
        push_ringout(agent_id=ringout.agent_id, ringout=ringout_to_dict(ringout))
    return ringout.finished_at is None


def ringouts_sweep() -> int:
    """Beat: poll again the RingOuts whose chain of polls was lost (it lives only in the
    broker: Redis restarted, or the task was never queued), i.e. unfinished and not polled
    for ``RINGOUT_LOST_AFTER_POLLS`` intervals; returns how many."""
    from crm_cti.telephony.tasks import ringout_poll as ringout_poll_task

    quiet = timedelta(
        seconds=settings.RINGOUT_POLL_SECONDS * RINGOUT_LOST_AFTER_POLLS + RINGOUT_LOST_MARGIN
    )
    lost = list(
        RingOut.objects.filter(
            finished_at__isnull=True,
            updated_at__lt=timezone.now() - quiet,
            agent__needs_signin=False,
        ).values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    for pk in lost:
        ringout_poll_task.delay(pk)
    if lost:
        logger.info("RingOut sweep: polling %d RingOuts again", len(lost))
    return len(lost)


def ringout_cancel(*, agent: Agent, ringout_id: int) -> RingOut:
    """Cancel the agent's RingOut while the callee still rings."""
    from crm_cti.accounts.services import client_for_agent

    ringout = RingOut.objects.get(pk=ringout_id, agent=agent)
    if ringout.finished_at is None:
        with contextlib.suppress(NotFound):
            client_for_agent(agent).cancel_ringout(ringout.rc_id)
        ringout.call_status = "Cancelled"
        ringout.finished_at = timezone.now()
        ringout.save()
    push_ringout(agent_id=agent.pk, ringout=ringout_to_dict(ringout))
    return ringout


def call_push(call: Call) -> None:
    """Re-send one call to its agent (after notes or contact changes made elsewhere)."""
    push_call(call)

