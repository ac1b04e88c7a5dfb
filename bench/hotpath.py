"""The hot path in one process, without HTTP or websockets: CPU per event of the webhook's
ingest and of the applier, measured with the process's CPU clock (optionally cProfiled).

    .venv/bin/python bench/hotpath.py [--calls 400] [--batch 1,20] [--profile ingest|apply]

It plays the bench's call mix (bench/scenarios.py) for 100 agents: every event goes through
``webhook_ingest`` (the function both webhook front doors call: token check, parse, INSERT,
XADD), and after every ``--batch`` events one applier step (stream.Applier: read, tracker
transaction, pushes through the channel layer, enrichment scheduling, ack) runs. A batch of
1 is a quiet pipeline (each event its own transaction), 20 a busy one. Real PostgreSQL and
Redis: database ``crm_cti_bench_hotpath`` (recreated) and Redis db 3 (flushed), override
with ``BENCH_HOTPATH_DATABASE_URL`` / ``BENCH_HOTPATH_REDIS_URL``. CPU time, not wall
time: it changes with the code much more than with whatever else the machine is doing,
which is what a before/after of one lever needs. Prints JSON.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DATABASE_URL = os.environ.get("BENCH_HOTPATH_DATABASE_URL",
                              "postgres://postgres@127.0.0.1:5432/crm_cti_bench_hotpath")
REDIS_URL = os.environ.get("BENCH_HOTPATH_REDIS_URL", "redis://127.0.0.1:6379/3")
AGENTS = 100


def _setup() -> tuple[list[Any], list[str]]:
    import redis

    from bench import fixtures
    from bench.run import django_setup

    fixtures.database_recreate(DATABASE_URL)
    redis.Redis.from_url(REDIS_URL).flushdb()
    django_setup(database_url=DATABASE_URL, redis_url=REDIS_URL, prefix="crm_cti_hotpath",
                 CELERY_QUEUE="hotpath")
    fixtures.migrate()
    agents = fixtures.agents_create(count=AGENTS)
    return agents, fixtures.contacts_create(count=2000)


def _events(agents: list[dict[str, Any]], numbers: list[str], calls: int, seed: int) -> list:
    from bench.scenarios import AgentSpec, envelope_stamp, plan_phase

    specs = [AgentSpec(**agent["spec"]) for agent in agents]
    planned = plan_phase(agents=specs, calls=calls, rate=50.0, seed=seed, caller_pool=numbers)
    now = time.time()
    out = []
    for index, event in enumerate(planned):
        spec = specs[event.agent_index]
        envelope = envelope_stamp(event.envelope, wall_start=now - 60, now=now - 30 + index * 0.001)
        envelope["subscriptionId"] = spec.subscription_id
        out.append((json.dumps(envelope).encode(), {
            "content-type": "application/json",
            "verification-token": spec.verification_token,
        }))
    return out


def run(agents: list[Any], numbers: list[str], *, calls: int, batch: int, seed: int,
        profile: str = "") -> dict[str, Any]:
    from crm_cti.telephony.stream import Applier
    from crm_cti.telephony.webhook.ingest import webhook_ingest

    deliveries = _events(agents, numbers, calls, seed)
    applier = Applier(consumer=f"hotpath-{batch}")
    # CPU time, not wall time: a blocking read would otherwise look like the cost.
    profiler = cProfile.Profile(time.process_time) if profile else None
    ingest_cpu = apply_cpu = 0.0
    steps = 0
    for start in range(0, len(deliveries), batch):
        began = time.process_time()
        if profile == "ingest":
            profiler.enable()
        for body, headers in deliveries[start:start + batch]:
            reply = webhook_ingest(body=body, headers=headers, remote="127.0.0.1")
            if reply.status != 200:
                raise RuntimeError(f"ingest answered {reply.status}: {reply.body!r}")
        if profile == "ingest":
            profiler.disable()
        ingest_cpu += time.process_time() - began
        began = time.process_time()
        if profile == "apply":
            profiler.enable()
        while applier.step():
            steps += 1
        if profile == "apply":
            profiler.disable()
        apply_cpu += time.process_time() - began
    out: dict[str, Any] = {
        "batch": batch, "events": len(deliveries), "applier_steps": steps,
        "ingest_us_per_event": round(ingest_cpu * 1e6 / len(deliveries)),
        "apply_us_per_event": round(apply_cpu * 1e6 / len(deliveries)),
    }
    if profiler is not None:
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(70)
        out["profile"] = text.getvalue()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--batch", default="1,20")
    parser.add_argument("--profile", choices=("", "ingest", "apply"), default="")
    args = parser.parse_args(argv)
    agents, numbers = _setup()
    import crm_cti.telephony.stream as stream  # Django is set up by now

    stream.BLOCK_MS = 1  # a drained stream answers at once instead of blocking a second
    run(agents, numbers, calls=50, batch=1, seed=99)  # warm caches and connections, not counted
    results = [run(agents, numbers, calls=args.calls, batch=int(b), seed=7 + i,
                   profile=args.profile)
               for i, b in enumerate(args.batch.split(","))]
    profiles = [r.pop("profile") for r in results if "profile" in r]
    print(json.dumps({"results": results}, indent=1))
    for text in profiles:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
