"""Headless Chromium (Debian's ``chromium``) driven by Playwright, against the whole stack:
crm_cti served by uvicorn (``live_app``) and the RingCentral sandbox.

Each test gets fresh browser contexts; a console error or an uncaught exception in a page
fails the test. Screenshots go to ``test-artifacts/`` at the repository root.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from tests.accounts.signin_helpers import PASSWORD
from tests.support.stack import (
    LiveApp,
    ManagedProcess,
    process_env,
    start_live_app,
    wait_until,
)

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
# Generous: the CI machine has 2 cores and runs the app, the sandbox and the browser.
TIMEOUT_MS = 20_000


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


def _ui_stack_scope(fixture_name: str, config) -> str:
    """Session in distributed mode. In embedded mode the app runs its own beat, which would
    go on repairing calls and refreshing tokens of later modules' deployments (sharing the
    test database with another sandbox) after the browser tests: it lives for a module."""
    return "session" if settings.DISTRIBUTED else "module"


@pytest.fixture(scope=_ui_stack_scope)
def ui_stack(django_db_setup, sandbox) -> Iterator[LiveApp]:
    """crm_cti for the browser tests, with its own Celery queue so that other stacks of the
    same test session (their workers point at other app URLs) never take its tasks; in
    distributed mode, plus a worker that creates webhook subscriptions for this app."""
    if settings.REDIS_URL and not settings.DISTRIBUTED:
        pytest.skip("REDIS_URL without DATABASE_URL is neither mode")
    extra = {"RC_SERVER_URL": sandbox.url, "CELERY_QUEUE": f"ui-tests-{os.getpid()}"}
    app = start_live_app(extra_env=extra, name="ui_app")
    processes = [app.process]
    if settings.DISTRIBUTED:
        worker = ManagedProcess(
            name="ui_worker",
            args=[
                sys.executable, "-m", "celery", "-A", "crm_cti", "worker", "--loglevel", "INFO",
                "--concurrency", "4", "--pool", "threads", "--hostname", f"ui-{os.getpid()}@%h",
                "--without-gossip", "--without-mingle",
            ],
            env=process_env(**extra, WEBHOOK_BASE_URL=app.url),
        )
        worker.start()
        processes.append(worker)
        def ready() -> bool:
            worker.assert_alive()
            return " ready." in worker.log_path.read_text(errors="replace")

        wait_until(
            ready,
            timeout=60,
            interval=0.25,
            what="the browser tests' Celery worker",
        )
    yield app
    for process in reversed(processes):
        process.stop()


@pytest.fixture
def live_app(ui_stack: LiveApp, transactional_db) -> LiveApp:
    """The browser tests' own app (see ui_stack); the test's writes are visible to it."""
    ui_stack.process.assert_alive()
    return ui_stack


class Browser:
    """Opens pages on the live app and records every console error and page crash."""

    def __init__(self, chromium, base_url: str) -> None:
        self.chromium = chromium
        self.base_url = base_url
        self.contexts = []
        self.errors: list[str] = []

    def new_page(self):
        context = self.chromium.new_context(
            base_url=self.base_url, viewport={"width": 1280, "height": 860}
        )
        context.set_default_timeout(TIMEOUT_MS)
        self.contexts.append(context)
        page = context.new_page()
        page.on("console", lambda msg: self._record(page, f"console {msg.text}", msg.type))
        page.on("pageerror", lambda exc: self._record(page, str(exc), "error"))
        page.on(
            "response",
            lambda r: self._record(page, f"HTTP {r.status} for {r.url}", "error")
            if r.status >= 400 and r.url.startswith(self.base_url)
            else None,
        )
        return page

    def _record(self, page, text: str, kind: str) -> None:
        # Only our pages count: the sandbox's sign-in page is RingCentral's, not ours.
        if kind == "error" and page.url.startswith(self.base_url):
            self.errors.append(f"{page.url}: {text}")

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def browser(chromium, live_app) -> Iterator[Browser]:
    b = Browser(chromium, live_app.url)
    yield b
    b.close()
    assert not b.errors, "errors in the browser console:\n" + "\n".join(b.errors)


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def rc_sandbox(sandbox, live_app):
    """A freshly reset sandbox for a test that signs in through the live app (and reset
    after it, so a test's configuration never leaks into the next)."""
    sandbox.reset()
    yield sandbox
    sandbox.reset()


def sign_in(page, sandbox, live_app, *, extension: str = "102") -> None:
    """Sign in with RingCentral through the sandbox's page, land on the dashboard, and wait
    until the app's webhook subscription is active and the page's socket is live."""
    page.goto("/auth/signin/")
    page.click("#signin-ringcentral")
    page.wait_for_url(f"{sandbox.url}/**")
    page.fill("#username", extension)
    page.fill("#password", PASSWORD)
    page.click("#signin")
    page.wait_for_url(f"{live_app.url}/")
    page.wait_for_selector("#conn[data-state='open']")
    extension_id = sandbox.user(extension)["extension_id"]

    def subscribed() -> bool:
        return any(
            sub["address"].startswith(live_app.url)
            and sub["ownerId"] == extension_id
            and sub["status"] == "Active"
            for sub in sandbox.subscriptions()
        )

    sandbox.wait_for(subscribed, timeout=30)


class CuttableSocket:
    """Stands between a page and /ws/agent/, so a test can cut the connection and restore it
    (``page.route_web_socket``): while down, every reconnection attempt is refused."""

    def __init__(self, page) -> None:
        self.down = False
        self.sockets: list = []
        page.route_web_socket("**/ws/agent/**", self._route)

    def _route(self, ws) -> None:
        if self.down:
            ws.close(code=1011, reason="network down")
            return
        ws.connect_to_server()
        self.sockets.append(ws)

    def cut(self) -> None:
        self.down = True
        for ws in self.sockets:
            ws.close(code=1011, reason="network down")

    def restore(self) -> None:
        self.down = False


def voicemail_audio_plays(page, audio_path_matches) -> None:
    """Play the page's voicemail (muted) and check what the browser got: the audio route
    ``audio_path_matches(url)`` picks answers audio/mpeg, whole or in part, and the element
    learnt a duration from it."""
    with page.expect_response(lambda r: audio_path_matches(r.url)) as audio:
        page.evaluate("() => { const a = document.querySelector('.voicemail audio');"
                      " a.muted = true; return a.play().catch(() => null); }")
    response = audio.value
    assert response.status in (200, 206)
    assert response.headers["content-type"] == "audio/mpeg"
    page.wait_for_function("() => document.querySelector('.voicemail audio').readyState >= 1")
    assert page.evaluate("document.querySelector('.voicemail audio').duration") > 0
