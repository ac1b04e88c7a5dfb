"""The applier: stored webhook events → tracker → pops, without a Celery task per event.

In distributed mode the webhook announces each stored event on a Redis stream (one XADD)
instead of publishing a Celery task (kombu's publish was the web's largest cost per event,
and the worker spent about half of each event in Celery's own machinery). Every Celery
worker process runs one applier thread (crm_cti/telephony/worker_step.py) that reads the
stream through a consumer group, in batches, and applies them with
``services.events_process_batch``.

Nothing is lost when an applier dies: an entry is acknowledged only after its batch was
applied, entries another applier left unacknowledged are claimed after
``CLAIM_IDLE_MS``, and the events sweeper (beat) announces again any stored event still
unprocessed after ``EVENT_SWEEP_AFTER_SECONDS`` that the stream no longer holds (Redis
lost, stream trimmed).

Nothing wedges on one bad event either. While the database is away a batch is kept and
tried again (nothing counted against its events). When a batch fails with the database
answering, its events are applied one by one (``services.events_apply_isolated``): the good
ones are acknowledged, each one that failed counts an attempt (``TelephonyEvent.attempts``)
and stays unacknowledged for a later try, by any applier, after ``CLAIM_IDLE_MS``. An event
failed ``EVENT_MAX_ATTEMPTS`` times is marked failed and acknowledged, and so is an entry the
stream delivered more than ``EVENT_MAX_ATTEMPTS`` times (each applier that read it died or
hung before acknowledging it): it holds up neither its extension nor any applier.

In embedded mode, and wherever Celery runs eagerly (tests, manage.py commands), events go
through the ``telephony.event_process`` task as before.
"""

from __future__ import annotations

import contextlib
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
# Entries read per XRANGE when the sweeper lists what the stream holds.
STREAM_PAGE = 10_000


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


def stream_event_ids() -> set[int] | None:
    """The ids of the events the stream still holds (waiting, or read and not yet
    acknowledged: applied entries are deleted); None when Redis cannot be read."""
    client = redis_client()
    if client is None:
        return None
    ids: set[int] = set()
    start = "-"
    try:
        while True:
            entries = client.xrange(stream_key(), min=start, max="+", count=STREAM_PAGE)
            for _entry_id, fields in entries:
                with contextlib.suppress(KeyError, ValueError):
                    ids.add(int(fields[b"id"]))
            if len(entries) < STREAM_PAGE:
                return ids
            start = "(" + entries[-1][0].decode()
    except Exception:
        logger.warning("could not read the event stream", exc_info=True)
        return None


Entry = tuple[bytes, dict[bytes, bytes]]


class Applier:
    """One consumer of the stream; ``run`` loops until ``stop`` is set."""

    def __init__(self, *, consumer: str | None = None) -> None:
        self.consumer = consumer or f"{socket.gethostname()}:{os.getpid()}"
        self._group_ready = False
        self._next_claim = 0.0
        # A batch that failed while the database was away is retried first.
        self._retry: list[Entry] = []

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
        entries = self._retry_keep(client) or self._claim(client) or self._read(client)
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

    def _retry_keep(self, client: Any) -> list[Entry]:
        """The batch kept while the database was away, as far as it is still ours. Each try
        refreshes the entries' idle time with XCLAIM JUSTID, which leaves their delivery
        count alone: an outage must not count against them, nor let another applier take
        them over (a take-over counts a delivery)."""
        if not self._retry:
            return []
        ids = [entry_id for entry_id, _fields in self._retry]
        mine = {
            row["message_id"]
            for row in client.xpending_range(
                stream_key(), GROUP, min=min(ids, key=_id_order), max=max(ids, key=_id_order),
                count=len(ids) + 100, consumername=self.consumer,
            )
        }
        self._retry = [entry for entry in self._retry if entry[0] in mine]
        if self._retry:
            client.xclaim(
                stream_key(), GROUP, self.consumer, min_idle_time=0,
                message_ids=[entry_id for entry_id, _fields in self._retry], justid=True,
            )
        return self._retry

    def _claim(self, client: Any) -> list[Entry]:
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
            entries = self._worn_out_drop(client, entries)
        return entries

    def _worn_out_drop(self, client: Any, entries: list[Entry]) -> list[Entry]:
        """Give up on claimed entries the stream delivered more than EVENT_MAX_ATTEMPTS
        times: every applier that read them died or hung before acknowledging them (an event
        that kills its applier would otherwise kill each one in turn)."""
        from django.conf import settings

        from crm_cti.telephony.services import events_fail

        limit = settings.EVENT_MAX_ATTEMPTS
        ids = [entry_id for entry_id, _fields in entries]
        delivered = {
            row["message_id"]: int(row["times_delivered"])
            for row in client.xpending_range(
                stream_key(), GROUP, min=min(ids, key=_id_order), max=max(ids, key=_id_order),
                count=len(ids) + 100, consumername=self.consumer,
            )
        }
        worn = [entry for entry in entries if delivered.get(entry[0], 0) > limit]
        if not worn:
            return entries
        event_ids = [pk for pk in (_event_id(fields) for _id, fields in worn) if pk is not None]
        close_old_connections()
        events_fail(
            event_ids=event_ids,
            error=f"delivered {limit} times to appliers that never finished it",
        )
        self._ack(client, [entry_id for entry_id, _fields in worn])
        worn_ids = {entry_id for entry_id, _fields in worn}
        return [entry for entry in entries if entry[0] not in worn_ids]

    def _read(self, client: Any) -> list[Entry]:
        response = client.xreadgroup(
            GROUP, self.consumer, {stream_key(): ">"}, count=BATCH_SIZE, block=BLOCK_MS
        )
        return [entry for _stream, entries in response or [] for entry in entries]

    def _apply(self, client: Any, entries: list[Entry]) -> None:
        from crm_cti.telephony.services import (
            database_answers,
            events_apply_isolated,
            events_failures_record,
            events_process_batch,
        )

        self._retry = entries
        event_ids = []
        extension_ids: set[str] | None = set()
        for _entry_id, fields in entries:
            event_id = _event_id(fields)
            if event_id is None:
                logger.error("applier: malformed stream entry %r dropped", fields)
                continue
            event_ids.append(event_id)
            extension = fields.get(b"ext", b"").decode(errors="replace")
            if not extension:
                extension_ids = None  # the batch then reads every extension from the rows
            elif extension_ids is not None:
                extension_ids.add(extension)
        # As Celery's Django fix-up does around each task: drop a connection that broke
        # (PostgreSQL restarted) instead of failing every batch on it.
        close_old_connections()
        again: set[int] = set()
        try:
            events_process_batch(
                event_ids=event_ids,
                extension_ids=sorted(extension_ids) if extension_ids is not None else None,
            )
        except Exception:
            if not database_answers():
                raise  # not acknowledged: the same batch again once the database answers
            # The database answers, so something in the batch fails on its own (a bug, a
            # row the database refuses): apply the events one by one, so that only the
            # failing ones wait for another try.
            logger.exception("applier: batch of %d failed; applying one by one", len(event_ids))
            again = events_failures_record(events_apply_isolated(event_ids=event_ids))
        finally:
            close_old_connections()
        done = [entry_id for entry_id, fields in entries if _event_id(fields) not in again]
        self._ack(client, done)
        if again:
            # Left unacknowledged: claimed again after CLAIM_IDLE_MS, by any applier.
            logger.warning("applier: %d events failed and wait for another try: %s",
                           len(again), sorted(again))
        self._retry = []

    def _ack(self, client: Any, entry_ids: list[bytes]) -> None:
        if not entry_ids:
            return
        pipe = client.pipeline(transaction=False)
        pipe.xack(stream_key(), GROUP, *entry_ids)
        pipe.xdel(stream_key(), *entry_ids)
        pipe.execute()


def _id_order(entry_id: bytes) -> tuple[int, ...]:
    # Stream ids are "<ms>-<seq>": "5-10" comes after "5-9", which bytes compare otherwise.
    return tuple(int(part) for part in entry_id.split(b"-"))


def _event_id(fields: dict[bytes, bytes]) -> int | None:
    try:
        return int(fields[b"id"])
    except (KeyError, ValueError):
        return None


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
