"""Embedded mode keeps delayed work delayed: a worker thread serves the in-memory broker."""

from __future__ import annotations

import json
import subprocess
import sys

from .helpers import ROOT, clean_env

SCRIPT = r"""
import json, time, django
django.setup()
from django.core.cache import cache
from crm_cti.embedded import start_embedded_workers, stop_embedded_workers
from crm_cti.ops.tasks import HEARTBEAT_CACHE_KEY, worker_heartbeat
assert start_embedded_workers()
worker_heartbeat.apply_async(args=["delayed"], countdown=2)
right_after = cache.get(HEARTBEAT_CACHE_KEY)
deadline = time.monotonic() + 30
while time.monotonic() < deadline and not cache.get(HEARTBEAT_CACHE_KEY):
    time.sleep(0.1)
print(json.dumps({"right_after": right_after, "later": cache.get(HEARTBEAT_CACHE_KEY)}))
stop_embedded_workers()
"""


def test_countdown_task_runs_later_in_the_web_process_not_at_once(tmp_path):
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=clean_env(VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="crm_cti.settings"),
        capture_output=True, text=True, timeout=90,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["right_after"] is None, "eager mode would have run the task immediately"
    assert result["later"]["token"] == "delayed"
