"""A Celery worker boot step that runs the telephony applier beside the worker's pool.

Every ``celery -A crm_cti worker`` that consumes the default queue (demo, compose, tests,
bench) thus also drains the event stream: no extra process to deploy or forget. A worker
started for the REST queue only (``-Q <CELERY_QUEUE>.rest``, settings.CELERY_REST_QUEUE)
runs no applier: enrichment then never shares a process (and its GIL) with the applier.
Imported by crm_cti/celery.py before Django is set up, so everything Django is imported
when the step starts.
"""

from __future__ import annotations

from typing import Any

from celery import bootsteps


def worker_applies_events(app: Any) -> bool:
    """Whether this worker consumes the default queue (``-Q`` left out, or naming it)."""
    consumed = app.amqp.queues.consume_from or {}
    return app.conf.task_default_queue in consumed


class TelephonyApplierStep(bootsteps.StartStopStep):
    requires = {"celery.worker.components:Pool"}

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.thread: Any = None

    def start(self, parent: Any) -> None:
        from django.conf import settings

        from crm_cti.telephony.dispatch import tasks_are_eager

        # Embedded mode has no stream: its events travel as Celery tasks.
        if not settings.REDIS_URL or tasks_are_eager():
            return
        if not worker_applies_events(parent.app):
            return
        from crm_cti.telephony.stream import ApplierThread

        self.thread = ApplierThread()
        self.thread.start()

    def stop(self, parent: Any) -> None:
        if self.thread is not None:
            self.thread.stop()
            self.thread = None
