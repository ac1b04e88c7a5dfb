"""Real PostgreSQL and Redis for integration tests.

In CI (``CI=true``) a missing service fails the test: CI must test for real. On a laptop
without them, the test is skipped with a reason that says what to start.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

import pytest

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 0), 1.0):
            return True
    except OSError:
        return False


def require_service(name: str, url: str) -> str:
    if _reachable(url):
        return url
    message = f"{name} is not reachable at {url}: start it (see README, 'Running the tests')"
    if in_ci():
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)
    raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A real Redis (``REDIS_URL`` or the local default)."""
    return require_service("Redis", os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL)


def ensure_database(url: str) -> None:
    """Create the database named in ``url`` if the server does not have it yet."""
    import psycopg
    from psycopg import sql

    parsed = urlparse(url)
    name = parsed.path.lstrip("/") or "postgres"
    admin = parsed._replace(path="/postgres").geturl().replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A real PostgreSQL database (``DATABASE_URL`` or the local default), created if missing."""
    url = require_service("PostgreSQL", os.environ.get("DATABASE_URL") or DEFAULT_POSTGRES_URL)
    ensure_database(url)
    return url


@pytest.fixture(scope="session")
def distributed_mode(redis_url: str, postgres_url: str) -> None:
    """The test process itself runs in distributed mode (DATABASE_URL and REDIS_URL set)."""
    from django.conf import settings

    if not settings.DISTRIBUTED:
        message = "this test needs distributed mode: export DATABASE_URL and REDIS_URL"
        # `make test`'s second, embedded pass: these tests ran in its distributed pass.
        if os.environ.get("TEST_MODE") == "embedded":
            pytest.skip(f"{message} (it runs in the distributed pass)")
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
