"""The threads of the refresh race, shared by the test process and the second process."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connections

from crm_cti.accounts.models import Agent
from crm_cti.accounts.services import client_for_agent


def run_threads(
    agent: Agent, count: int, wait_for_go: Callable[[], None]
) -> tuple[list[threading.Thread], list[str]]:
    """Start ``count`` threads that each call RingCentral as ``agent`` once ``wait_for_go``
    returns; each appends the extension id it read, or the error, to the results."""
    results: list[str] = []
    lock = threading.Lock()

    def work() -> None:
        wait_for_go()
        try:
            outcome = str(client_for_agent(agent).get_extension()["id"])
        except Exception as exc:
            outcome = f"error: {exc!r}"
        finally:
            connections.close_all()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=work) for _ in range(count)]
    for thread in threads:
        thread.start()
    return threads, results
