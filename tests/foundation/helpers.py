"""Run crm_cti's settings in a clean subprocess with a chosen environment."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import requests

from tests.support.stack import ManagedProcess, free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
# What the test run sets for itself (tests/settings.py puts the keys and the account in
# the environment): a clean environment starts the product's settings without them.
MODE_VARS = (
    "DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "TOKEN_ENCRYPTION_KEY",
    "RC_ACCOUNT_ID", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE",
)


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in MODE_VARS}
    env.update(extra)
    return env


def settings_in_subprocess(env: dict[str, str], *names: str) -> dict:
    code = (
        "import json, django; django.setup(); from django.conf import settings;"
        f"print(json.dumps({{n: str(getattr(settings, n)) for n in {list(names)!r}}}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "crm_cti.settings"},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def serve(env: dict[str, str], name: str) -> tuple[ManagedProcess, str]:
    """crm_cti under uvicorn (lifespan on) with exactly ``env``; returns it and its base URL
    once it answers /healthz (200 or 503)."""
    port = free_port()
    proc = ManagedProcess(
        name=name,
        args=[sys.executable, "-m", "uvicorn", "crm_cti.asgi:application",
              "--host", "127.0.0.1", "--port", str(port), "--lifespan", "on"],
        env={**env, "SECURE_SSL_REDIRECT": "false"},
    )
    proc.start()
    url = f"http://127.0.0.1:{port}"

    def answered() -> bool:
        proc.assert_alive()
        return requests.get(url + "/healthz", timeout=10).status_code in (200, 503)

    wait_until(answered, timeout=40, what=f"{name} /healthz")
    return proc, url


# What `manage.py demo` sets for its own processes: a trial starts without any of them.
DEMO_SETS = ("DATABASE_URL", "REDIS_URL", "RC_SERVER_URL", "RC_ACCOUNT_ID", "DEBUG",
             "RC_REDIRECT_URI", "WEBHOOK_BASE_URL", "OAUTHLIB_INSECURE_TRANSPORT")


def newcomer_env(var_dir: Path) -> dict[str, str]:
    """The environment of someone trying crm_cti with no configuration, files under
    ``var_dir``."""
    env = clean_env(VAR_DIR=str(var_dir))
    for name in DEMO_SETS:
        env.pop(name, None)
    return env


@contextlib.contextmanager
def demo_running(var_dir: Path) -> Iterator[str]:
    """``manage.py demo`` as a newcomer runs it (migrated, nothing else set, its files under
    ``var_dir``); yields the app's URL once it answers /healthz, stops it afterwards."""
    with demo_with_sandbox(var_dir) as (url, _sandbox_url):
        yield url


@contextlib.contextmanager
def demo_with_sandbox(var_dir: Path, **extra_env: str) -> Iterator[tuple[str, str]]:
    """``demo_running`` with ``extra_env`` on top of the newcomer's environment; yields the
    app's and the demo's sandbox's URLs."""
    env = {**newcomer_env(var_dir), **extra_env}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env,
                   check=True, timeout=120)
    port, sandbox_port = free_port(), free_port()
    demo = subprocess.Popen(
        [sys.executable, "manage.py", "demo", "--port", str(port),
         "--sandbox-port", str(sandbox_port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: requests.get(url + "/healthz", timeout=5).status_code == 200,
                   timeout=60, what="the demo")
        yield url, f"http://127.0.0.1:{sandbox_port}"
    finally:
        demo.send_signal(signal.SIGTERM)
        demo.wait(30)
