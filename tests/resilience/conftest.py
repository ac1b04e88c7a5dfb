"""Resilience suite: real processes (uvicorn, Celery worker and beat, Redis, a proxy in front
of PostgreSQL) that the tests kill and restart. Distributed mode only: run it with
DATABASE_URL and REDIS_URL set (CI does); ``pytest tests/resilience`` runs it alone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth import get_user_model

from tests.accounts.signin_helpers import rc  # noqa: F401 - fixture
from tests.resilience.harness import FAST_ENV, Stack, subscription_make
from tests.support.stack import LOG_DIR


@pytest.fixture(autouse=True)
def _plain_http(settings):
    # Django's test client speaks plain HTTP whatever mode the suite runs in.
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture
def subscription(transactional_db):
    return subscription_make()


@pytest.fixture
def watcher_user(transactional_db):
    """An admin without an extension: watches every agent's calls (``?agent=all``)."""
    return get_user_model().objects.create_user(username="ops-watcher", is_staff=True)


@pytest.fixture
def stack_factory(distributed_mode, transactional_db) -> Iterator:
    """Start a stack with extra environment; every stack started is stopped afterwards."""
    started: list[Stack] = []

    def start(extra_env: dict[str, str] | None = None, **kwargs) -> Stack:
        stack = Stack(env={**FAST_ENV, **(extra_env or {})})
        started.append(stack)
        return stack.start(**kwargs)

    yield start
    for stack in started:
        stack.stop()


# Figures each test records (record_property) go to var/test-logs/resilience-figures.json,
# the source of docs/RELIABILITY.md's table.
_FIGURES: dict[str, dict] = {}


def pytest_runtest_logreport(report):
    if report.when == "call" and report.nodeid.startswith("tests/resilience/"):
        _FIGURES[report.nodeid] = {"outcome": report.outcome, **dict(report.user_properties)}


def pytest_sessionfinish(session):
    if not _FIGURES:
        return
    import json

    path = LOG_DIR / "resilience-figures.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_FIGURES, indent=2, default=str))
