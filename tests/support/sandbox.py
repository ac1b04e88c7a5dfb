"""The RingCentral sandbox in a subprocess, for any test that talks to "RingCentral".

``sandbox`` (session scope) starts ``manage.py rcsandbox --port <free port>`` once and
yields a :class:`SandboxProcess`; ``fresh_sandbox`` resets it to the seeded account and
default configuration before the test. Everything goes over real HTTP.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parent.parent.parent
CLIENT_ID = os.environ.get("RC_CLIENT_ID", "crm-cti-demo-client")
CLIENT_SECRET = os.environ.get("RC_CLIENT_SECRET", "crm-cti-demo-secret")
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SandboxProcess:
    """A running sandbox: its URL and helpers over its control API (``/sandbox/...``)."""

    def __init__(self, url: str, process: subprocess.Popen, log_path: Path) -> None:
        self.url = url
        self.process = process
        self.log_path = log_path
        self.client_id = CLIENT_ID
        self.client_secret = CLIENT_SECRET
        self.http = httpx.Client(base_url=url, timeout=30.0)

    # -- control API ----------------------------------------------------------------
    def _ok(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            raise AssertionError(
                f"sandbox {response.request.method} {response.request.url.path} -> "
                f"{response.status_code}: {response.text}"
            )
        return response.json() if response.content else None

    def reset(self) -> None:
        self._ok(self.http.post("/sandbox/reset"))

    def config(self, **changes: Any) -> dict[str, Any]:
        """``config(speed=10, rate_limits={"enabled": False})`` -> the full config."""
        if not changes:
            return self._ok(self.http.get("/sandbox/config"))
        return self._ok(self.http.post("/sandbox/config", json=changes))

    def stats(self) -> dict[str, Any]:
        return self._ok(self.http.get("/sandbox/stats"))

    def users(self) -> list[dict[str, Any]]:
        return self._ok(self.http.get("/sandbox/users"))

    def user(self, extension_number: str) -> dict[str, Any]:
        return next(u for u in self.users() if u["extension_number"] == str(extension_number))

    def start_call(self, scenario: str, **kw: Any) -> dict[str, Any]:
        """``start_call("inbound_answered", extension="102", **{"from": "+1650..."})``;
        ``from_`` is accepted for ``from``. Returns ``{"sessionId", "sessionIds", ...}``."""
        if "from_" in kw:
            kw["from"] = kw.pop("from_")
        return self._ok(self.http.post("/sandbox/calls", json={"scenario": scenario, **kw}))

    def call_action(self, session_id: str, action: str, **kw: Any) -> dict[str, Any]:
        return self._ok(self.http.post(f"/sandbox/calls/{session_id}/{action}", json=kw))

    def calls(self) -> list[dict[str, Any]]:
        return self._ok(self.http.get("/sandbox/calls"))

    def call(self, session_id: str) -> dict[str, Any]:
        return self._ok(self.http.get(f"/sandbox/calls/{session_id}"))

    def notify(self, extension: str, body: Any, event: str = "presence") -> dict[str, Any]:
        return self._ok(self.http.post("/sandbox/notify", json={
            "extension": extension, "body": body, "event": event}))

    def inject_call_log(self, extension: str, records: int, **kw: Any) -> dict[str, Any]:
        return self._ok(self.http.post("/sandbox/calllog",
                                       json={"extension": extension, "records": records, **kw}))

    def deliveries(self, subscription_id: str | None = None) -> list[dict[str, Any]]:
        params = {"subscriptionId": subscription_id} if subscription_id else None
        return self._ok(self.http.get("/sandbox/deliveries", params=params))

    def subscriptions(self) -> list[dict[str, Any]]:
        return self._ok(self.http.get("/sandbox/subscriptions"))

    def tokens(self) -> list[dict[str, Any]]:
        return self._ok(self.http.get("/sandbox/tokens"))

    def messages(self) -> list[dict[str, Any]]:
        return self._ok(self.http.get("/sandbox/messages"))

    # -- platform helpers -----------------------------------------------------------
    def token(self, extension: str = "102", grant: str = "jwt") -> dict[str, Any]:
        """A TokenInfo for an extension, by JWT (default) or password grant."""
        if grant == "jwt":
            data = {"grant_type": JWT_GRANT, "assertion": self.user(extension)["jwt"]}
        else:
            data = {"grant_type": "password", "username": str(extension),
                    "password": self.user(extension)["password"]}
        return self._ok(self.http.post("/restapi/oauth/token", data=data,
                                       auth=(self.client_id, self.client_secret)))

    def api(self, extension: str = "102") -> httpx.Client:
        """An httpx client authenticated as ``extension`` (caller closes it)."""
        access = self.token(extension)["access_token"]
        return httpx.Client(base_url=self.url, timeout=30.0,
                            headers={"Authorization": f"Bearer {access}"})

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 20.0,
                 interval: float = 0.05) -> Any:
        """Poll until ``predicate()`` is truthy (returns it) or fail after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"sandbox: condition not met within {timeout}s")
            time.sleep(interval)

    def close(self) -> None:
        self.http.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def sandbox_start(extra_env: dict[str, str] | None = None, timeout: float = 60.0) -> SandboxProcess:
    port = free_port()
    # The sandbox stands for RingCentral, not for a crm_cti process: it runs without the
    # deployment's database and Redis (distributed mode would demand crm_cti's keys).
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update({"SANDBOX_LOG_LEVEL": "warning", **(extra_env or {})})
    handle, log_name = tempfile.mkstemp(prefix="rcsandbox-", suffix=".log")
    with os.fdopen(handle, "wb") as log_file:
        # The child keeps its own copy of the descriptor; the log outlives this block.
        process = subprocess.Popen(
            [sys.executable, str(REPO / "manage.py"), "rcsandbox", "--host", "127.0.0.1",
             "--port", str(port)],
            cwd=REPO, env=env, stdout=log_file, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            log = Path(log_name).read_text(errors="replace")
            raise RuntimeError(f"sandbox exited with {process.returncode}:\n{log}")
        try:
            if httpx.get(url + "/sandbox/health", timeout=1.0).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"sandbox did not answer on {url} within {timeout}s")
        time.sleep(0.1)
    return SandboxProcess(url, process, Path(log_name))


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxProcess]:
    """The RingCentral sandbox (one process for the session)."""
    running = sandbox_start()
    try:
        yield running
    finally:
        running.close()


@pytest.fixture
def fresh_sandbox(sandbox: SandboxProcess) -> SandboxProcess:
    """The sandbox reset to its seeded account and default configuration.

    Our own rate budget is forgotten too: what it learnt from the old sandbox state would
    otherwise refuse requests locally for up to a window (shared through Redis in
    distributed mode; per process in embedded mode).
    """
    from crm_cti.ringcentral.budget import budget_reset

    sandbox.reset()
    budget_reset()
    return sandbox
