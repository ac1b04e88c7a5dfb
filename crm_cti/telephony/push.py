"""Push call changes to the browsers of the agent concerned (Channels groups)."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from datetime import datetime
from typing import Any

import orjson
from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

from crm_cti.redis_client import deployment_key, recent_set_add, redis_client
from crm_cti.telephony.models import Call
from crm_cti.telephony.receipts import pops_expect
from crm_cti.telephony.serializers import call_to_dict

logger = logging.getLogger(__name__)

# Admins watching every agent (the operations view) join this group.
ACCOUNT_GROUP = "calls.account"


def agent_group_name(agent_id: int) -> str:
    return f"agent.{agent_id}"


class _PushLoop:
    """An event loop of this process's own, in a daemon thread, for channels_redis sends.

    ``async_to_sync`` starts a new event loop for every call, and channels_redis keeps its
    Redis connections per loop: each push opened (and dropped) fresh connections, which was
    the largest cost of a worker's event (bench/, README "Performance"). Sends submitted
    here reuse the layer's connections. Recreated after a fork (Celery prefork children).
    """

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def run(self, coro: Any, timeout: float) -> Any:
        with self._lock:
            if self._loop is None or self._pid != os.getpid():
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="push-loop", daemon=True).start()
                self._loop, self._pid = loop, os.getpid()
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)


_push_loop = _PushLoop()
PUSH_TIMEOUT_SECONDS = 10.0


def _send(groups: list[str], message: dict[str, Any]) -> None:
    _send_many([(groups, message)])


def _send_many(sends: list[tuple[list[str], dict[str, Any]]]) -> None:
    """Send each message to its groups: one channel-layer send per group, carrying all of
    that group's messages of the batch in order (two changes of one call must not overtake
    each other); groups at once. A group_send costs channels_redis three Redis round trips,
    so at 200 events/s a send per message and group was a fifth of the worker's time."""
    layer = get_channel_layer()
    if layer is None or not sends:
        return
    by_group: dict[str, list[dict[str, Any]]] = {}
    for groups, message in sends:
        for group in groups:
            by_group.setdefault(group, []).append(message)

    def envelope(messages: list[dict[str, Any]]) -> dict[str, Any]:
        if len(messages) == 1:
            return {"type": "push.message", "message": messages[0]}
        return {"type": "push.messages", "messages": messages}

    async def send_group(group: str, event: dict[str, Any]) -> None:
        try:
            await layer.group_send(group, event)
        except Exception:
            # Once more: the first send after Redis restarted finds the pool's connection
            # closed by the server, and the pool opens a new one for the next. A batch's
            # messages travel together, so one lost send would lose all of them.
            logger.warning("push to %s failed; trying once more", group, exc_info=True)
            await layer.group_send(group, event)

    async def send_all() -> list[Any]:
        return await asyncio.gather(
            *(send_group(group, envelope(messages)) for group, messages in by_group.items()),
            return_exceptions=True,
        )

    try:
        if isinstance(layer, InMemoryChannelLayer):
            # In-memory groups live on the web process's own loop: async_to_sync runs there.
            results = async_to_sync(send_all)()
        else:
            results = _push_loop.run(send_all(), PUSH_TIMEOUT_SECONDS)
    except Exception as exc:
        results = [exc] * len(by_group)
    for group, result in zip(by_group, results, strict=True):
        if isinstance(result, BaseException):
            # The call row is already right; a browser that missed this gets the snapshot
            # when it reconnects. Never fail the tracker because Redis hiccuped.
            logger.error("push to %s failed", group, exc_info=result)


def push_call(call: Call) -> None:
    """Send ``{"type": "call", "call": {...}}`` to the agent's group (and the account's)."""
    push_call_dict(call_to_dict(call))


def push_call_dict(call: dict[str, Any]) -> None:
    """Push an already serialized call (the tracker serializes each intermediate state)."""
    push_call_dicts([call])


def push_call_dicts(calls: list[dict[str, Any]],
                    event_at: list[datetime | None] | None = None) -> None:
    """Push serialized calls in this order (per group, Channels keeps the order of sends).

    ``event_at``, beside each call, is when the event that made the change was stored: the
    frame carries it (epoch ms) and the browser's receipt answers it (receipts.py)."""
    account = account_watched()
    frames: list[tuple[list[str], dict[str, Any]]] = []
    expected: list[tuple[int, int, str]] = []
    for index, call in enumerate(calls):
        frame: dict[str, Any] = {"type": "call", "call": call}
        at = event_at[index] if event_at is not None and index < len(event_at) else None
        if at is not None:
            frame["event_at"] = round(at.timestamp() * 1000, 1)
            if call.get("agent_id") is not None:
                expected.append((call["agent_id"], call["id"], call.get("state") or ""))
        frames.append((_groups_for(call, account=account), frame))
    # Expected before they are sent: a browser's receipt can beat the next round trip.
    pops_expect(expected)
    _send_many(frames)


def _groups_for(call: dict[str, Any], *, account: bool = True) -> list[str]:
    groups = [ACCOUNT_GROUP] if account else []
    if call.get("agent_id") is not None:
        groups.insert(0, agent_group_name(call["agent_id"]))
    return groups


# --------------------------------------------------------------------------- account watchers
# Admins watching everyone (?agent=all) are few and seldom there; sending every change to
# their group too doubled the channel-layer sends. The consumer records its channel while
# it watches (a Redis sorted set scored by when it joined); pushes go to the account group
# only while the set is not empty. Read once per batch after the commit: a watcher that
# joined before the read gets the change, one that joined after read it in its snapshot
# (the consumer joins, then snapshots). A web process that died leaves its members behind:
# that only costs sends, and members older than a day are dropped.
ACCOUNT_WATCHERS_NAME = "account-watchers"
WATCHER_MAX_AGE_SECONDS = 86400


def account_watch_start(channel: str) -> None:
    client = redis_client()
    if client is None:
        return
    try:
        recent_set_add(client, deployment_key(ACCOUNT_WATCHERS_NAME), channel,
                       keep_seconds=WATCHER_MAX_AGE_SECONDS)
    except Exception:
        # The pushes then find no watcher and skip the account group until Redis answers
        # again; the socket's snapshot (and a reconnect's) still shows every call.
        logger.warning("could not record an account watcher", exc_info=True)


def account_watch_end(channel: str) -> None:
    client = redis_client()
    if client is None:
        return
    try:
        client.zrem(deployment_key(ACCOUNT_WATCHERS_NAME), channel)
    except Exception:
        logger.warning("could not forget an account watcher", exc_info=True)


def account_watched() -> bool:
    """Whether anyone watches the account group (always, without Redis: in memory a send
    to an empty group costs nothing; and when Redis cannot say, send)."""
    client = redis_client()
    if client is None:
        return True
    try:
        return bool(client.zcount(deployment_key(ACCOUNT_WATCHERS_NAME),
                                  time.time() - WATCHER_MAX_AGE_SECONDS, "+inf"))
    except Exception:
        return True


def push_calls(call_ids: list[int]) -> None:
    calls = Call.objects.filter(pk__in=call_ids).select_related("contact")
    for call in calls:
        push_call(call)


def push_agent(*, agent_id: int, message: dict[str, Any]) -> None:
    """Send any ``{"type": ...}`` message to one agent's group (messaging's "sms",
    "voicemail", "followups"). Raises what the channel layer raises."""
    _send([agent_group_name(agent_id)], message)


def push_ringout(*, agent_id: int, ringout: dict[str, Any]) -> None:
    """Send ``{"type": "ringout", "ringout": {...}}`` to the agent's group."""
    _send([agent_group_name(agent_id)], {"type": "ringout", "ringout": ringout})


# --------------------------------------------------------------------------- push journal
# A push happens after the tracker's transaction commits; a worker killed between the commit
# and the push would leave browsers without the change until they reconnect. So the ids of
# the calls about to change are journaled in Redis *before* the commit and crossed off after
# the push; the events sweeper re-pushes the current state of any entry left behind. A
# re-push carries the same call id, so the browser updates the card it has (or shows the
# card it missed) and never pops twice. Embedded mode has no journal: there a crash takes
# the web process and its in-memory channel layer with it, and browsers reconnect to a
# snapshot.
PUSH_JOURNAL_NAME = "telephony-push-journal"


def _journal() -> Any:
    return redis_client()


def push_journal_add(*, call_ids: list[int]) -> str | None:
    """Record that these calls are about to be pushed; returns the entry to cross off."""
    if not call_ids:
        return None
    client = _journal()
    if client is None:
        return None
    import uuid

    entry = orjson.dumps({"id": uuid.uuid4().hex, "calls": sorted(set(call_ids))}).decode()
    try:
        client.zadd(deployment_key(PUSH_JOURNAL_NAME), {entry: time.time()})
    except Exception:
        # Redis down: the push itself will fail too; browsers reconnect to a snapshot.
        logger.warning("push journal unavailable", exc_info=True)
        return None
    return entry


def push_journal_done(entry: str | None) -> None:
    if entry is None:
        return
    client = _journal()
    if client is None:
        return
    try:
        client.zrem(deployment_key(PUSH_JOURNAL_NAME), entry)
    except Exception:
        logger.warning("push journal unavailable", exc_info=True)


def push_journal_replay(*, older_than: float) -> int:
    """Re-push the current state of calls whose push may have been lost; returns how many
    journal entries were replayed."""
    client = _journal()
    if client is None:
        return 0
    entries = client.zrangebyscore(deployment_key(PUSH_JOURNAL_NAME), "-inf",
                                   time.time() - older_than, start=0, num=500)
    call_ids: set[int] = set()
    for raw in entries:
        call_ids.update(orjson.loads(raw)["calls"])
    # Calls created in a transaction that was rolled back do not exist: nothing to send.
    push_calls(sorted(call_ids))
    if entries:
        client.zrem(deployment_key(PUSH_JOURNAL_NAME), *entries)
        logger.info("push journal: re-pushed %d calls of %d entries", len(call_ids),
                    len(entries))
    return len(entries)
