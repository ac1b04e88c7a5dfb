"""A tiny run of the real load generator against the Redis-only baseline.

Every pop is found once when the pipeline is right; when one agent's events are refused
(a wrong verification token), the run reports exactly that agent's pops as lost and its
POSTs as not 200 — so a "0 lost" figure in the benchmark means something.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys

import pytest

from bench.stack import ROOT as BENCH_ROOT
from bench.stack import Proc, free_port, wait_http

pytestmark = pytest.mark.integration


def agent(i: int, port: int) -> dict:
    return {
        "spec": {"agent_id": i, "extension_id": str(930000000 + i),
                 "direct_number": f"+1650{7100000 + i}", "subscription_id": f"sub-{i}",
                 "verification_token": f"token-{i}"},
        "ws_url": f"ws://127.0.0.1:{port}/ws/agent/?agent={i}",
    }


@pytest.fixture
def baseline(redis_url, tmp_path):
    port = free_port()
    agents = [agent(i, port) for i in range(1, 5)]
    subs = tmp_path / "subs.json"
    subs.write_text(json.dumps({
        a["spec"]["subscription_id"]: {"token": a["spec"]["verification_token"],
                                       "agent_id": a["spec"]["agent_id"]}
        for a in agents
    }))


    env = dict(os.environ, BASELINE_SUBSCRIPTIONS=str(subs), BASELINE_REDIS_URL=redis_url,
               BASELINE_PREFIX=f"test-{secrets.token_hex(4)}")
    proc = Proc("test-baseline", [sys.executable, "-m", "uvicorn", "bench.baseline_app:app",
                                  "--port", str(port), "--log-level", "warning"], env).start()
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", proc=proc, timeout=30)
        yield port, agents
    finally:
        proc.stop()


def run(tmp_path, plan: dict) -> dict:
    plan_path, out_path = tmp_path / "plan.json", tmp_path / "out.json"
    plan_path.write_text(json.dumps(plan))
    subprocess.run([sys.executable, str(BENCH_ROOT / "bench" / "loadgen.py"), str(plan_path),
                    str(out_path)], check=True, timeout=120, cwd=BENCH_ROOT)
    return json.loads(out_path.read_text())


def plan_for(port: int, agents: list[dict]) -> dict:
    return {
        "webhook_url": f"http://127.0.0.1:{port}/webhooks/ringcentral/",
        "agents": agents,
        # One connection: events go out in order even when this machine is so busy (other
        # tests beside this one) that they go out late, back to back. Over several, a call's
        # later event could overtake an earlier one and the counts would say so.
        "connections": 1,
        "phases": [{"name": "tiny", "rate": 10, "calls": 12, "seed": 3, "drain_seconds": 5,
                    "settle_seconds": 0.5}],
    }


def test_every_pop_is_found_once(baseline, tmp_path):
    port, agents = baseline
    out = run(tmp_path, plan_for(port, agents))
    assert out["connect"]["connected"] == 4
    phase = out["phases"][0]
    assert phase["http_status"] == {"200": phase["events"]}
    pops = phase["pops"]
    assert pops["expected"] >= 24
    assert (pops["lost"], pops["duplicated"], pops["unexpected"]) == (0, 0, 0)
    assert pops["popped"] == pops["expected"] == pops["latency_ms"]["count"]


def test_refused_events_show_as_lost_pops_and_failed_posts(baseline, tmp_path):
    port, agents = baseline
    agents[0]["spec"]["verification_token"] = "wrong"
    out = run(tmp_path, plan_for(port, agents))
    phase = out["phases"][0]
    pops = phase["pops"]
    refused = phase["http_status"].get("403", 0)
    assert refused > 0
    assert pops["lost"] > 0
    assert pops["popped"] + pops["lost"] == pops["expected"]
    assert {e["agent_id"] for e in pops["examples"] if e["kind"] == "lost"} == {1}
