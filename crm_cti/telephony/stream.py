"""The event stream: announcing stored events, the applier that drains them, and the
sweeper that announces again what went missing.

In distributed mode the webhook announces each stored event on a Redis stream (one XADD,
``event_announce``) instead of publishing a Celery task (kombu's publish was the web's
largest cost per event, and the worker spent about half of each event in Celery's own
machinery). Every Celery worker process runs one applier thread
(crm_cti/telephony/worker_step.py) that reads the stream through a consumer group, in
batches, and applies them with ``services.events.events_process`` (hence
``events_process_batch``).

Nothing is lost when an applier dies: an entry is acknowledged only after its batch was
applied, entries another applier left unacknowledged are claimed after
``CLAIM_IDLE_MS``, and the events sweeper (beat) announces again any stored event still
unprocessed after ``EVENT_SWEEP_AFTER_SECONDS`` that the stream no longer holds (Redis
lost, stream trimmed).

Nothing wedges on one bad event either. While the database is away a batch is kept and
tried again (nothing counted against its events). When a batch fails with the database
answering, its events are applied one by one (``events_apply_isolated``): the good
ones are acknowledged, each one that failed counts an attempt (``TelephonyEvent.attempts``)
and stays unacknowledged for a later try, by any applier, after ``CLAIM_IDLE_MS``. An event
failed ``EVENT_MAX_ATTEMPTS`` times is marked failed and acknowledged, and so is an entry the
stream delivered more than ``EVENT_MAX_ATTEMPTS`` times (each applier that read it died or
hung before acknowledging it): it holds up neither its extension nor any applier.

In embedded mode, and wherever Celery runs eagerly (tests, manage.py commands), an event
is announced as a ``telephony.event_process`` task (dispatch.py), which takes the same
``events_process`` path with the event's extension's pending events.

The sweeper (``events_sweep``, beat, every minute) announces again the stored events no
stream entry speaks for, ends calls whose NoCall grace passed unchecked, and replays the
push journal (push.py).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from datetime import timedelta
from typing import Any

import redis
from django.conf import settings
from django.db import close_old_connections
from django.db.models import F
from django.utils import timezone

from crm_cti.redis_client import deployment_key, redis_client
from crm_cti.telephony import dispatch
from crm_cti.telephony.models import TelephonyEvent
from crm_cti.telephony.push import push_journal_replay
from crm_cti.telephony.services.events import calls_missed_end, events_fail, events_process

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
# The sweep re-announces at most this many events per run, reading the unapplied ones in
# pages of this size, at most this many pages.
SWEEP_BATCH = 1000
SWEEP_PAGES = 20


def stream_key() -> str:
    return deployment_key(STREAM_NAME)


def event_announce(*, event_id: int, extension_id: str) -> None:
    """Wake an applier for a stored event (or, without a stream, start its task). Never
    raises: the sweeper covers a failure."""
    client = redis_client()
    try:
        if client is not None and not dispatch.tasks_are_eager():
            client.xadd(
                stream_key(),
                {"id": event_id, "ext": extension_id},
                maxlen=STREAM_MAXLEN,
                approximate=True,
            )
            return
        dispatch.send(dispatch.EVENT_PROCESS, event_id)
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


def events_sweep() -> int:
    """Announce again the stored events still unapplied after ``EVENT_SWEEP_AFTER_SECONDS``
    that no stream entry speaks for any more (stored while Redis was down, lost when it
    restarted, trimmed), even while the appliers are busy with others; returns how many.

    Events still in the stream are left to the appliers (an overload is not made worse by a
    second copy). Each announcement counts as an attempt; an event announced
    ``EVENT_MAX_ATTEMPTS`` times without being applied is marked failed.
    """
    # Calls left ringing past their grace after a NoCall (the delayed check was lost).
    calls_missed_end()

    # Where tasks run eagerly nothing is announced on the stream (event_announce), so
    # whatever another deployment left there says nothing about this one's events.
    eager = dispatch.tasks_are_eager()
    cutoff = timezone.now() - timedelta(seconds=settings.EVENT_SWEEP_AFTER_SECONDS)
    unapplied = TelephonyEvent.objects.filter(processed_at__isnull=True, received_at__lt=cutoff)
    announced = 0
    if unapplied.exists():
        in_stream: set[int] = set()
        if not eager:
            found = stream_event_ids()
            if found is None:
                # Redis is away: an announcement would fail too. The next sweep tries again.
                logger.warning("events sweep: the stream cannot be read; nothing re-announced")
                return 0
            in_stream = found
        # Oldest first, page by page: under load the oldest may all still be in the stream,
        # and the lost ones behind them must not wait until it drains.
        lost: list[int] = []
        after = 0
        for _page in range(SWEEP_PAGES):
            page = list(
                unapplied.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[
                    :SWEEP_BATCH
                ]
            )
            lost += [pk for pk in page if pk not in in_stream]
            if len(page) < SWEEP_BATCH or len(lost) >= SWEEP_BATCH:
                break
            after = page[-1]
        announced = _events_reannounce(lost[:SWEEP_BATCH], stream=not eager)
    # Pushes a killed worker journaled but never sent (see push.py).
    push_journal_replay(older_than=settings.EVENT_SWEEP_AFTER_SECONDS)
    return announced


def _events_reannounce(event_ids: list[int], *, stream: bool) -> int:
    """Announce again events no stream entry speaks for (the stream was lost or trimmed, the
    broker dropped the task), counting each announcement; give up on those announced
    ``EVENT_MAX_ATTEMPTS`` times already."""
    # An applier may have finished some of them since they were read.
    rows = list(
        TelephonyEvent.objects.filter(pk__in=event_ids, processed_at__isnull=True)
        .values_list("pk", "rc_extension_id", "attempts")
    )
    exhausted = [pk for pk, _ext, attempts in rows if attempts >= settings.EVENT_MAX_ATTEMPTS]
    if exhausted:
        events_fail(
            event_ids=exhausted,
            error=f"not applied after {settings.EVENT_MAX_ATTEMPTS} attempts "
            "(announced again each time it went missing)",
        )
    again = [(pk, ext) for pk, ext, attempts in rows if attempts < settings.EVENT_MAX_ATTEMPTS]
    if not again:
        return 0
    TelephonyEvent.objects.filter(pk__in=[pk for pk, _ext in again]).update(
        attempts=F("attempts") + 1
    )
    for pk, ext in again:
        if stream:
            event_announce(event_id=pk, extension_id=ext)
        else:
            dispatch.send(dispatch.EVENT_PROCESS, pk)
    logger.info("events sweep: re-announced %d unprocessed events", len(again))
    return len(again)


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
        try:
            # An outage raises: not acknowledged, the same batch again once the database
            # answers. Events that fail on their own come back in ``again``.
            again = events_process(
                event_ids=event_ids,
                extension_ids=sorted(extension_ids) if extension_ids is not None else None,
            )
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
