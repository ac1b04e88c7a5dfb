"""Pop receipts: how late pops really are on agents' screens, measured in production.

Every call frame pushed to an agent's sockets carries ``event_at`` (when the webhook stored
the event that caused it, epoch ms). The browser answers each frame it rendered with
``{"type": "receipt", "call": id, "state": ..., "event_at": ..., "rendered_at": ...}`` over
the same socket (static/js/live.js). Kept in Redis, cheaply:

- ``pops-sent``: a sorted set of ``<call>:<state>`` pushed to an agent with an open socket,
  scored by when it was pushed; a receipt removes its member. What is left after
  ``RECEIPT_GRACE_SECONDS`` was never acknowledged (shown on the operations page).
- ``pops-receipts:<minute>``: a hash per minute of latency buckets (5 % wide) to counts, so
  p50/p95/p99 over the last hour or day are read from at most 1,440 small hashes instead of
  one entry per pop; kept two days.
- ``pops-unseen``: calls that rang while their agent had no socket open (scored by time).
- ``agent-sockets:<agent>``: the channels of the sockets watching an agent (added on
  connect, removed on disconnect; a web process that died leaves members behind, which
  only means "someone may be watching": entries older than a day are dropped).

The first receipt of a (call, state) counts; a second tab's is ignored, so every pop counts
once. Latencies are the browser's clock minus ours: on one machine (the bench) exact, in
production as close as the clocks are (NTP: milliseconds). Embedded mode (no Redis) keeps
none of this.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from crm_cti.redis_client import deployment_key, recent_set_add, redis_client

logger = logging.getLogger(__name__)

SENT_KEY = "pops-sent"
UNSEEN_KEY = "pops-unseen"
HISTOGRAM_KEY = "pops-receipts"
SOCKETS_KEY = "agent-sockets"
# A pop not acknowledged this long after it was pushed counts as never acknowledged.
RECEIPT_GRACE_SECONDS = 60
KEEP_SECONDS = 2 * 86400
DAY_SECONDS = 86400
# Latency buckets: 5 % wide (bucket b holds [1.05**b - 1, 1.05**(b+1) - 1) ms).
BUCKET_BASE = 1.05
# A receipt claiming more than this is a clock gone wrong, not a pop.
MAX_LATENCY_MS = 3_600_000.0


def _bucket(latency_ms: float) -> int:
    return int(math.log(latency_ms + 1.0, BUCKET_BASE))


def _bucket_ms(bucket: int) -> float:
    # The middle of the bucket (geometric), as the percentile's value.
    return BUCKET_BASE ** (bucket + 0.5) - 1.0


def _sockets_key(agent_id: int) -> str:
    return deployment_key(f"{SOCKETS_KEY}:{agent_id}")


def socket_opened(*, agent_id: int | None, channel: str) -> None:
    client = redis_client()
    if client is None or agent_id is None:
        return
    try:
        recent_set_add(client, _sockets_key(agent_id), channel, keep_seconds=DAY_SECONDS)
    except Exception:
        logger.warning("receipts: could not record a socket", exc_info=True)


def socket_closed(*, agent_id: int | None, channel: str) -> None:
    client = redis_client()
    if client is None or agent_id is None:
        return
    try:
        client.zrem(_sockets_key(agent_id), channel)
    except Exception:
        logger.warning("receipts: could not forget a socket", exc_info=True)


def pops_expect(pops: list[tuple[int, int, str]]) -> None:
    """After a batch's pushes: ``(agent_id, call_id, state)`` of each pushed call frame.
    Frames for an agent with a socket open wait for their receipt; a ringing call whose
    agent had none is recorded as rung unseen. One pipeline: two round trips per batch."""
    client = redis_client()
    if client is None or not pops:
        return
    agents = sorted({agent for agent, _call, _state in pops})
    now = time.time()
    try:
        pipe = client.pipeline(transaction=False)
        for agent in agents:
            pipe.zcount(_sockets_key(agent), now - DAY_SECONDS, "+inf")
        watched = {agent for agent, count in zip(agents, pipe.execute(), strict=True) if count}
        sent: dict[str, float] = {}
        unseen: dict[str, float] = {}
        for agent, call, state in pops:
            if agent in watched:
                sent[f"{call}:{state}"] = now
            elif state == "ringing":
                unseen[str(call)] = now
        pipe = client.pipeline(transaction=False)
        if sent:
            pipe.zadd(deployment_key(SENT_KEY), sent, nx=True)
        if unseen:
            pipe.zadd(deployment_key(UNSEEN_KEY), unseen, nx=True)
        pipe.zremrangebyscore(deployment_key(SENT_KEY), "-inf", now - KEEP_SECONDS)
        pipe.zremrangebyscore(deployment_key(UNSEEN_KEY), "-inf", now - KEEP_SECONDS)
        pipe.execute()
    except Exception:
        # Measuring must never cost a pop.
        logger.warning("receipts: could not record pushed pops", exc_info=True)


_RECORD = (
    "if redis.call('zrem', KEYS[1], ARGV[1]) == 1 then "
    "redis.call('hincrby', KEYS[2], ARGV[2], 1); redis.call('expire', KEYS[2], ARGV[3]); "
    "return 1 else return 0 end"
)


class InvalidReceipt(ValueError):
    pass


def receipt_parse(content: dict[str, Any]) -> tuple[int, str, float]:
    """``(call_id, state, latency_ms)`` of a browser's receipt; raise InvalidReceipt."""
    call, state = content.get("call"), content.get("state")
    event_at, rendered_at = content.get("event_at"), content.get("rendered_at")
    if not isinstance(call, int) or isinstance(call, bool) or call <= 0:
        raise InvalidReceipt("call must be a positive integer")
    if not isinstance(state, str) or not state or len(state) > 32:
        raise InvalidReceipt("state must be a short string")
    numbers = (event_at, rendered_at)
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in numbers):
        raise InvalidReceipt("event_at and rendered_at must be epoch milliseconds")
    latency = float(rendered_at) - float(event_at)
    if not math.isfinite(latency) or latency > MAX_LATENCY_MS:
        raise InvalidReceipt("rendered_at is not within an hour after event_at")
    # A browser clock a little behind ours: the pop was at least not late.
    return call, state, max(latency, 0.0)


def receipt_record(*, call_id: int, state: str, latency_ms: float) -> bool:
    """Count a receipt once per (call, state); returns whether it counted."""
    client = redis_client()
    if client is None:
        return False
    minute = int(time.time() // 60)
    try:
        # One round trip: crossed off, then counted only if it was still awaited (another
        # tab acknowledged it first, or it was never expected: not counted).
        return bool(client.eval(
            _RECORD, 2, deployment_key(SENT_KEY), deployment_key(f"{HISTOGRAM_KEY}:{minute}"),
            f"{call_id}:{state}", str(_bucket(latency_ms)), KEEP_SECONDS,
        ))
    except Exception:
        logger.warning("receipts: could not record a receipt", exc_info=True)
        return False


def _percentiles(counts: dict[int, int]) -> dict[str, Any]:
    total = sum(counts.values())
    out: dict[str, Any] = {"count": total, "p50": None, "p95": None, "p99": None}
    if not total:
        return out
    ordered = sorted(counts.items())
    for name, share in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99)):
        rank = math.ceil(share * total)
        seen = 0
        for bucket, count in ordered:
            seen += count
            if seen >= rank:
                out[name] = round(_bucket_ms(bucket), 1)
                break
    return out


def receipts_summary(*, now: float | None = None) -> dict[str, Any] | None:
    """Event → render over the last hour and day, pops never acknowledged, calls that rang
    unseen (the operations page, the bench); None in embedded mode."""
    client = redis_client()
    if client is None:
        return None
    now = time.time() if now is None else now
    minute = int(now // 60)
    pipe = client.pipeline(transaction=False)
    for back in range(DAY_SECONDS // 60):
        pipe.hgetall(deployment_key(f"{HISTOGRAM_KEY}:{minute - back}"))
    cutoff = now - RECEIPT_GRACE_SECONDS
    pipe.zcount(deployment_key(SENT_KEY), now - DAY_SECONDS, cutoff)
    pipe.zcount(deployment_key(SENT_KEY), now - 3600, cutoff)
    pipe.zcount(deployment_key(UNSEEN_KEY), now - DAY_SECONDS, "+inf")
    pipe.zcount(deployment_key(UNSEEN_KEY), now - 3600, "+inf")
    pipe.zrevrangebyscore(deployment_key(UNSEEN_KEY), "+inf", now - DAY_SECONDS, start=0, num=20)
    try:
        answers = pipe.execute()
    except Exception:
        logger.warning("receipts: could not read", exc_info=True)
        return None
    hists, (unacked_day, unacked_hour, unseen_day, unseen_hour, unseen_recent) = (
        answers[: DAY_SECONDS // 60], answers[DAY_SECONDS // 60:])
    hour: dict[int, int] = {}
    day: dict[int, int] = {}
    for back, hist in enumerate(hists):
        for raw_bucket, raw_count in hist.items():
            bucket, count = int(raw_bucket), int(raw_count)
            day[bucket] = day.get(bucket, 0) + count
            if back < 60:
                hour[bucket] = hour.get(bucket, 0) + count
    return {
        "hour": _percentiles(hour) | {"unacknowledged": unacked_hour, "rang_unseen": unseen_hour},
        "day": _percentiles(day) | {"unacknowledged": unacked_day, "rang_unseen": unseen_day},
        "rang_unseen_calls": [int(member) for member in unseen_recent],
        "grace_seconds": RECEIPT_GRACE_SECONDS,
    }
