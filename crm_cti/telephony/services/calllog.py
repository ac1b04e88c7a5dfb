"""The call log, the record of authority: fetching each ended call's record to fill what
events lack (result, recording, the platform's duration), its sweep, and the history
import (``calllog_import``, incremental per agent).

The fetch runs in a task (``telephony.call_log_fetch``, through dispatch.py), one pending
per scope at a time, after ``CALL_LOG_DELAY_SECONDS`` (the record takes a while to appear),
and asks the REST budget first.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from crm_cti.accounts.models import Agent
from crm_cti.ringcentral.errors import NeedsSignIn, RateLimited, RingCentralError
from crm_cti.telephony import dispatch
from crm_cti.telephony.call_rules import (
    call_blanks_fill,
    call_duration,
    call_end,
    call_end_time,
    call_final_state,
    call_numbers_refresh,
)
from crm_cti.telephony.models import Call, CallLogSync
from crm_cti.telephony.notifications import DIRECTIONS, parse_time
from crm_cti.telephony.push import push_calls
from crm_cti.telephony.services.records import (
    record_clip,
    record_duration,
    record_for_call,
    record_parties,
    record_recording,
)
from crm_cti.telephony.services.scopes import (
    ACCOUNT_SCOPE,
    Scope,
    account_mode_active,
    enrichment_plan,
    heavy_wait,
    scope_key_for_call,
    scope_key_of,
    scope_resolve,
)

logger = logging.getLogger(__name__)


def call_log_record_apply(*, call: Call, record: dict[str, Any]) -> None:
    """Fill a call from its call-log record (the record of authority). Caller saves."""
    call.rc_call_log_id = record_clip(record.get("id") or call.rc_call_log_id, "rc_call_log_id")
    call.result = record_clip(record.get("result") or call.result, "result")
    legs = record.get("legs")
    if isinstance(legs, list):
        call.legs = legs
    call.recording = record_recording(record) or call.recording
    started = parse_time(record.get("startTime"))
    if started is not None and call.started_at is None:
        call.started_at = started
    duration = record_duration(record)
    if call_blanks_fill(call, record_parties(record)):
        call_numbers_refresh(call)
    if call.state in Call.LIVE_STATES:
        # The call log only holds finished calls: our NoCall was lost.
        call_end(call, at=call_end_time(started_at=call.started_at, duration=duration,
                                        otherwise=timezone.now()))
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
    plan = enrichment_plan(account_mode)
    keys: set[str] = set()
    with transaction.atomic():
        for call in Call.objects.select_for_update().filter(pk__in=call_ids):
            if not plan.mark(call):
                continue
            call.save(update_fields=["enrichment", "enrich_due_at", "updated_at"])
            keys.add(scope_key_of(call.agent_id, account_mode))
    for key in keys:
        call_log_fetch_schedule(scope_key=key, countdown=settings.CALL_LOG_DELAY_SECONDS)


def call_log_fetch_schedule(*, scope_key: str, countdown: float) -> None:
    """One pending fetch per scope at a time: later ends ride along with it."""
    window = f"calllog:{scope_key}"
    if dispatch.once_per(window, seconds=int(countdown) + 120) and not dispatch.later(
        dispatch.CALL_LOG_FETCH, args=[scope_key], countdown=countdown
    ):
        dispatch.once_per_forget(window)


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
    dispatch.once_per_forget(f"calllog:{scope_key}")
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
    wait = heavy_wait(scope)
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
            record = record_for_call(call, by_session.get(call.session_id, []))
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
            # A call we never saw live: the record gives its parties (and their contact,
            # in call_log_record_apply) and when it ended.
            started = parse_time(record.get("startTime"))
            call = Call(
                agent=agent,
                rc_extension_id=agent.rc_extension_id,
                session_id=session_id,
                direction=DIRECTIONS.get(str(record.get("direction")), Call.Direction.INBOUND),
                state=Call.State.ENDED,
                started_at=started,
                ended_at=call_end_time(started_at=started, duration=record_duration(record),
                                       otherwise=None),
            )
        call_log_record_apply(call=call, record=record)
        call.save()
    return True
