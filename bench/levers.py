"""CPU cost of single levers of issue 17, each before and after, in this process.

    .venv/bin/python bench/levers.py      # JSON on stdout

Process CPU time (``time.process_time``), not wall clock: on a machine shared with other
work it moves far less than latencies do. Real Redis (``BENCH_REDIS_URL``; keys prefixed
``levers``) for the channel layer; a typical batch at 200 ev/s is 40 call changes of 30
agents.

- json: the webhook's body parse (json → orjson with json as the fallback) and a pushed
  frame's encoding (json.dumps → orjson.dumps);
- push: a batch's pops through channels_redis, a group_send per change to the agent's and
  the account's group (before) → one group_send per group and batch, the account group
  left out while nobody watches it (after).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/2")


def _cpu(fn: Any, rounds: int) -> float:
    """CPU microseconds per call of ``fn``."""
    fn()
    start = time.process_time()
    for _ in range(rounds):
        fn()
    return round((time.process_time() - start) * 1e6 / rounds, 2)


def json_levers() -> dict[str, Any]:
    import orjson

    from bench.scenarios import envelope_stamp, plan_phase  # a real body, as the bench's

    events = plan_phase(agents=_agents(3), calls=3, rate=10, gap=1.0, seed=1,
                        caller_pool=["+14155550100"], sequences={})
    body = json.dumps(envelope_stamp(events[0].envelope, wall_start=time.time(),
                                     now=time.time())).encode()
    frame = {"type": "call", "event_at": 1.0, "call": {
        "id": 1, "session_id": "123", "agent_id": 7, "direction": "inbound",
        "state": "ringing", "from_number": "+14155550100", "to_number": "+16505550102",
        "from_name": "Ada Lovelace", "to_name": "Agent 102", "contact": {
            "id": 3, "name": "Ada Lovelace", "company": "Analytical", "url": "/contacts/3/",
            "others": []}, "match": {"rule": "only", "number": "+14155550100"},
        "started_at": "2026-12-01T10:00:00+00:00", "answered_at": None, "ended_at": None,
        "duration": None, "result": "", "recording": None, "notes": "", "disposition": None}}
    return {
        "webhook_body_parse_us": {
            "json": _cpu(lambda: json.loads(body.decode("utf-8-sig")), 20000),
            "orjson": _cpu(lambda: orjson.loads(body), 20000),
        },
        "frame_encode_us": {
            "json": _cpu(lambda: json.dumps(frame), 20000),
            "orjson": _cpu(lambda: orjson.dumps(frame).decode(), 20000),
        },
    }


def _agents(count: int) -> list[Any]:
    from bench.scenarios import AgentSpec

    return [AgentSpec(agent_id=i + 1, extension_id=f"9{i:05d}", direct_number=f"+1650555{i:04d}",
                      subscription_id=f"s{i}", verification_token=f"t{i}")
            for i in range(count)]


def push_levers(*, batches: int = 200, changes: int = 40, agents: int = 30) -> dict[str, Any]:
    import asyncio

    from channels_redis.core import RedisChannelLayer

    layer = RedisChannelLayer(hosts=[{"address": REDIS_URL}], prefix="levers", capacity=10_000)
    messages = [{"type": "call", "call": {"id": i, "agent_id": i % agents, "state": "ringing"}}
                for i in range(changes)]

    async def before() -> None:
        for message in messages:
            for group in (f"agent.{message['call']['agent_id']}", "calls.account"):
                await layer.group_send(group, {"type": "push.message", "message": message})

    async def after() -> None:
        by_group: dict[str, list[dict[str, Any]]] = {}
        for message in messages:
            by_group.setdefault(f"agent.{message['call']['agent_id']}", []).append(message)
        await asyncio.gather(*(
            layer.group_send(group, {"type": "push.messages", "messages": batch})
            for group, batch in by_group.items()))

    loop = asyncio.new_event_loop()

    async def members() -> None:
        # One member per group, as a connected agent's socket (and an admin's) would be.
        for index in range(agents):
            await layer.group_add(f"agent.{index}", f"levers.sock{index}")
        await layer.group_add("calls.account", "levers.admin")

    loop.run_until_complete(members())
    out = {}
    for name, fn in (("before", before), ("after", after)):
        out[name] = _cpu(lambda fn=fn: loop.run_until_complete(fn()), batches)
        loop.run_until_complete(layer.flush())
        loop.run_until_complete(members())
    loop.run_until_complete(layer.flush())
    return {"batch_of_40_changes_us": out,
            "per_change_us": {k: round(v / changes, 1) for k, v in out.items()}}


def main() -> int:
    print(json.dumps({"json": json_levers(), "push": push_levers()}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
