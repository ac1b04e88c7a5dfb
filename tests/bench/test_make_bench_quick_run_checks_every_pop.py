"""``bench/run.py --quick``: the whole benchmark, tiny, on the real distributed stack.

It builds its own database, starts uvicorn, Celery, beat and the sandbox, plays events from
the separate load generator, runs the baseline, the REST budget and the lookup, and writes
the JSON and the table. Timings are not asserted (they are the benchmark's output, and this
machine is shared); what the benchmark checks is: every pop came, once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from bench.stack import ROOT

# The whole quick benchmark (every part, the reports' 20,000 calls and both transports among
# them) takes about 4.5 minutes here: more than the suite's 300 s per test.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]


def test_quick_run_of_the_whole_benchmark(postgres_url, redis_url, tmp_path):
    db = urlsplit(postgres_url)._replace(path="/crm_cti_bench_test").geturl()
    redis_db = urlsplit(redis_url)._replace(path="/5").geturl()
    out = tmp_path / "latest.json"
    env = dict(os.environ, BENCH_DATABASE_URL=db, BENCH_REDIS_URL=redis_db)
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--out", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    results = json.loads(out.read_text())

    for side in ("product", "baseline"):
        phases = {p["name"]: p for p in results[side]["phases"]}
        pops = phases["event_to_pop"]["pops"]
        assert phases["event_to_pop"]["http_status"] == {"200": phases["event_to_pop"]["events"]}
        assert pops["expected"] > 50
        assert (pops["lost"], pops["duplicated"], pops["unexpected"], pops["misrouted"]) == (
            0, 0, 0, 0), (side, pops["examples"])
        assert pops["popped"] == pops["expected"]
        assert phases["ramp"]["steps"], side

    memory = results["product"]["memory"]["peak"]
    assert memory["web"]["rss_mib_total"] > 0 and memory["worker"]["rss_mib_total"] > 0

    rest = results["rest_budget"]
    assert rest["calls_ended"] == rest["calls_started"] > 0
    assert rest["throttled_429"] == 0

    lookup = results["lookup"]
    assert lookup["phones_in_table"] >= lookup["contacts"]
    assert lookup["match_all_ms"]["count"] > 0
    lookup_pops = lookup["event_to_pop"]["phases"][0]["pops"]
    assert (lookup_pops["lost"], lookup_pops["duplicated"]) == (0, 0)

    assert set(results["summary"]["targets"]) >= {"webhook_ack_p99_le_20ms",
                                                 "zero_lost_zero_duplicated"}
    reports = results["reports"]
    assert reports["calls"] == 20_000
    team = reports["scenarios"]["team, 90 days (every call)"]
    assert team["calls"] == 20_000 and team["page_ms"]["max"] > 0
    assert reports["scenarios"]["plan_team_30_days_cells"]
    assert results["machine"]["cpus"] >= 1
    assert "| event → pop" in run.stdout
