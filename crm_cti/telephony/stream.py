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
import zlib
from datetime import timedelta
from typing import Any, NamedTuple

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


def shard_count() -> int:
    return max(1, int(settings.TELEPHONY_SHARDS))


def shard_of(extension_id: str) -> int:
    """The shard of an extension: all its events go to one stream, so one applier at a
    time reads them (crc32: the same in every process, unlike ``hash``)."""
    count = shard_count()
    return zlib.crc32(extension_id.encode()) % count if count > 1 else 0


def stream_key(shard: int = 0) -> str:
    # Shard 0 keeps the unsharded name: a deployment that turns sharding on keeps its stream.
    name = STREAM_NAME if shard == 0 else f"{STREAM_NAME}:{shard}"
    return deployment_key(name)


def stream_keys() -> list[str]:
    return [stream_key(shard) for shard in range(shard_count())]


def event_announce(*, event_id: int, extension_id: str) -> None:
    """Wake an applier for a stored event (or, without a stream, start its task). Never
    raises: the sweeper covers a failure."""
    client = redis_client()
    try:
        if client is not None and not dispatch.tasks_are_eager():
            client.xadd(
                stream_key(shard_of(extension_id)),
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
    waiting = unacknowledged = 0
    found = False
    for key in stream_keys():
        try:
            length = int(client.xlen(key))
            groups = {g["name"].decode(): g for g in client.xinfo_groups(key)}
        except Exception:  # no stream yet (this shard), or Redis away: nothing to show
            groups = None
        if groups is None:
            continue
        found = True
        # Applied entries are deleted: a stream holds exactly what is unread or unacknowledged.
        pending = int((groups.get(GROUP) or {}).get("pending") or 0)
        waiting += max(length - pending, 0)
        unacknowledged += pending
    return {"waiting": waiting, "unacknowledged": unacknowledged} if found else None


def stream_event_ids() -> set[int] | None:
    """The ids of the events the stream still holds (waiting, or read and not yet
    acknowledged: applied entries are deleted); None when Redis cannot be read."""
    client = redis_client()
    if client is None:
        return None
    ids: set[int] = set()
    try:
        for key in stream_keys():
            start = "-"
            while True:
                entries = client.xrange(key, min=start, max="+", count=STREAM_PAGE)
                for _entry_id, fields in entries:
                    with contextlib.suppress(KeyError, ValueError):
                        ids.add(int(fields[b"id"]))
                if len(entries) < STREAM_PAGE:
                    break
                start = "(" + entries[-1][0].decode()
    except Exception:
        logger.warning("could not read the event stream", exc_info=True)
        return None
    return ids


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


class Entry(NamedTuple):
    """One stream entry, with the stream (shard) it was read from."""

    id: bytes
    fields: dict[bytes, bytes]
    stream: str


# Shard leases (TELEPHONY_SHARDS > 1): an applier reads only the shards it holds, so one
# extension's events are read by one applier at a time and appliers do not queue on each
# other's extension locks. Each applier holds about shards / live appliers; a lease not
# renewed for SHARD_LEASE_MS (its applier died) is free for another to take, and the
# entries the dead one held are then claimed after CLAIM_IDLE_MS as before. Correctness
# never rests on the leases: the tracker locks an extension's row and applies its pending
# events in sequence order whoever reads them.
SHARD_LEASE_MS = 10_000
SHARD_RENEW_SECONDS = 2.0
APPLIERS_NAME = "telephony-appliers"
_RENEW = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"
)
_RELEASE = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('del', KEYS[1]) else return 0 end"
)


def _lease_key(shard: int) -> str:
    return deployment_key(f"{STREAM_NAME}-lease:{shard}")


class Applier:
    """One consumer of the stream(s); ``run`` loops until ``stop`` is set."""

    def __init__(self, *, consumer: str | None = None) -> None:
        self.consumer = consumer or f"{socket.gethostname()}:{os.getpid()}"
        self._group_ready: set[str] = set()
        self._next_claim = 0.0
        self._next_lease = 0.0
        self.shards: list[int] = []
        # A batch that failed while the database was away is retried first.
        self._retry: list[Entry] = []

    def run(self, stop: threading.Event) -> None:
        logger.info("applier %s reading %s (%d shards)", self.consumer, stream_key(),
                    shard_count())
        while not stop.is_set():
            try:
                self.step()
            except Exception:
                logger.exception("applier %s: batch failed; retrying", self.consumer)
                self._group_ready = set()
                stop.wait(ERROR_PAUSE_SECONDS)
        self.shards_release()
        logger.info("applier %s stopped", self.consumer)

    def step(self) -> int:
        """Read (or claim) one batch and apply it; returns how many entries it handled."""
        client = redis_client()
        if client is None:
            raise RuntimeError("the applier needs REDIS_URL")
        self._shards_refresh(client)
        if not self.shards:
            time.sleep(BLOCK_MS / 1000)  # every shard is held by another applier
            return 0
        self._group_ensure(client)
        entries = self._retry_keep(client) or self._claim(client) or self._read(client)
        if entries:
            self._apply(client, entries)
        return len(entries)

    # -- shards --------------------------------------------------------------------------
    def _keys(self) -> list[str]:
        return [stream_key(shard) for shard in self.shards]

    def _shards_refresh(self, client: Any) -> None:
        count = shard_count()
        if count == 1:
            # One stream, read by every applier through the consumer group (as before
            # sharding): nothing to share out.
            self.shards = [0]
            return
        now = time.monotonic()
        if now < self._next_lease:
            return
        self._next_lease = now + SHARD_RENEW_SECONDS
        wall = time.time()
        appliers = deployment_key(APPLIERS_NAME)
        pipe = client.pipeline(transaction=False)
        pipe.zadd(appliers, {self.consumer: wall})
        pipe.zremrangebyscore(appliers, "-inf", wall - SHARD_LEASE_MS / 1000)
        pipe.zcard(appliers)
        live = max(int(pipe.execute()[-1]), 1)
        target = -(-count // live)  # ceil: every shard has a reader
        held = [shard for shard in self.shards
                if client.eval(_RENEW, 1, _lease_key(shard), self.consumer, SHARD_LEASE_MS)]
        while len(held) > target:
            client.eval(_RELEASE, 1, _lease_key(held.pop()), self.consumer)
        for shard in range(count):
            if len(held) >= target:
                break
            if shard not in held and client.set(_lease_key(shard), self.consumer, nx=True,
                                                px=SHARD_LEASE_MS):
                held.append(shard)
        if sorted(held) != sorted(self.shards):
            logger.info("applier %s now reads shards %s of %d", self.consumer, sorted(held),
                        count)
        self.shards = sorted(held)

    def shards_release(self) -> None:
        """Give the shards back at once (a clean stop), so another applier need not wait
        for the leases to run out."""
        client = redis_client()
        if client is None or shard_count() == 1:
            return
        with contextlib.suppress(Exception):
            for shard in self.shards:
                client.eval(_RELEASE, 1, _lease_key(shard), self.consumer)
            client.zrem(deployment_key(APPLIERS_NAME), self.consumer)
        self.shards = []

    def _group_ensure(self, client: Any) -> None:
        if not self.shards:
            self._shards_refresh(client)
        for key in self._keys():
            if key in self._group_ready:
                continue
            try:
                # "0": a new group also takes what was announced before any applier ran.
                client.xgroup_create(key, GROUP, id="0", mkstream=True)
            except redis.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
            self._group_ready.add(key)

    # -- reading -------------------------------------------------------------------------
    def _delivered(self, client: Any, entries: list[Entry]) -> dict[bytes, int]:
        """Of ``entries``, those still pending for this consumer, with how many times the
        stream delivered each."""
        delivered: dict[bytes, int] = {}
        by_stream: dict[str, list[bytes]] = {}
        for entry in entries:
            by_stream.setdefault(entry.stream, []).append(entry.id)
        for key, ids in by_stream.items():
            for row in client.xpending_range(
                key, GROUP, min=min(ids, key=_id_order), max=max(ids, key=_id_order),
                count=len(ids) + 100, consumername=self.consumer,
            ):
                delivered[row["message_id"]] = int(row["times_delivered"])
        return delivered

    def _retry_keep(self, client: Any) -> list[Entry]:
        """The batch kept while the database was away, as far as it is still ours. Each try
        refreshes the entries' idle time with XCLAIM JUSTID, which leaves their delivery
        count alone: an outage must not count against them, nor let another applier take
        them over (a take-over counts a delivery)."""
        if not self._retry:
            return []
        mine = set(self._delivered(client, self._retry))
        self._retry = [entry for entry in self._retry if entry.id in mine]
        by_stream: dict[str, list[bytes]] = {}
        for entry in self._retry:
            by_stream.setdefault(entry.stream, []).append(entry.id)
        for key, ids in by_stream.items():
            client.xclaim(key, GROUP, self.consumer, min_idle_time=0, message_ids=ids,
                          justid=True)
        return self._retry

    def _claim(self, client: Any) -> list[Entry]:
        now = time.monotonic()
        if now < self._next_claim:
            return []
        self._next_claim = now + CLAIM_EVERY_SECONDS
        entries: list[Entry] = []
        for key in self._keys():
            result = client.xautoclaim(
                key, GROUP, self.consumer, min_idle_time=CLAIM_IDLE_MS,
                start_id="0-0", count=BATCH_SIZE,
            )
            entries += [Entry(entry[0], entry[1], key) for entry in result[1]
                        if entry and entry[1]]
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
        delivered = self._delivered(client, entries)
        worn = [entry for entry in entries if delivered.get(entry.id, 0) > limit]
        if not worn:
            return entries
        event_ids = [pk for pk in (_event_id(entry.fields) for entry in worn) if pk is not None]
        close_old_connections()
        events_fail(
            event_ids=event_ids,
            error=f"delivered {limit} times to appliers that never finished it",
        )
        self._ack(client, worn)
        worn_ids = {entry.id for entry in worn}
        return [entry for entry in entries if entry.id not in worn_ids]

    def _read(self, client: Any) -> list[Entry]:
        # Every held shard in one blocking read.
        response = client.xreadgroup(
            GROUP, self.consumer, dict.fromkeys(self._keys(), ">"), count=BATCH_SIZE,
            block=BLOCK_MS,
        )
        return [
            Entry(entry[0], entry[1], key.decode() if isinstance(key, bytes) else key)
            for key, entries in response or [] for entry in entries
        ]

    # -- applying ------------------------------------------------------------------------
    def _apply(self, client: Any, entries: list[Entry]) -> None:
        self._retry = entries
        event_ids = []
        extension_ids: set[str] | None = set()
        for entry in entries:
            event_id = _event_id(entry.fields)
            if event_id is None:
                logger.error("applier: malformed stream entry %r dropped", entry.fields)
                continue
            event_ids.append(event_id)
            extension = entry.fields.get(b"ext", b"").decode(errors="replace")
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
        done = [entry for entry in entries if _event_id(entry.fields) not in again]
        self._ack(client, done)
        if again:
            # Left unacknowledged: claimed again after CLAIM_IDLE_MS, by any applier.
            logger.warning("applier: %d events failed and wait for another try: %s",
                           len(again), sorted(again))
        self._retry = []

    def _ack(self, client: Any, entries: list[Entry]) -> None:
        if not entries:
            return
        by_stream: dict[str, list[bytes]] = {}
        for entry in entries:
            by_stream.setdefault(entry.stream, []).append(entry.id)
        pipe = client.pipeline(transaction=False)
        for key, ids in by_stream.items():
            pipe.xack(key, GROUP, *ids)
            pipe.xdel(key, *ids)
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
