"""Celery tasks of the telephony domain: thin wrappers around services.py.

Tasks that talk to RingCentral reschedule themselves (``countdown``) when the rate budget
says wait; the work is never dropped.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from crm_cti.telephony import services

logger = logging.getLogger(__name__)


@shared_task(name="telephony.event_process", acks_late=True)
def event_process(event_id: int) -> None:
    """Apply one stored webhook event (the hot path)."""
    services.event_process(event_id=event_id)


@shared_task(name="telephony.call_missed_check")
def call_missed_check(call_ids: list[int]) -> None:
    """A NoCall's grace has passed: end those calls no newer event carried on."""
    retry_in = services.calls_missed_end(call_ids=call_ids)
    if retry_in is not None:
        services.task_later(call_missed_check, args=[call_ids], countdown=retry_in)


@shared_task(name="telephony.events_sweep")
def events_sweep() -> int:
    return services.events_sweep()


@shared_task(name="telephony.events_prune")
def events_prune() -> int:
    return services.events_prune()


@shared_task(name="telephony.active_calls_refresh")
def active_calls_refresh(scope_key: str) -> None:
    retry_in = services.active_calls_refresh(scope_key=scope_key)
    if retry_in is not None:
        services.task_later(active_calls_refresh, args=[scope_key], countdown=retry_in)


@shared_task(name="telephony.call_log_fetch")
def call_log_fetch(scope_key: str) -> None:
    retry_in = services.call_log_fetch(scope_key=scope_key)
    if retry_in is not None:
        services.call_log_fetch_schedule(scope_key=scope_key, countdown=retry_in)


@shared_task(name="telephony.reconcile_all")
def reconcile_all() -> int:
    return services.reconcile_all()


@shared_task(name="telephony.subscriptions_maintain")
def subscriptions_maintain() -> dict[str, int]:
    return services.subscriptions_maintain()


# The sign-in task's tries after a platform error: 5 s, 10 s, 20 s ... (about 10 minutes in
# all), then beat's subscriptions_maintain carries on at its own pace.
SUBSCRIPTION_RETRIES = 7
SUBSCRIPTION_RETRY_FIRST_SECONDS = 5.0


@shared_task(name="telephony.subscription_ensure")
def subscription_ensure(agent_id: int | None = None, attempt: int = 0) -> None:
    from crm_cti.accounts.models import Agent
    from crm_cti.ringcentral.errors import NeedsSignIn, RateLimited, RingCentralError

    agent = Agent.objects.filter(pk=agent_id).first() if agent_id else None
    if agent_id and agent is None:
        return
    try:
        services.subscription_ensure(agent=agent)
    except NeedsSignIn:
        logger.info("the subscription of %s waits for a new sign-in", agent or "the account")
    except RateLimited as exc:
        # Not a failure: the same try, once the budget allows it.
        services.task_later(subscription_ensure, args=[agent_id, attempt],
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
        services.task_later(subscription_ensure, args=[agent_id, attempt + 1],
                            countdown=countdown)
    except Exception:
        logger.exception("could not ensure the subscription of %s", agent or "the account")


@shared_task(name="telephony.calllog_import")
def calllog_import(agent_id: int) -> None:
    from crm_cti.accounts.models import Agent
    from crm_cti.ringcentral.errors import NeedsSignIn, RateLimited

    agent = Agent.objects.filter(pk=agent_id).first()
    if agent is None:
        return
    try:
        count = services.calllog_import(agent=agent)
        logger.info("call log import for %s: %d calls", agent, count)
    except RateLimited as exc:
        services.task_later(calllog_import, args=[agent_id], countdown=exc.retry_after)
    except NeedsSignIn:
        logger.info("call log import for %s waits for a new sign-in", agent)


@shared_task(name="telephony.ringout_poll")
def ringout_poll(ringout_id: int) -> None:
    if services.ringout_poll(ringout_id=ringout_id):
        services.task_later(
            ringout_poll, args=[ringout_id], countdown=settings.RINGOUT_POLL_SECONDS
        )


@shared_task(name="telephony.ringouts_sweep")
def ringouts_sweep() -> int:
    return services.ringouts_sweep()
