"""End-to-end harness: sandbox → webhook → worker → tracker → websocket, all real processes.

``pipeline`` gives a running crm_cti (uvicorn subprocess; in distributed mode also a real
Celery worker and beat) pointed at the sandbox, with short enrichment delays so a test runs
in seconds, plus helpers to sign agents in (JWT grant against the sandbox), subscribe them,
and listen on ``/ws/agent/`` like a browser does (session cookie, Origin header).

Which mode is tested is the test process's own: nothing set = embedded (SQLite, the web
process runs the worker and beat threads), ``DATABASE_URL`` + ``REDIS_URL`` = distributed.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from django.conf import settings
from django.test import Client
from websockets.sync.client import connect as ws_connect

from crm_cti.accounts.models import Agent
from crm_cti.ringcentral.budget import budget_reset
from crm_cti.telephony.services import subscriptions
from tests.support.agents import agent_sign_in
from tests.support.stack import LiveApp, ManagedProcess, process_env, start_live_app, wait_until

# Short delays: the sandbox runs scenarios 10x faster, and so do we.
PIPELINE_ENV = {
    "CALL_LOG_DELAY_SECONDS": "1",
    "CALL_LOG_RETRY_SECONDS": "1",
    "CALL_LOG_MAX_ATTEMPTS": "30",
    "ACTIVE_CALLS_DELAY_SECONDS": "1",
    "ACTIVE_CALLS_WINDOW_SECONDS": "5",
    "RECONCILE_INTERVAL_SECONDS": "4",
    "RECONCILE_GRACE_SECONDS": "3",
    "LOG_LEVEL": "INFO",
    # Give connections back at once: the PostgreSQL server is shared with other suites.
    "DB_CONN_MAX_AGE": "0",
}


@dataclass
class Stack:
    app: LiveApp
    processes: list[ManagedProcess]

    def assert_alive(self) -> None:
        self.app.process.assert_alive()
        for process in self.processes:
            process.assert_alive()

    def stop(self) -> None:
        for process in [*self.processes, self.app.process]:
            process.stop()

    def logs(self) -> str:
        return "\n".join(
            p.log_tail(60) for p in [self.app.process, *self.processes]
        )


def stack_queue(name: str) -> str:
    """A Celery queue of this stack's own: other workers on the same Redis (the foundation's
    ``celery_worker``, another stack) must not take its tasks."""
    return f"{name}-{os.getpid()}"


def start_stack(sandbox_url: str, *, name: str = "pipeline",
                env: dict[str, str] | None = None) -> Stack:
    """crm_cti against ``sandbox_url``: the web process, plus in distributed mode a Celery
    worker and beat; ``env`` overrides PIPELINE_ENV."""
    extra = {
        "RC_SERVER_URL": sandbox_url, "CELERY_QUEUE": stack_queue(name), **PIPELINE_ENV,
        **(env or {}),
    }
    app = start_live_app(extra_env=extra, name=f"{name}_app")
    processes: list[ManagedProcess] = []
    if settings.DISTRIBUTED:
        # The worker creates subscriptions too (sign-in task): same webhook address.
        env = process_env(**extra, WEBHOOK_BASE_URL=app.url)
        worker = ManagedProcess(
            name=f"{name}_worker",
            args=[
                sys.executable, "-m", "celery", "-A", "crm_cti", "worker", "--loglevel", "INFO",
                "--concurrency", "4", "--pool", "threads", "--hostname", f"{name}@%h",
                "--without-gossip", "--without-mingle",
            ],
            env=env,
        )
        beat = ManagedProcess(
            name=f"{name}_beat",
            args=[
                sys.executable, "-m", "celery", "-A", "crm_cti", "beat", "--loglevel", "INFO",
                "--schedule", str(settings.VAR_DIR / f"{name}-{os.getpid()}-beat-schedule"),
            ],
            env=env,
        )
        worker.start()
        beat.start()
        processes = [worker, beat]

        def ready() -> bool:
            worker.assert_alive()
            return " ready." in worker.log_path.read_text(errors="replace")

        wait_until(ready, timeout=60, interval=0.25, what="the pipeline worker")
    return Stack(app=app, processes=processes)


@pytest.fixture(scope="module")
def pipeline_stack(django_db_setup, sandbox) -> Iterator[Stack]:
    """One stack per test module, stopped before the next module starts: two live
    deployments on one test database would both repair (and sign out) each other's calls."""
    if settings.REDIS_URL and not settings.DISTRIBUTED:
        pytest.skip("REDIS_URL without DATABASE_URL is neither mode")
    with module_stack(sandbox.url) as stack:
        yield stack


@contextlib.contextmanager
def module_stack(sandbox_url: str, *, name: str = "pipeline",
                 env: dict[str, str] | None = None) -> Iterator[Stack]:
    """``start_stack`` for a module's fixture: tasks this test process enqueues (sign-in
    receivers) go to the stack's own queue while it runs."""
    from crm_cti.celery import app as celery_app

    stack = start_stack(sandbox_url, name=name, env=env)
    previous = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = stack_queue(name)
    try:
        yield stack
    finally:
        celery_app.conf.task_default_queue = previous
        stack.stop()


def call_enriched(sock: AgentSocket, session_id: str, *,
                  states: tuple[str, ...] = ("ended", "missed")) -> Callable[[Any], bool]:
    """A wait-for check: the socket's last message for the call carries its call-log
    result and one of ``states``."""
    def check(_history: Any) -> bool:
        calls = sock.calls(session_id)
        return bool(calls and calls[-1]["result"] and calls[-1]["state"] in states)
    return check


class AgentSocket:
    """``/ws/agent/`` as a browser holds it; messages are collected on a thread."""

    def __init__(self, app_url: str, session_cookie: str, query: str = "") -> None:
        ws_url = app_url.replace("http://", "ws://") + "/ws/agent/" + (f"?{query}" if query else "")
        self.conn = ws_connect(
            ws_url,
            additional_headers={"Cookie": f"sessionid={session_cookie}", "Origin": app_url},
            open_timeout=10,
        )
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.history: list[dict[str, Any]] = []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for raw in self.conn:
                self.messages.put(json.loads(raw))
        except Exception:  # closed
            return

    def drain(self) -> list[dict[str, Any]]:
        while True:
            try:
                self.history.append(self.messages.get_nowait())
            except queue.Empty:
                return self.history

    def wait_for(self, predicate: Callable[[list[dict[str, Any]]], Any], *,
                 timeout: float = 30.0, what: str = "messages",
                 context: Callable[[], str] | None = None) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                self.history.append(self.messages.get(timeout=0.1))
            result = predicate(self.history)
            if result:
                return result
        extra = context() if context is not None else ""
        raise AssertionError(f"timed out waiting for {what}; got {self.history!r}\n{extra}")

    def calls(self, session_id: str) -> list[dict[str, Any]]:
        """Every call object received for a session, in order (snapshot entries too)."""
        found = []
        for message in self.drain():
            if message["type"] == "call" and message["call"]["session_id"] == session_id:
                found.append(message["call"])
            elif message["type"] == "snapshot":
                found.extend(c for c in message["calls"] if c["session_id"] == session_id)
        return found

    def close(self) -> None:
        self.conn.close()


def states_in_order(calls: list[dict[str, Any]]) -> list[str]:
    """The states a browser showed, consecutive repeats folded."""
    states: list[str] = []
    for call in calls:
        if not states or states[-1] != call["state"]:
            states.append(call["state"])
    return states


@dataclass
class Pipeline:
    stack: Stack
    sandbox: Any
    sockets: list[AgentSocket] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.stack.app.url

    def sign_in(self, extension_number: str) -> Agent:
        return agent_sign_in(self.sandbox, extension_number)

    def subscribe(self, agent: Agent):
        return subscriptions.subscription_ensure(agent=agent)

    def session_cookie(self, agent: Agent) -> str:
        client = Client()
        client.force_login(agent.user)
        return client.cookies[settings.SESSION_COOKIE_NAME].value

    def socket(self, agent: Agent, query: str = "") -> AgentSocket:
        sock = AgentSocket(self.url, self.session_cookie(agent), query)
        self.sockets.append(sock)
        sock.wait_for(lambda h: any(m["type"] == "snapshot" for m in h), what="the snapshot")
        return sock

    def http(self, agent: Agent) -> requests.Session:
        """A requests session signed in as ``agent``, with the CSRF token set."""
        session = requests.Session()
        session.cookies.set(settings.SESSION_COOKIE_NAME, self.session_cookie(agent))
        session.cookies.set(settings.CSRF_COOKIE_NAME, "x" * 32)
        session.headers.update({"X-CSRFToken": "x" * 32, "Referer": self.url + "/"})
        return session

    def close(self) -> None:
        for sock in self.sockets:
            sock.close()

    def quiesce(self, timeout: float = 10.0) -> None:
        """Let the stack finish what the test started before the database is flushed: a
        TRUNCATE racing a worker's transaction can deadlock in PostgreSQL."""
        from crm_cti.telephony.models import Call, TelephonyEvent

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            busy = (
                TelephonyEvent.objects.filter(processed_at__isnull=True).exists()
                or Call.objects.filter(enrichment=Call.Enrichment.PENDING).exists()
            )
            if not busy:
                break
            time.sleep(0.2)
        # Countdown tasks (the active-calls refresh) run a second after the last event.
        time.sleep(float(PIPELINE_ENV["ACTIVE_CALLS_DELAY_SECONDS"]) + 0.5)


@pytest.fixture
def pipeline(
    pipeline_stack: Stack, fresh_sandbox, transactional_db, settings
) -> Iterator[Pipeline]:
    settings.RC_SERVER_URL = fresh_sandbox.url
    settings.WEBHOOK_BASE_URL = pipeline_stack.app.url
    fresh_sandbox.config(speed=10, call_log_lag=5)
    budget_reset()
    pipeline_stack.assert_alive()
    pipe = Pipeline(stack=pipeline_stack, sandbox=fresh_sandbox)
    yield pipe
    pipe.close()
    pipe.quiesce()
