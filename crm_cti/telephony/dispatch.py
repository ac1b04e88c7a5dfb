"""Starting background work, by task name: the one door from domain code to Celery.

A leaf: it imports nothing of ours (only Celery and the cache). Services name
the task they want (``CALL_LOG_FETCH``...) and ``send`` or ``later`` it; tasks.py calls the
services. So no domain module imports tasks.py or the Celery app, and the import graph
has no loop through them (tests/foundation/test_product_imports_have_no_cycle.py).

"Are tasks eager" is read from the running app (``celery.current_app``): tests and
``manage.py`` commands run tasks inline, where a countdown cannot be honoured; embedded
mode turns eagerness off when it starts its in-process worker (crm_cti/embedded.py).
"""

from __future__ import annotations

import logging
from typing import Any

from celery import current_app
from django.core.cache import cache

logger = logging.getLogger(__name__)

# The telephony tasks (crm_cti/telephony/tasks.py registers them under these names).
EVENT_PROCESS = "telephony.event_process"
CALL_MISSED_CHECK = "telephony.call_missed_check"
ACTIVE_CALLS_REFRESH = "telephony.active_calls_refresh"
CALL_LOG_FETCH = "telephony.call_log_fetch"
CALLLOG_IMPORT = "telephony.calllog_import"
RINGOUT_POLL = "telephony.ringout_poll"
SUBSCRIPTION_ENSURE = "telephony.subscription_ensure"
# Messaging's tasks (crm_cti/messaging/tasks.py), started by telephony by name only.
MESSAGE_EVENTS_APPLY = "messaging.message_events_apply"
MESSAGES_IMPORT = "messaging.messages_import"


# REST work: a queue of its own, "<queue>.rest" (settings.CELERY_REST_QUEUE), so that a worker
# for the default queue runs the applier and nothing that waits on RingCentral. Every other
# task runs on the default queue: event_process (embedded mode), call_missed_check (it
# pushes the missed state), the events sweep (re-announces, replays the push journal), the
# worker heartbeat.
REST_TASKS = frozenset({
    ACTIVE_CALLS_REFRESH, CALL_LOG_FETCH, CALLLOG_IMPORT, RINGOUT_POLL, SUBSCRIPTION_ENSURE,
    "telephony.ringouts_sweep", "telephony.subscriptions_maintain", "telephony.reconcile_all",
    "telephony.events_prune", "crm.contact_import_process", "crm.contact_imports_sweep",
    # Messaging reads the message store for what an event announced, imports and syncs.
    MESSAGE_EVENTS_APPLY, MESSAGES_IMPORT, "messaging.messages_sync_all",
})


def task_route(name: str, args: Any, kwargs: Any, options: Any, task: Any = None,
               **kw: Any) -> dict[str, str] | None:
    """Celery's router (settings.CELERY_TASK_ROUTES): the REST queue of the running app's
    default queue, read at each send (not at import: test stacks change the queue)."""
    if name in REST_TASKS:
        return {"queue": f"{current_app.conf.task_default_queue}.rest"}
    return None


def tasks_are_eager() -> bool:
    """Eager Celery (tests, manage.py commands) cannot delay work: leave it to the sweeps."""
    return bool(current_app.conf.task_always_eager)


def _task(name: str) -> Any:
    return current_app.tasks[name]


def send(name: str, *args: Any) -> None:
    """Start task ``name`` now (``delay``: inline when tasks are eager). Raises what the
    broker raises; callers that must not fail catch it."""
    _task(name).delay(*args)


def later(name: str, *, args: list[Any], countdown: float) -> bool:
    """Start task ``name`` after ``countdown`` seconds, or nothing in eager mode (the beat
    sweeps pick the pending work up). Returns whether it was scheduled; never raises."""
    if tasks_are_eager():
        logger.debug("eager mode: %s%s left for the periodic sweep", name, args)
        return False
    try:
        _task(name).apply_async(args=args, countdown=max(float(countdown), 0.0))
    except Exception:
        logger.exception("could not schedule %s%s; the periodic sweep will", name, args)
        return False
    return True


def once_per(key: str, *, seconds: float) -> bool:
    """True for the first caller of ``key`` in a window of ``seconds``, across every process
    (the cache: Redis in distributed mode): a burst of events starts one task, not one each."""
    return bool(cache.add(f"telephony:{key}", 1, timeout=max(int(seconds), 1)))


def once_per_forget(key: str) -> None:
    """Open ``key``'s window again (the task it guarded was not scheduled, or has started)."""
    cache.delete(f"telephony:{key}")
