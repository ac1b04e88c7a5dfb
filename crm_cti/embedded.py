"""Embedded mode: a Celery worker and beat (and, over the WebSocket transport, the events
process) inside the web process.

Celery's eager mode would run a ``countdown``/``eta`` task at once (a delayed call-log
fetch would run before the call log has the call), and the in-memory channel layer only
reaches consumers in the same process. So in embedded mode the web process serves the
in-memory broker with a real worker thread and a beat thread, and delayed work stays
delayed exactly as with Redis.
"""

from __future__ import annotations

import logging
import threading

from celery.beat import EmbeddedService
from celery.worker import WorkController
from django.conf import settings

from crm_cti.celery import app
from crm_cti.telephony.websocket.runner import events_run

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_started: dict[str, object] = {}


def start_embedded_workers() -> bool:
    """Start the in-process worker and beat once; return False in distributed mode."""
    if settings.DISTRIBUTED:
        return False
    with _lock:
        if _started:
            return True
        # From now on tasks go through the in-memory broker instead of running inline.
        app.conf.task_always_eager = False
        worker = WorkController(
            app=app,
            hostname="embedded@crm_cti",
            pool="threads",
            concurrency=4,
            without_heartbeat=True,
            without_mingle=True,
            without_gossip=True,
            loglevel="INFO",
        )
        thread = threading.Thread(target=worker.start, name="celery-embedded", daemon=True)
        thread.start()
        beat = EmbeddedService(app, thread=True, schedule_filename=str(settings.VAR_DIR / "beat"))
        beat.start()
        _started.update(worker=worker, worker_thread=thread, beat=beat)
        if settings.RC_EVENTS_TRANSPORT == "websocket":
            # What the events process stores must reach this process's worker and channel
            # layer (both in memory): it runs here, as the worker does.
            events_stop = threading.Event()
            events = threading.Thread(target=events_run, kwargs={"stop": events_stop},
                                      name="events-embedded", daemon=True)
            events.start()
            _started.update(events_stop=events_stop, events=events)
        logger.info("embedded mode: Celery worker and beat running inside the web process")
    return True


def embedded_workers_running() -> bool:
    with _lock:
        return bool(_started)


def stop_embedded_workers() -> None:
    with _lock:
        worker = _started.pop("worker", None)
        beat = _started.pop("beat", None)
        events_stop = _started.pop("events_stop", None)
        _started.clear()
    if events_stop is not None:
        events_stop.set()  # type: ignore[attr-defined]
    if beat is not None:
        beat.stop()  # type: ignore[attr-defined]
    if worker is not None:
        worker.stop(in_sighandler=False)  # type: ignore[attr-defined]
