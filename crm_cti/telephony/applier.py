"""The applier: stored webhook events → tracker → pops, without a Celery task per event.

In distributed mode the webhook announces each stored event on a Redis stream (one XADD)
instead of publishing a Celery task (kombu's publish was the web's largest cost per event,
and the worker spent about half of each event in Celery's own machinery). Every Celery
worker process runs one applier thread (crm_cti/telephony/worker_step.py) that reads the
stream through a consumer group, in batches, and applies them with
``services.events_process_batch``.

Nothing is lost when an applier dies: an entry is acknowledged only after its batch was
applied, entries another applier left unacknowledged are claimed after
``CLAIM_IDLE_MS``, and the events sweeper (beat) re-enqueues any stored event still
unprocessed after ``EVENT_SWEEP_AFTER_SECONDS`` (Redis lost, stream trimmed).

In embedded mode, and wherever Celery runs eagerly (tests, manage.py commands), events go
through the ``telephony.event_process`` task as before.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from typing import Any

from django.db import close_old_connections

from crm_cti.redis_client import deployment_key, redis_client

logger = logging.getLogger(__name__)

STREAM_NAME = "telephony-events"
GROUP = "appliers"
# An approximate cap: the stream only wakes appliers, the events themselves are rows.
STREAM_MAXLEN = 100_000
BATCH_SIZE = 200
BLOCK_MS = 1000
# Entries a dead applier had read are taken over after this long.
CLAIM_IDLE_MS = 15_000
CLAIM_EVERY_SECONDS = 5.0
ERROR_PAUSE_SECONDS = 1.0


def stream_key() -> str:
    return deployment_key(STREAM_NAME)


def event_announce(*, event_id: int, extension_id: str) -> None:
    """Wake an applier for a stored event. Never raises: the sweeper covers a failure."""
    from crm_cti.telephony.services import tasks_are_eager

    client = redis_client()
    try:
        if client is not None and not tasks_are_eager():
            client.xadd(
                stream_key(),
                {"id": event_id, "ext": extension_id},
                maxlen=STREAM_MAXLEN,
                approximate=True,
            )
            return
        from crm_cti.telephony.tasks import event_process

        event_process.delay(event_id)
    except Exception:
        # Kept with processed_at NULL: the sweeper (beat) re-enqueues it.
        logger.exception("webhook: could not announce event %s; the sweeper will", event_id)


def stream_backlog() -> dict[str, int] | None:
    """Entries waiting in the stream and read but not yet acknowledged (the ops page)."""
    client = redis_client()
    if client is None:
        return None
    try:
        length = int(client.xlen(stream_key()))
        groups = {g["name"].decode(): g for g in client.xinfo_groups(stream_key())}
    except Exception:  # no stream yet, or Redis away: nothing to show
        return None
    # Applied entries are deleted, so the stream holds exactly what is unread or unacknowledged.
    pending = int((groups.get(GROUP) or {}).get("pending") or 0)
    return {"waiting": max(length - pending, 0), "unacknowledged": pending}


class Applier:
    """One consumer of the stream; ``run`` loops until ``stop`` is set."""

    def __init__(self, *, consumer: str | None = None) -> None:
        self.consumer = consumer or f"{socket.gethostname()}:{os.getpid()}"
        self._group_ready = False
        self._next_claim = 0.0
        # A batch that failed (database away, a deadlock victim) is retried first.
        self._retry: list[tuple[bytes, dict[bytes, bytes]]] = []

    def run(self, stop: threading.Event) -> None:
        logger.info("applier %s reading %s", self.consumer, stream_key())
        while not stop.is_set():
            try:
                self.step()
            except Exception:
                logger.exception("applier %s: batch failed; retrying", self.consumer)
                self._group_ready = False
                stop.wait(ERROR_PAUSE_SECONDS)
        logger.info("applier %s stopped", self.consumer)

    def step(self) -> int:
        """Read (or claim) one batch and apply it; returns how many entries it handled."""
        client = redis_client()
        if client is None:
            raise RuntimeError("the applier needs REDIS_URL")
        if not self._group_ready:
            self._group_ensure(client)
        entries = self._retry or self._claim(client) or self._read(client)
        if entries:
            self._apply(client, entries)
        return len(entries)

    def _group_ensure(self, client: Any) -> None:
        import redis

        try:
            # "0": a new group also takes what was announced before any applier ran.
            client.xgroup_create(stream_key(), GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    def _claim(self, client: Any) -> list[tuple[bytes, dict[bytes, bytes]]]:
        import time

        now = time.monotonic()
        if now < self._next_claim:
            return []
        self._next_claim = now + CLAIM_EVERY_SECONDS
        result = client.xautoclaim(
            stream_key(), GROUP, self.consumer, min_idle_time=CLAIM_IDLE_MS,
            start_id="0-0", count=BATCH_SIZE,
        )
        entries = [entry for entry in result[1] if entry and entry[1]]
        if entries:
            logger.warning("applier %s took over %d unacknowledged events", self.consumer,
                           len(entries))
        return entries

    def _read(self, client: Any) -> list[tuple[bytes, dict[bytes, bytes]]]:
        response = client.xreadgroup(
            GROUP, self.consumer, {stream_key(): ">"}, count=BATCH_SIZE, block=BLOCK_MS
        )
        return [entry for _stream, entries in response or [] for entry in entries]

    def _apply(self, client: Any, entries: list[tuple[bytes, dict[bytes, bytes]]]) -> None:
        from django.db import DatabaseError

        from crm_cti.telephony.services import event_process, events_process_batch

        self._retry = entries
        event_ids = []
        extension_ids: set[str] | None = set()
        for _entry_id, fields in entries:
            try:
                event_ids.append(int(fields[b"id"]))
            except (KeyError, ValueError):
                logger.error("applier: malformed stream entry %r dropped", fields)
                continue
            extension = fields.get(b"ext", b"").decode(errors="replace")
            if not extension:
                extension_ids = None  # the batch then reads every extension from the rows
            elif extension_ids is not None:
                extension_ids.add(extension)
        # As Celery's Django fix-up does around each task: drop a connection that broke
        # (PostgreSQL restarted) instead of failing every batch on it.
        close_old_connections()
        try:
            events_process_batch(
                event_ids=event_ids,
                extension_ids=sorted(extension_ids) if extension_ids is not None else None,
            )
        except DatabaseError:
            raise  # not acknowledged: applied again once the database answers
        except Exception:
            # A bug on one event must not block the others forever: apply them one by one,
            # log what fails (its row stays unprocessed, visible on the operations page).
            logger.exception("applier: batch of %d failed; applying one by one", len(event_ids))
            for event_id in event_ids:
                try:
                    event_process(event_id=event_id)
                except DatabaseError:
                    raise
                except Exception:
                    logger.exception("applier: event %s failed", event_id)
        finally:
            close_old_connections()
        ids = [entry_id for entry_id, _fields in entries]
        pipe = client.pipeline(transaction=False)
        pipe.xack(stream_key(), GROUP, *ids)
        pipe.xdel(stream_key(), *ids)
        pipe.execute()
        self._retry = []


class ApplierThread:
    """The applier in a daemon thread of this process (started by the worker step)."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        applier = Applier()
        self._thread = threading.Thread(
            target=applier.run, args=(self._stop,), name="telephony-applier", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
