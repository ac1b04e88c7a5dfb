"""Active calls: reconciliation with what the platform says is going on now. Fills in what
events lack and ends calls whose NoCall was lost; ``reconcile_all`` (beat) runs it for
every scope with live calls. Requests are coalesced to one per scope per
``ACTIVE_CALLS_WINDOW_SECONDS`` (dispatch.once_per) and ask the REST budget first.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from crm_cti.ringcentral.errors import NeedsSignIn, RateLimited, RingCentralError
from crm_cti.telephony import dispatch
from crm_cti.telephony.call_rules import (
    call_blanks_fill,
    call_duration,
    call_end,
    call_end_time,
    call_numbers_refresh,
)
from crm_cti.telephony.models import Call
from crm_cti.telephony.notifications import parse_time
from crm_cti.telephony.push import push_calls
from crm_cti.telephony.services.calllog import call_log_enrichment_begin, call_log_sweep
from crm_cti.telephony.services.records import (
    record_clip,
    record_duration,
    record_for_call,
    record_parties,
)
from crm_cti.telephony.services.scopes import (
    ACCOUNT_SCOPE,
    Scope,
    account_mode_active,
    heavy_wait,
    scope_resolve,
)
from crm_cti.telephony.tracker import PUSHED_FIELDS

logger = logging.getLogger(__name__)

# A ringing call absent from active calls is ended only after this long without events.
RINGING_ABSENT_GRACE = timedelta(seconds=120)

# Active-calls results of a call that is still going on; any other result means it ended.
LIVE_RESULTS = ("In Progress", "Ringing", "")


def active_calls_refresh_schedule(*, scope_key: str) -> None:
    """At most one active-calls request per scope per window (coalescing a burst of events)."""
    if dispatch.once_per(f"active:{scope_key}", seconds=settings.ACTIVE_CALLS_WINDOW_SECONDS):
        dispatch.later(dispatch.ACTIVE_CALLS_REFRESH, args=[scope_key],
                       countdown=settings.ACTIVE_CALLS_DELAY_SECONDS)


def active_calls_refresh(*, scope_key: str, after_loss: bool = False) -> float | None:
    """Fill in what events lack from active calls, and end calls whose NoCall was lost.

    ``after_loss``: notifications are known to be lost (a WebSocket session that could not
    be recovered), so a ringing call gone from active calls is not given the long ringing
    grace: its NoCall is what was lost. Returns seconds after which to retry (budget
    spent), or None.
    """
    scope = scope_resolve(scope_key)
    if scope is None:
        return None
    wait = heavy_wait(scope)
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
    changed = active_calls_apply(scope=scope, records=records, after_loss=after_loss)
    push_calls(changed)
    ended = [
        pk for pk in changed
        if Call.objects.filter(pk=pk, state__in=Call.FINAL_STATES).exists()
    ]
    if ended:
        call_log_enrichment_begin(call_ids=ended)
    return None


def active_calls_apply(
    *, scope: Scope, records: list[dict[str, Any]], after_loss: bool = False
) -> list[int]:
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
            record = record_for_call(call, by_session.get(call.session_id, []))
            if record is not None:
                if call_blanks_fill(call, record_parties(record)):
                    call_numbers_refresh(call)
                result = record_clip(record.get("result") or "", "result")
                if call.is_live and result not in LIVE_RESULTS and _silent(call, now, grace):
                    started = parse_time(record.get("startTime")) or call.started_at
                    duration = record_duration(record)
                    call.result = result
                    call_end(call, at=call_end_time(started_at=started, duration=duration,
                                                    otherwise=now))
                    call.duration = duration if duration is not None else call_duration(call)
                    logger.info("reconcile: call %s ended (%s) per active calls", call.pk, result)
            elif call.is_live and _silent(call, now,
                                          grace if after_loss else _absent_grace(call, grace)):
                # Gone from active calls and no event for a while: its NoCall was lost.
                call_end(call, at=now)
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
        dispatch.send(dispatch.ACTIVE_CALLS_REFRESH, key)
    return len(keys)
