"""``manage.py demo``: the RingCentral sandbox and crm_cti, started together for a trial.

Both run as child processes; Ctrl-C (or SIGTERM) stops both. The app is pointed at the
sandbox through ``RC_SERVER_URL`` exactly as it would be pointed at RingCentral. The command
lives in the sandbox app because it starts the sandbox and knows the sandbox's account;
product code never imports the sandbox.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from crm_cti.sandbox.config import ACCOUNT_ID

STARTUP_TIMEOUT_SECONDS = 40


class Command(BaseCommand):
    help = "Start the RingCentral sandbox and the crm_cti web app for a demo (Ctrl-C stops both)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=settings.APP_PORT)
        parser.add_argument("--sandbox-port", type=int, default=settings.SANDBOX_PORT)

    def handle(self, *args: Any, host: str, port: int, sandbox_port: int, **options: Any) -> None:
        app_url = f"http://{host}:{port}"
        sandbox_url = f"http://{host}:{sandbox_port}"
        env = dict(os.environ)
        env.setdefault("RC_SERVER_URL", sandbox_url)
        env.setdefault("WEBHOOK_BASE_URL", app_url)
        env.setdefault("RC_REDIRECT_URI", f"{app_url}/auth/callback/")
        # A trial on this machine: Django's debug pages help, and mask every credential.
        env.setdefault("DEBUG", "true")
        if env["RC_SERVER_URL"] == sandbox_url:
            # The demo starts the sandbox, so it knows its account: only its users get in.
            env.setdefault("RC_ACCOUNT_ID", ACCOUNT_ID)
        env["APP_PORT"] = str(port)
        children: list[subprocess.Popen] = []

        def stop_all(*_: object) -> None:
            for child in reversed(children):
                if child.poll() is None:
                    child.terminate()
            for child in children:
                try:
                    child.wait(10)
                except subprocess.TimeoutExpired:
                    child.kill()

        signal.signal(signal.SIGTERM, lambda *_: (stop_all(), sys.exit(0)))
        try:
            if env["RC_SERVER_URL"] == sandbox_url:
                children.append(self._spawn(
                    [sys.executable, "manage.py", "rcsandbox", "--host", host,
                     "--port", str(sandbox_port)], env))
                self._wait_for(f"{sandbox_url}/sandbox/users", children, "the sandbox")
            children.append(self._spawn(
                [sys.executable, "-m", "uvicorn", "crm_cti.asgi:application",
                 "--host", host, "--port", str(port), "--lifespan", "on"], env))
            self._wait_for(f"{app_url}/healthz", children, "crm_cti")
            self._print_welcome(app_url, sandbox_url, env["RC_SERVER_URL"] == sandbox_url)
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
            raise CommandError("a demo process exited; see its output above")
        except KeyboardInterrupt:
            self.stdout.write("\nstopping the demo…")
        finally:
            stop_all()

    def _spawn(self, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        return subprocess.Popen(args, cwd=settings.BASE_DIR, env=env)  # noqa: S603

    def _wait_for(self, url: str, children: list[subprocess.Popen], what: str) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if any(child.poll() is not None for child in children):
                raise CommandError(f"{what} exited during start-up; see its output above")
            try:
                if requests.get(url, timeout=2).status_code < 500:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise CommandError(f"{what} did not answer at {url} within {STARTUP_TIMEOUT_SECONDS}s")

    def _print_welcome(self, app_url: str, sandbox_url: str, with_sandbox: bool) -> None:
        lines = ["", "=" * 72, f"  crm_cti is running:  {app_url}/", ""]
        if with_sandbox:
            lines += self._sign_in_lines(sandbox_url)
            lines += [
                f"  Make a phone ring:   {sandbox_url}/sandbox/  (the sandbox console)",
                "  or: .venv/bin/python manage.py rcsandbox_call inbound_answered"
                " --ext 102 --from +16504445567",
            ]
        lines += ["", "  Ctrl-C stops everything.", "=" * 72, ""]
        self.stdout.write("\n".join(lines))

    def _sign_in_lines(self, sandbox_url: str) -> list[str]:
        try:
            users = requests.get(f"{sandbox_url}/sandbox/users", timeout=5).json()
        except (requests.RequestException, ValueError):
            return ["  Sign in with any sandbox extension (see the sandbox console)."]
        users = users.get("users", users) if isinstance(users, dict) else users
        lines = ["  Sign in with RingCentral (sandbox) as any of:"]
        for user in users[:6]:
            role = "admin" if user.get("is_admin") or user.get("admin") else "agent"
            lines.append(
                f"    ext {user.get('extension_number', user.get('extensionNumber', '?')):>4}"
                f"  {user.get('name', ''):<22} password: {user.get('password', '')}  ({role})"
            )
        return [*lines, ""]
