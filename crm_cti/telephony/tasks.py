"""Celery tasks of the telephony domain: thin wrappers around services/, registered under
the names dispatch.py starts them by (services never import this module).

Tasks that talk to RingCentral reschedule themselves (``dispatch.later``) when the rate
budget says wait; the work is never dropped.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from crm_cti.telephony import dispatch, stream
from crm_cti.telephony.services import activecalls, calllog, events, ringout, subscriptions

logger = logging.getLogger(__name__)


@shared_task(name=dispatch.EVENT_PROCESS, acks_late=True)
def event_process(event_id: int) -> None:
    """Apply one stored webhook event (the hot path)."""
    events.event_process(event_id=event_id)


@shared_task(name=dispatch.CALL_MISSED_CHECK)
def call_missed_check(call_ids: list[int]) -> None:
    """A NoCall's grace has passed: end those calls no newer event carried on."""
    retry_in = events.calls_missed_end(call_ids=call_ids)
    if retry_in is not None:
        dispatch.later(dispatch.CALL_MISSED_CHECK, args=[call_ids], countdown=retry_in)


@shared_task(name="telephony.events_sweep")
def events_sweep() -> int:
    return stream.events_sweep()


@shared_task(name="telephony.events_prune")
def events_prune() -> int:
    return events.events_prune()


@shared_task(name=dispatch.ACTIVE_CALLS_REFRESH)
def active_calls_refresh(scope_key: str) -> None:
    retry_in = activecalls.active_calls_refresh(scope_key=scope_key)
    if retry_in is not None:
        dispatch.later(dispatch.ACTIVE_CALLS_REFRESH, args=[scope_key], countdown=retry_in)


@shared_task(name=dispatch.CALL_LOG_FETCH)
def call_log_fetch(scope_key: str) -> None:
    retry_in = calllog.call_log_fetch(scope_key=scope_key)
    if retry_in is not None:
        calllog.call_log_fetch_schedule(scope_key=scope_key, countdown=retry_in)


@shared_task(name="telephony.reconcile_all")
def reconcile_all() -> int:
    return activecalls.reconcile_all()


@shared_task(name="telephony.subscriptions_maintain")
def subscriptions_maintain() -> dict[str, int]:
    return subscriptions.subscriptions_maintain()


# The sign-in task's tries after a platform error: 5 s, 10 s, 20 s ... (about 10 minutes in
# all), then beat's subscriptions_maintain carries on at its own pace.
SUBSCRIPTION_RETRIES = 7
SUBSCRIPTION_RETRY_FIRST_SECONDS = 5.0


@shared_task(name=dispatch.SUBSCRIPTION_ENSURE)
def subscription_ensure(agent_id: int | None = None, attempt: int = 0) -> None:
    from crm_cti.accounts.models import Agent
    from crm_cti.ringcentral.errors import NeedsSignIn, RateLimited, RingCentralError

    agent = Agent.objects.filter(pk=agent_id).first() if agent_id else None
    if (agent_id and agent is None) or not subscriptions.webhook_transport():
        return  # gone, or queued before the transport became websocket
    try:
        subscriptions.subscription_ensure(agent=agent)
    except NeedsSignIn:
        logger.info("the subscription of %s waits for a new sign-in", agent or "the account")
    except RateLimited as exc:
        # Not a failure: the same try, once the budget allows it.
        dispatch.later(dispatch.SUBSCRIPTION_ENSURE, args=[agent_id, attempt],
                            countdown=exc.retry_after)
    except RingCentralError as exc:
        # Any other platform error (the webhook address did not validate, a 5xx, a timeout)
        # may pass: try again with backoff, a bounded number of times.
        if attempt >= SUBSCRIPTION_RETRIES:
            logger.warning("subscription of %s still failing after %d tries (%s); beat's "
                           "maintenance goes on trying", agent or "the account", attempt + 1, exc)
            return
        countdown = SUBSCRIPTION_RETRY_FIRST_SECONDS * 2**attempt
        logger.warning("subscription of %s failed (%s); trying again in %.0f s",
                       agent or "the account", exc, countdown)
        dispatch.later(dispatch.SUBSCRIPTION_ENSURE, args=[agent_id, attempt + 1],
                            countdown=countdown)
    except Exception:
        logger.exception("could not ensure the subscription of %s", agent or "the account")


@shared_task(name=dispatch.CALLLOG_IMPORT)
def calllog_import(agent_id: int) -> None:
    from crm_cti.accounts.models import Agent
    from crm_cti.ringcentral.errors import NeedsSignIn, RateLimited

    agent = Agent.objects.filter(pk=agent_id).first()
    if agent is None:
        return
    try:
        count = calllog.calllog_import(agent=agent)
        logger.info("call log import for %s: %d calls", agent, count)
    except RateLimited as exc:
        dispatch.later(dispatch.CALLLOG_IMPORT, args=[agent_id], countdown=exc.retry_after)
    except NeedsSignIn:
        logger.info("call log import for %s waits for a new sign-in", agent)


@shared_task(name=dispatch.RINGOUT_POLL)
def ringout_poll(ringout_id: int) -> None:
    if ringout.ringout_poll(ringout_id=ringout_id):
        dispatch.later(
            dispatch.RINGOUT_POLL, args=[ringout_id], countdown=settings.RINGOUT_POLL_SECONDS
        )


@shared_task(name="telephony.ringouts_sweep")
def ringouts_sweep() -> int:
    return ringout.ringouts_sweep()
