"""However many callers find the token expired at once, exactly one refresh reaches
RingCentral and every caller goes on with the new token."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

from crm_cti.accounts.models import Agent, RingCentralToken
from tests.accounts.race import run_threads
from tests.accounts.signin_helpers import sign_in
from tests.support.stack import process_env

ROOT = Path(__file__).resolve().parents[2]


def signed_in_with_expired_token(rc, client) -> Agent:
    rc.config(access_token_ttl=2)
    assert sign_in(client, username="102").status_code == 302
    time.sleep(2.3)  # expired here and at the platform
    rc.config(access_token_ttl=3600)
    return Agent.objects.get(rc_extension_id="400000102")


def refresh_grants(rc) -> int:
    return int(rc.stats()["token_grants"].get("refresh_token", 0))


def test_ten_threads_refresh_once(rc, client, transactional_db):
    agent = signed_in_with_expired_token(rc, client)
    before = refresh_grants(rc)
    go = threading.Event()
    threads, results = run_threads(agent, 10, lambda: go.wait(30))
    go.set()
    for thread in threads:
        thread.join(60)

    assert results == ["400000102"] * 10
    assert refresh_grants(rc) - before == 1
    assert RingCentralToken.objects.get().refresh_count == 1
    assert rc.stats().get("refresh_failures", 0) == 0


def test_ten_threads_and_two_processes_refresh_once(rc, client, transactional_db, tmp_path):
    """Distributed mode: the Redis lock. Embedded mode: the file lock under var/locks/."""
    agent = signed_in_with_expired_token(rc, client)
    before = refresh_grants(rc)
    go_file = tmp_path / "go"
    env = process_env(RC_SERVER_URL=rc.url)
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.accounts.race_worker", str(agent.pk), str(go_file), "5"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None
            line = worker.stdout.readline()
            assert line.strip() == "ready", worker.stderr.read() if worker.stderr else ""
        go = threading.Event()
        threads, results = run_threads(agent, 10, lambda: go.wait(30))
        go_file.write_text("go")
        go.set()
        for thread in threads:
            thread.join(60)
        outputs = [worker.communicate(timeout=90) for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    others = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]

    assert results == ["400000102"] * 10
    assert others == [["400000102"] * 5, ["400000102"] * 5]
    assert refresh_grants(rc) - before == 1
    assert RingCentralToken.objects.get().refresh_count == 1
