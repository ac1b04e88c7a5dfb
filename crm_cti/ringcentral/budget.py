"""The request budget per (user, throttling group), shared by every process.

RingCentral limits each user of an app per throttling group (Light, Medium, Heavy, Auth;
the group of every operation is ``x-throttling-group`` in the spec). Going over costs a
429 and a penalty (60 s by default) during which every request of that group fails, which
blanks the agent's screen. So every request first asks the budget:

- a sliding-window log of the requests sent in the last window, with the limit and window
  learnt from the ``X-Rate-Limit-*`` headers (defaults from PLATFORM.md until a response
  says otherwise), re-synchronised with the platform's ``X-Rate-Limit-Remaining``;
- a block until a given time, set by a 429 (``Retry-After``) or by ``Remaining: 0``.

In distributed mode the state lives in Redis and is checked and updated by one Lua script,
so that N web and worker processes never send more than the budget between them. In
embedded mode there is one process: a dictionary under a lock does the same.

``budget_wait_seconds`` lets background work schedule itself (``countdown=``) instead of
being refused; the client refuses (``RateLimited(sent=False)``) without sending when the
budget says wait.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal
from urllib.parse import urlsplit

from django.conf import settings

# The process's shared Redis client: a leaf, the only module of ours this package uses.
from crm_cti.redis_client import redis_client

Group = Literal["Light", "Medium", "Heavy", "Auth"]
GROUPS: tuple[Group, ...] = ("Light", "Medium", "Heavy", "Auth")

# Platform defaults (requests, window seconds) until a response's headers tell the real ones.
DEFAULT_LIMITS: dict[str, tuple[int, float]] = {
    "Light": (50, 60.0),
    "Medium": (40, 60.0),
    "Heavy": (10, 60.0),
    "Auth": (5, 60.0),
}
# Added to the window the platform announces (see budget_observe).
WINDOW_MARGIN_SECONDS = 1.0
# When a 429 comes without Retry-After, the documented default penalty.
DEFAULT_PENALTY_SECONDS = 60.0

# (method, spec path template, group) for every operation the client sends; a test checks
# each row against x-throttling-group in rc-public-openapi.yml.
OPERATION_GROUPS: tuple[tuple[str, str, Group], ...] = (
    ("POST", "/restapi/oauth/token", "Auth"),
    ("POST", "/restapi/oauth/revoke", "Auth"),
    ("POST", "/restapi/oauth/wstoken", "Auth"),
    ("GET", "/restapi/v1.0/account/{accountId}", "Light"),
    ("GET", "/restapi/v1.0/account/{accountId}/extension/{extensionId}", "Light"),
    ("GET", "/restapi/v1.0/account/{accountId}/extension/{extensionId}/phone-number", "Light"),
    ("GET", "/restapi/v1.0/account/{accountId}/phone-number", "Heavy"),
    ("GET", "/restapi/v1.0/account/{accountId}/active-calls", "Heavy"),
    ("GET", "/restapi/v1.0/account/{accountId}/extension/{extensionId}/active-calls", "Heavy"),
    ("GET", "/restapi/v1.0/account/{accountId}/call-log", "Heavy"),
    ("GET", "/restapi/v1.0/account/{accountId}/extension/{extensionId}/call-log", "Heavy"),
    ("GET", "/restapi/v1.0/account/{accountId}/call-log/{callRecordId}", "Heavy"),
    (
        "GET",
        "/restapi/v1.0/account/{accountId}/extension/{extensionId}/call-log/{callRecordId}",
        "Heavy",
    ),
    ("GET", "/restapi/v1.0/account/{accountId}/recording/{recordingId}", "Heavy"),
    ("GET", "/restapi/v1.0/account/{accountId}/recording/{recordingId}/content", "Heavy"),
    ("POST", "/restapi/v1.0/account/{accountId}/extension/{extensionId}/ring-out", "Heavy"),
    (
        "GET",
        "/restapi/v1.0/account/{accountId}/extension/{extensionId}/ring-out/{ringoutId}",
        "Light",
    ),
    (
        "DELETE",
        "/restapi/v1.0/account/{accountId}/extension/{extensionId}/ring-out/{ringoutId}",
        "Heavy",
    ),
    ("POST", "/restapi/v1.0/account/{accountId}/extension/{extensionId}/sms", "Medium"),
    ("POST", "/restapi/v1.0/account/{accountId}/extension/{extensionId}/company-pager", "Medium"),
    ("GET", "/restapi/v1.0/account/{accountId}/extension/{extensionId}/device", "Light"),
    ("POST", "/restapi/v1.0/account/{accountId}/telephony/call-out", "Heavy"),
    ("GET", "/restapi/v1.0/account/{accountId}/telephony/sessions/{telephonySessionId}", "Light"),
    (
        "DELETE",
        "/restapi/v1.0/account/{accountId}/telephony/sessions/{telephonySessionId}",
        "Light",
    ),
    (
        "GET",
        "/restapi/v1.0/account/{accountId}/telephony/sessions/{telephonySessionId}/parties/{partyId}",
        "Light",
    ),
    (
        "DELETE",
        "/restapi/v1.0/account/{accountId}/telephony/sessions/{telephonySessionId}/parties/{partyId}",
        "Light",
    ),
    (
        "POST",
        "/restapi/v1.0/account/{accountId}/telephony/sessions/{telephonySessionId}/parties/{partyId}/hold",
        "Light",
    ),
    (
        "POST",
        "/restapi/v1.0/account/{accountId}/telephony/sessions/{telephonySessionId}/parties/{partyId}/unhold",
        "Light",
    ),
    (
        "POST",
        "/restapi/v1.0/account/{accountId}/telephony/sessions/{telephonySessionId}/parties/{partyId}/answer",
        "Light",
    ),
    (
        "POST",
        "/restapi/v1.0/account/{accountId}/telephony/sessions/{telephonySessionId}/parties/{partyId}/pickup",
        "Light",
    ),
    (
        "POST",
        "/restapi/v1.0/account/{accountId}/telephony/sessions/{telephonySessionId}/parties/{partyId}/reject",
        "Light",
    ),
    (
        "POST",
        "/restapi/v1.0/account/{accountId}/telephony/sessions/{telephonySessionId}/parties/{partyId}/ignore",
        "Light",
    ),
    (
        "POST",
        "/restapi/v1.0/account/{accountId}/telephony/sessions/{telephonySessionId}/parties/{partyId}/transfer",
        "Light",
    ),
    (
        "POST",
        "/restapi/v1.0/account/{accountId}/telephony/sessions/{telephonySessionId}/parties/{partyId}/forward",
        "Light",
    ),
    (
        "POST",
        "/restapi/v1.0/account/{accountId}/telephony/sessions/{telephonySessionId}/parties/{partyId}/reply",
        "Light",
    ),
    (
        "POST",
        "/restapi/v1.0/account/{accountId}/telephony/sessions/{telephonySessionId}/parties/{partyId}/park",
        "Light",
    ),
    (
        "POST",
        "/restapi/v1.0/account/{accountId}/telephony/sessions/{telephonySessionId}/parties/{partyId}/bridge",
        "Light",
    ),
    (
        "POST",
        "/restapi/v1.0/account/{accountId}/telephony/sessions/{telephonySessionId}/parties/{partyId}/recordings",
        "Light",
    ),
    (
        "PATCH",
        "/restapi/v1.0/account/{accountId}/telephony/sessions/{telephonySessionId}/parties/{partyId}/recordings/{recordingId}",
        "Light",
    ),
    ("GET", "/restapi/v1.0/account/{accountId}/extension/{extensionId}/message-store", "Light"),
    (
        "GET",
        "/restapi/v1.0/account/{accountId}/extension/{extensionId}/message-store/{messageId}",
        "Light",
    ),
    (
        "PUT",
        "/restapi/v1.0/account/{accountId}/extension/{extensionId}/message-store/{messageId}",
        "Medium",
    ),
    (
        "GET",
        "/restapi/v1.0/account/{accountId}/extension/{extensionId}/message-store/{messageId}/content/{attachmentId}",
        "Medium",
    ),
    ("GET", "/restapi/v1.0/account/{accountId}/extension/{extensionId}/message-sync", "Light"),
    ("GET", "/restapi/v1.0/account/{accountId}/call-queues", "Medium"),
    ("GET", "/restapi/v1.0/subscription", "Light"),
    ("POST", "/restapi/v1.0/subscription", "Medium"),
    ("GET", "/restapi/v1.0/subscription/{subscriptionId}", "Light"),
    ("PUT", "/restapi/v1.0/subscription/{subscriptionId}", "Medium"),
    ("DELETE", "/restapi/v1.0/subscription/{subscriptionId}", "Medium"),
    ("POST", "/restapi/v1.0/subscription/{subscriptionId}/renew", "Light"),
)


def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    pattern = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
    # The tutorial's spelling of RingOut (``ringout``) is the same operation.
    pattern = pattern.replace("ring\\-out", "ring-?out")
    return re.compile(f"^{pattern}/?$")


_COMPILED = tuple((m, _template_regex(t), g) for m, t, g in OPERATION_GROUPS)


@lru_cache(maxsize=512)
def operation_group(method: str, path: str) -> Group:
    """The throttling group of ``method path`` (a path, a concrete URL path or a full URL).

    An operation missing from the table counts as Heavy: the strictest budget is the safe
    guess for a request nobody classified.
    """
    path = urlsplit(path).path or path
    method = method.upper()
    for m, regex, group in _COMPILED:
        if m == method and regex.match(path):
            return group
    return "Heavy"


@dataclass(frozen=True)
class BudgetUsage:
    """Where one (user, group) budget stands: what the operations page shows."""

    used: int
    limit: int
    window: float
    wait_seconds: float


@dataclass
class _Bucket:
    log: list[float] = field(default_factory=list)
    blocked_until: float = 0.0
    limit: int | None = None
    window: float | None = None


class _MemoryStore:
    """Embedded mode: one process, so a dictionary under a lock is the shared state."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def _bucket(self, user_key: str, group: str) -> _Bucket:
        return self._buckets.setdefault((user_key, group), _Bucket())

    def take(self, user_key: str, group: str, now: float, record: bool) -> float:
        default_limit, default_window = DEFAULT_LIMITS.get(group, DEFAULT_LIMITS["Heavy"])
        with self._lock:
            b = self._bucket(user_key, group)
            if b.blocked_until > now:
                return b.blocked_until - now
            limit = b.limit or default_limit
            window = b.window or default_window
            b.log = [t for t in b.log if t > now - window]
            if len(b.log) >= limit:
                return max(min(b.log) + window - now, 0.001)
            if record:
                b.log.append(now)
            return 0.0

    def sync(
        self,
        user_key: str,
        group: str,
        *,
        sent_at: float,
        now: float,
        limit: int | None,
        window: float | None,
        remaining: int | None,
        block_until: float | None,
    ) -> None:
        with self._lock:
            b = self._bucket(user_key, group)
            if limit:
                b.limit = limit
            if window:
                b.window = window
            if remaining is not None and b.limit:
                b.log = _resync(b.log, used=b.limit - remaining, sent_at=sent_at)
            if block_until and block_until > b.blocked_until:
                b.blocked_until = block_until

    def usage(self, user_key: str, group: str, now: float) -> BudgetUsage:
        default_limit, default_window = DEFAULT_LIMITS.get(group, DEFAULT_LIMITS["Heavy"])
        with self._lock:
            b = self._buckets.get((user_key, group), _Bucket())
            limit = b.limit or default_limit
            window = b.window or default_window
            used = sum(1 for t in b.log if t > now - window)
            blocked = max(b.blocked_until - now, 0.0)
        return BudgetUsage(used=used, limit=limit, window=window, wait_seconds=blocked)

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()


def _resync(log: list[float], *, used: int, sent_at: float) -> list[float]:
    """Make the entries sent up to ``sent_at`` agree with the platform's count.

    Entries after ``sent_at`` are requests still in flight that the platform had not counted
    yet when it answered; they stay. Missing entries (another client of the same user, or a
    window the platform counts differently) are added at ``sent_at``; surplus entries (the
    platform's window already forgot them) are dropped oldest first.
    """
    before = sorted(t for t in log if t <= sent_at)
    after = [t for t in log if t > sent_at]
    used = max(used, 0)
    if len(before) > used:
        before = before[len(before) - used :] if used else []
    elif len(before) < used:
        before += [sent_at] * (used - len(before))
    return before + after


_TAKE_LUA = """
local log, meta = KEYS[1], KEYS[2]
local now = tonumber(ARGV[1])
local record = ARGV[2]
local member = ARGV[3]
local blocked = tonumber(redis.call('HGET', meta, 'blocked_until') or '0')
if blocked > now then return tostring(blocked - now) end
local limit = tonumber(redis.call('HGET', meta, 'limit') or ARGV[4])
local window = tonumber(redis.call('HGET', meta, 'window') or ARGV[5])
redis.call('ZREMRANGEBYSCORE', log, '-inf', now - window)
local count = redis.call('ZCARD', log)
if count >= limit then
  local oldest = redis.call('ZRANGE', log, 0, 0, 'WITHSCORES')
  local wait = tonumber(oldest[2]) + window - now
  if wait < 0.001 then wait = 0.001 end
  return tostring(wait)
end
if record == '1' then
  redis.call('ZADD', log, now, member)
  redis.call('EXPIRE', log, math.ceil(window) + 5)
end
return '0'
"""

_SYNC_LUA = """
local log, meta = KEYS[1], KEYS[2]
local sent_at = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local limit, window, remaining, block_until = ARGV[3], ARGV[4], ARGV[5], ARGV[6]
if limit ~= '' then redis.call('HSET', meta, 'limit', limit) end
if window ~= '' then redis.call('HSET', meta, 'window', window) end
local known_limit = redis.call('HGET', meta, 'limit')
if remaining ~= '' and known_limit then
  local used = tonumber(known_limit) - tonumber(remaining)
  if used < 0 then used = 0 end
  local before = redis.call('ZCOUNT', log, '-inf', sent_at)
  if before > used then
    redis.call('ZREMRANGEBYRANK', log, 0, before - used - 1)
  elseif before < used then
    for i = 1, used - before do
      redis.call('ZADD', log, sent_at, 'sync:' .. ARGV[7] .. ':' .. i)
    end
  end
  local w = tonumber(redis.call('HGET', meta, 'window') or '60')
  redis.call('EXPIRE', log, math.ceil(w) + 5)
end
if block_until ~= '' then
  local current = tonumber(redis.call('HGET', meta, 'blocked_until') or '0')
  if tonumber(block_until) > current then
    redis.call('HSET', meta, 'blocked_until', block_until)
  end
end
redis.call('EXPIRE', meta, 86400)
return 1
"""


class _RedisStore:
    """Distributed mode: the state in Redis, read and written atomically by Lua scripts."""

    def __init__(self, client: Any) -> None:
        self._redis = client
        self._take = self._redis.register_script(_TAKE_LUA)
        self._sync = self._redis.register_script(_SYNC_LUA)
        self._prefix = settings.RC_BUDGET_KEY_PREFIX

    def _keys(self, user_key: str, group: str) -> list[str]:
        base = f"{self._prefix}:{user_key}:{group}"
        return [f"{base}:log", f"{base}:meta"]

    def take(self, user_key: str, group: str, now: float, record: bool) -> float:
        default_limit, default_window = DEFAULT_LIMITS.get(group, DEFAULT_LIMITS["Heavy"])
        result = self._take(
            keys=self._keys(user_key, group),
            args=[
                repr(now),
                "1" if record else "0",
                f"{now!r}:{uuid.uuid4().hex}",
                default_limit,
                repr(default_window),
            ],
        )
        return float(result)

    def sync(
        self,
        user_key: str,
        group: str,
        *,
        sent_at: float,
        now: float,
        limit: int | None,
        window: float | None,
        remaining: int | None,
        block_until: float | None,
    ) -> None:
        self._sync(
            keys=self._keys(user_key, group),
            args=[
                repr(sent_at),
                repr(now),
                "" if not limit else str(limit),
                "" if not window else repr(float(window)),
                "" if remaining is None else str(remaining),
                "" if not block_until else repr(block_until),
                uuid.uuid4().hex,
            ],
        )

    def usage(self, user_key: str, group: str, now: float) -> BudgetUsage:
        default_limit, default_window = DEFAULT_LIMITS.get(group, DEFAULT_LIMITS["Heavy"])
        log, meta = self._keys(user_key, group)
        limit, window, blocked = self._redis.hmget(meta, "limit", "window", "blocked_until")
        limit = int(limit) if limit else default_limit
        window = float(window) if window else default_window
        used = self._redis.zcount(log, f"({now - window!r}", "+inf")
        wait = max(float(blocked) - now, 0.0) if blocked else 0.0
        return BudgetUsage(used=int(used), limit=limit, window=window, wait_seconds=wait)

    def reset(self) -> None:
        for key in self._redis.scan_iter(match=f"{self._prefix}:*", count=500):
            self._redis.delete(key)


_store_lock = threading.Lock()
_stores: dict[str, _MemoryStore | _RedisStore] = {}


def _store() -> _MemoryStore | _RedisStore:
    url = settings.REDIS_URL
    key = url or "memory"
    store = _stores.get(key)
    if store is None:
        with _store_lock:
            store = _stores.get(key)
            if store is None:
                store = _RedisStore(redis_client()) if url else _MemoryStore()
                _stores[key] = store
    return store


def budget_wait_seconds(*, user_key: str, group: str) -> float:
    """0 when a request of ``group`` may be sent for ``user_key`` now; else seconds to wait.

    Includes a 429 penalty in force. Does not reserve anything: the request itself does
    (``budget_take``), so a task that waited may still be refused if others went first.
    """
    return _store().take(user_key, group, time.time(), record=False)


def budget_usage(*, user_key: str, group: str) -> BudgetUsage:
    """How much of ``group``'s budget ``user_key`` used in the current window (read only)."""
    now = time.time()
    usage = _store().usage(user_key, group, now)
    wait = max(usage.wait_seconds, budget_wait_seconds(user_key=user_key, group=group))
    return BudgetUsage(usage.used, usage.limit, usage.window, wait)


def budget_take(*, user_key: str, group: str) -> float:
    """Reserve one request of ``group`` for ``user_key``: 0 if reserved, else seconds to wait."""
    return _store().take(user_key, group, time.time(), record=True)


def _header_number(headers: Mapping[str, str], name: str) -> float | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def retry_after_seconds(headers: Mapping[str, str]) -> float:
    """``Retry-After`` in seconds (the platform sends seconds), or the default penalty."""
    value = _header_number(headers, "Retry-After")
    return value if value is not None and value >= 0 else DEFAULT_PENALTY_SECONDS


def budget_observe(
    *,
    user_key: str,
    group: str,
    status: int,
    headers: Mapping[str, str],
    sent_at: float,
) -> None:
    """Feed one response into the budget: its ``X-Rate-Limit-*`` headers and a 429 penalty."""
    now = time.time()
    header_group = headers.get("X-Rate-Limit-Group")
    if header_group in GROUPS:
        # The platform's word on which bucket this request hit beats our table.
        group = header_group
    limit = _header_number(headers, "X-Rate-Limit-Limit")
    window = _header_number(headers, "X-Rate-Limit-Window")
    if window:
        # The platform starts a request's window when the request arrives, we when we send
        # it: without a margin a request sent as an old one leaves our window can reach the
        # platform while the old one is still in its window, and get a 429.
        window += WINDOW_MARGIN_SECONDS
    remaining = _header_number(headers, "X-Rate-Limit-Remaining")
    block_until: float | None = None
    if status == 429:
        block_until = now + retry_after_seconds(headers)
    # ``Remaining: 0`` needs no block of its own: re-synchronising the log fills it to the
    # limit, so the next request waits until the oldest one leaves the window.
    if limit is None and remaining is None and block_until is None:
        return
    _store().sync(
        user_key,
        group,
        sent_at=sent_at,
        now=now,
        limit=int(limit) if limit else None,
        window=window,
        remaining=int(remaining) if remaining is not None and status != 429 else None,
        block_until=block_until,
    )


def budget_reset() -> None:
    """Forget every budget (tests, after resetting the sandbox; an operator after an outage)."""
    _store().reset()
