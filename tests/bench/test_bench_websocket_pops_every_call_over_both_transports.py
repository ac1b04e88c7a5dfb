"""``bench/run.py --quick --only websocket``: event → pop over the webhook and over the
WebSocket transport, on the real distributed stack. Timings are the benchmark's output and
are not asserted; what it checks is that every call popped, once, over either transport."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from bench.stack import ROOT

pytestmark = pytest.mark.integration


def test_quick_websocket_part_pops_every_call_over_both_transports(postgres_url, redis_url,
                                                                    tmp_path):
    db = urlsplit(postgres_url)._replace(path="/crm_cti_bench_ws_test").geturl()
    redis_db = urlsplit(redis_url)._replace(path="/6").geturl()
    out = tmp_path / "latest.json"
    env = dict(os.environ, BENCH_DATABASE_URL=db, BENCH_REDIS_URL=redis_db)
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--only", "websocket",
         "--out", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    results = json.loads(out.read_text())["websocket"]
    for transport in ("webhook", "websocket"):
        side = results[transport]
        assert side["calls"] > 0, transport
        assert (side["lost"], side["duplicated"]) == (0, 0), (transport, side)
        assert side["event_to_pop_ms"]["count"] == side["calls"], transport
