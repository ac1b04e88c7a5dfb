"""Shared fixtures live in tests/support/*; each is registered here."""

from __future__ import annotations

import os

import pytest

pytest_plugins = [
    "tests.support.services",
    "tests.support.stack",
    "tests.support.sandbox",
    "tests.support.browser",
]


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix) -> None:
    """A test database per run, so that two runs on one machine never drop each other's."""
    from django.conf import settings

    suffix = f"run{os.getpid()}"
    for db in settings.DATABASES.values():
        test = db.setdefault("TEST", {})
        name = str(test.get("NAME") or f"test_{db['NAME']}")
        if name.endswith(".sqlite3"):
            test["NAME"] = name.removesuffix(".sqlite3") + f"_{suffix}.sqlite3"
        else:
            test["NAME"] = f"{name}_{suffix}"


def pytest_configure(config) -> None:
    _retry_flush_on_deadlock()


def _retry_flush_on_deadlock() -> None:
    """Retry the between-tests TRUNCATE when PostgreSQL picks it as a deadlock victim.

    Integration tests share the test database with real server and worker processes; one of
    them may still hold a row lock (a beat task finishing) when the test's flush asks for an
    exclusive lock. PostgreSQL resolves that by cancelling one side; a retry a moment later
    succeeds, where failing the next test would say nothing about the product.
    """
    import time

    from django.db import OperationalError
    from django.db.backends.base.operations import BaseDatabaseOperations

    original = BaseDatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        for attempt in range(5):
            try:
                return original(self, sql_list)
            except OperationalError as exc:
                if "deadlock" not in str(exc) or attempt == 4:
                    raise
                time.sleep(0.2 * (attempt + 1))
        return None

    BaseDatabaseOperations.execute_sql_flush = execute_sql_flush
