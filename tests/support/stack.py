"""The product's own processes, started for real by the tests.

``live_app`` is crm_cti served by uvicorn in a subprocess on a free port, against the test
database and the sandbox; ``celery_worker`` is a real ``celery -A crm_cti worker``
subprocess on Redis. Both see exactly the database the test writes to, so tests using them
need ``transactional_db`` (the fixtures request it).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
# Each pytest-xdist worker logs into its own folder: its processes' logs (and the "ready."
# a fixture waits for) are never another worker's.
LOG_DIR = ROOT / "var" / "test-logs" / os.environ.get("PYTEST_XDIST_WORKER", "")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url_for_tests() -> str:
    """The URL of the database pytest-django set up, for a subprocess to share."""
    from django.db import connection

    d = connection.settings_dict
    if d["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{d['NAME']}"
    user = d.get("USER") or "postgres"
    password = f":{d['PASSWORD']}" if d.get("PASSWORD") else ""
    host = d.get("HOST") or "127.0.0.1"
    port = d.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{d['NAME']}"


def process_env(**extra: str) -> dict[str, str]:
    """Environment for a product subprocess: the product's settings (not tests/settings.py)
    with the test run's keys, account and database, served over plain HTTP."""
    from django.conf import settings

    env = dict(os.environ)
    # Browser tests lift Django's async-safety guard in this process; a server never may.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env.update(
        DJANGO_SETTINGS_MODULE="crm_cti.settings",
        DATABASE_URL=database_url_for_tests(),
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        TOKEN_ENCRYPTION_KEY=settings.TOKEN_ENCRYPTION_KEY,
        SECRET_KEY=settings.SECRET_KEY,
        RC_ACCOUNT_ID=settings.RC_ACCOUNT_ID,
        PYTHONUNBUFFERED="1",
    )
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
    else:
        env.pop("REDIS_URL", None)
    env.update(extra)
    return env


@dataclass
class ManagedProcess:
    name: str
    args: list[str]
    env: dict[str, str]
    log_path: Path = field(init=False)
    proc: subprocess.Popen | None = None

    def __post_init__(self) -> None:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.log_path = LOG_DIR / f"{self.name}.log"
        # A fresh log per session; restarts within the session append to it.
        self.log_path.unlink(missing_ok=True)

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            self.args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def assert_alive(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited:\n{self.log_tail()}")

    def stop(self, sig_timeout: float = 10.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(sig_timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def kill(self) -> None:
        """SIGKILL, for tests of what survives a crash."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


def wait_until(predicate, *, timeout: float, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except Exception as exc:  # a server that is still starting refuses connections
            last_error = exc
            value = None
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out waiting for {what} (last error: {last_error})")


@dataclass
class LiveApp:
    url: str
    process: ManagedProcess

    def get(self, path: str, **kwargs) -> requests.Response:
        return requests.get(self.url + path, timeout=10, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return requests.post(self.url + path, timeout=10, **kwargs)


def start_live_app(*, extra_env: dict[str, str] | None = None, name: str = "live_app") -> LiveApp:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = process_env(
        APP_PORT=str(port),
        WEBHOOK_BASE_URL=url,
        RC_REDIRECT_URI=f"{url}/auth/callback/",
        **(extra_env or {}),
    )
    process = ManagedProcess(
        name=name,
        args=[
            sys.executable, "-m", "uvicorn", "crm_cti.asgi:application",
            "--host", "127.0.0.1", "--port", str(port), "--lifespan", "on",
            "--log-level", "warning",
        ],
        env=env,
    )
    process.start()

    def healthy() -> bool:
        process.assert_alive()
        return requests.get(url + "/healthz", timeout=2).status_code in (200, 503)

    wait_until(healthy, timeout=30, what=f"{name} to answer /healthz")
    return LiveApp(url=url, process=process)


@pytest.fixture(scope="module")
def live_app_server(django_db_setup, request) -> Iterator[LiveApp]:
    """A crm_cti server for one test module, pointed at the sandbox (tests/support/sandbox.py).

    Module scope: a server left running for the session would keep running its beat
    (reconciliation, renewals) against rows and tokens that later modules create for other
    stacks, and sign their agents out behind their backs.
    """
    sandbox = request.getfixturevalue("sandbox")
    app = start_live_app(extra_env={"RC_SERVER_URL": sandbox.url})
    yield app
    app.process.stop()


@pytest.fixture
def live_app(live_app_server: LiveApp, transactional_db) -> LiveApp:
    """crm_cti over real HTTP; the test's writes are visible to it (transactional_db)."""
    live_app_server.process.assert_alive()
    return live_app_server


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, distributed_mode) -> Iterator[ManagedProcess]:
    worker = ManagedProcess(
        name="celery_worker",
        args=[
            sys.executable, "-m", "celery", "-A", "crm_cti", "worker",
            "--loglevel", "INFO", "--concurrency", "2", "--pool", "threads",
            "--hostname", f"test-{os.getpid()}@%h", "--without-gossip", "--without-mingle",
        ],
        env=process_env(),
    )
    worker.start()

    def ready() -> bool:
        worker.assert_alive()
        return " ready." in worker.log_path.read_text(errors="replace")

    wait_until(ready, timeout=60, interval=0.25, what="the Celery worker to be ready")
    yield worker
    worker.stop()


@pytest.fixture
def celery_worker(celery_worker_process: ManagedProcess, transactional_db) -> ManagedProcess:
    """A real Celery worker on Redis, sharing the test database."""
    celery_worker_process.assert_alive()
    return celery_worker_process
