"""Run crm_cti's settings in a clean subprocess with a chosen environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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
