"""REST work (enrichment, polling, subscriptions, imports) goes to ``<CELERY_QUEUE>.rest``;
what a pop depends on stays on the default queue; a worker runs the applier only when it
consumes the default queue, so ``-Q <queue>.rest`` gives enrichment a process of its own
and the applier's process does nothing else. The broker is real Redis."""

from __future__ import annotations

import pytest
from celery import Celery
from django.conf import settings

from crm_cti.celery import app
from crm_cti.redis_client import redis_client
from crm_cti.telephony import dispatch
from crm_cti.telephony.worker_step import worker_applies_events

REST = (
    dispatch.ACTIVE_CALLS_REFRESH, dispatch.CALL_LOG_FETCH, dispatch.CALLLOG_IMPORT,
    dispatch.RINGOUT_POLL, dispatch.SUBSCRIPTION_ENSURE, "telephony.reconcile_all",
    "telephony.subscriptions_maintain", "telephony.ringouts_sweep", "crm.contact_import_process",
)
HOT = (dispatch.EVENT_PROCESS, dispatch.CALL_MISSED_CHECK, "telephony.events_sweep",
       "ops.worker_heartbeat")


def test_every_rest_task_is_routed_to_the_rest_queue_and_the_hot_ones_are_not():
    assert f"{settings.CELERY_TASK_DEFAULT_QUEUE}.rest" == settings.CELERY_REST_QUEUE
    for name in REST:
        assert name in app.tasks, name
        assert app.amqp.router.route({}, name)["queue"].name == settings.CELERY_REST_QUEUE, name
    for name in HOT:
        queue = app.amqp.router.route({}, name)["queue"].name
        assert queue == settings.CELERY_TASK_DEFAULT_QUEUE, name


def test_the_rest_queue_follows_the_running_apps_queue(monkeypatch):
    """A test stack (or a second deployment) with its own queue gets its own REST queue."""
    monkeypatch.setattr(app.conf, "task_default_queue", "stack-7")
    assert app.amqp.router.route({}, dispatch.CALL_LOG_FETCH)["queue"].name == "stack-7.rest"
    assert app.amqp.router.route({}, dispatch.CALL_MISSED_CHECK)["queue"].name == "stack-7"


def _app() -> Celery:
    # Not made the current app: dispatch and the deployment keys read current_app.
    fresh = Celery("crm_cti_queues", set_as_current=False)
    fresh.config_from_object("django.conf:settings", namespace="CELERY")
    return fresh


def test_only_a_worker_consuming_the_default_queue_runs_the_applier():
    both = _app()
    assert worker_applies_events(both)  # no -Q: both queues, the applier too (as before)
    events = _app()
    events.amqp.queues.select([settings.CELERY_TASK_DEFAULT_QUEUE])
    assert worker_applies_events(events)
    rest = _app()
    rest.amqp.queues.select([settings.CELERY_REST_QUEUE])
    assert not worker_applies_events(rest)


def _bound_queues(exchange: str) -> set[str]:
    """The queues kombu's Redis transport delivers a message of ``exchange`` to (members
    of ``_kombu.binding.<exchange>`` are routing key, pattern and queue)."""
    members = redis_client().smembers(f"_kombu.binding.{exchange}")
    return {member.decode().split("\x06\x16")[-1] for member in members}


@pytest.mark.usefixtures("distributed_mode")
def test_each_task_is_delivered_to_one_queue_only(monkeypatch):
    """Published through the real broker: a REST task's exchange leads to the REST queue
    alone and a hot task's to the default queue alone (two queues bound with one key would
    each get a copy). Which worker then runs it is Celery's own business."""
    monkeypatch.setattr(app.conf, "task_always_eager", False)
    rest, default = settings.CELERY_REST_QUEUE, settings.CELERY_TASK_DEFAULT_QUEUE
    assert dispatch.later(dispatch.CALL_LOG_FETCH, args=["agent:0"], countdown=3600)
    assert dispatch.later(dispatch.CALL_MISSED_CHECK, args=[[0]], countdown=3600)
    routes = {name: app.amqp.router.route({}, name)["queue"]
              for name in (dispatch.CALL_LOG_FETCH, dispatch.CALL_MISSED_CHECK)}
    assert _bound_queues(routes[dispatch.CALL_LOG_FETCH].exchange.name) == {rest}
    assert _bound_queues(routes[dispatch.CALL_MISSED_CHECK].exchange.name) == {default}
