"""The WebSocket transport's stack: crm_cti with ``RC_EVENTS_TRANSPORT=websocket`` in
account mode (the admin extension's JWT owns the one connection), and ``manage.py rcevents``
processes a test starts, kills and counts (distributed mode; in embedded mode the web
process holds the connection itself)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any

from crm_cti.telephony.models import EventConnection, TelephonyEvent
from tests.support.stack import ManagedProcess, process_env, wait_until
from tests.telephony.pipeline import PIPELINE_ENV, Stack, module_stack, stack_queue


def websocket_env(sandbox: Any, name: str, *, account: bool = True) -> dict[str, str]:
    """Account mode (the admin's JWT owns one connection), or, ``account=False``, one
    connection per signed-in agent."""
    return {
        "RC_EVENTS_TRANSPORT": "websocket",
        "ACCOUNT_SUBSCRIPTION": "true" if account else "false",
        "RC_JWT": sandbox.user("101")["jwt"] if account else "",
        # A standby takes a dead holder's owner over within seconds.
        "EVENTS_LEASE_SECONDS": "3",
        "RC_SERVER_URL": sandbox.url,
        "CELERY_QUEUE": stack_queue(name),
        **PIPELINE_ENV,
    }


@contextlib.contextmanager
def websocket_stack(sandbox: Any, name: str, *, account: bool = True) -> Iterator[Stack]:
    env = websocket_env(sandbox, name, account=account)
    with module_stack(sandbox.url, name=name, env=env) as stack:
        yield stack


class EventsProcesses:
    """``manage.py rcevents`` processes of one test, stopped at its end."""

    def __init__(self, sandbox: Any, name: str, *, account: bool = True) -> None:
        self.env = process_env(**websocket_env(sandbox, name, account=account))
        self.name = name
        self.started: list[ManagedProcess] = []

    def start(self) -> ManagedProcess:
        process = ManagedProcess(name=f"{self.name}_events{len(self.started)}",
                                 args=[sys.executable, "manage.py", "rcevents"], env=self.env)
        process.start()
        self.started.append(process)
        return process

    def holder(self) -> ManagedProcess:
        """The process holding the account's connection (once one is connected)."""
        def connected() -> ManagedProcess | None:
            row = EventConnection.objects.filter(owner="account").first()
            if row is None or row.connected_since is None or not row.subscription_id:
                return None
            pid = int(row.holder.split(":")[1])
            return next((p for p in self.started if p.proc and p.proc.pid == pid), None)
        return wait_until(connected, timeout=30, what="an events process to connect",
                          interval=0.2)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.log_tail(40)}" for p in self.started)

    def stop(self) -> None:
        for process in self.started:
            process.stop()


def gateway_sessions(sandbox: Any) -> list[dict[str, Any]]:
    return sandbox.http.get("/sandbox/ws/sessions").json()


def events_settled(timeout: float = 30.0) -> None:
    wait_until(lambda: not TelephonyEvent.objects.filter(processed_at__isnull=True).exists(),
               timeout=timeout, what="every stored event to be applied")
