"""``manage.py demo`` sets ``RC_ACCOUNT_ID`` to the sandbox's account it starts: the seeded
users sign in, the sandbox's second account does not."""

from __future__ import annotations

import signal
import subprocess
import sys

import requests

from tests.accounts.signin_helpers import authorize_in_sandbox
from tests.foundation.helpers import ROOT, clean_env
from tests.support.stack import free_port, wait_until


def _sign_in(url: str, username: str) -> requests.Response:
    http = requests.Session()
    start = http.get(url + "/auth/start/?next=/", allow_redirects=False, timeout=10)
    assert start.status_code == 302, start.text[:300]
    callback = authorize_in_sandbox(start.headers["Location"], username=username)
    return http.get(callback, allow_redirects=False, timeout=30)


def test_the_demo_lets_only_the_sandboxs_account_in(tmp_path):
    env = clean_env(VAR_DIR=str(tmp_path))
    for name in ("DATABASE_URL", "REDIS_URL", "RC_SERVER_URL", "RC_ACCOUNT_ID", "DEBUG",
                 "RC_REDIRECT_URI", "WEBHOOK_BASE_URL", "OAUTHLIB_INSECURE_TRANSPORT"):
        env.pop(name, None)
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
        welcome = _sign_in(url, "102")
        assert welcome.status_code == 302 and welcome.headers["Location"] == "/"
        refused = _sign_in(url, "201")
        assert refused.status_code == 403
        assert "This RingCentral account cannot use crm_cti" in refused.text
    finally:
        demo.send_signal(signal.SIGTERM)
        demo.wait(30)
