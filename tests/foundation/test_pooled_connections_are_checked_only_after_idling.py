"""The PostgreSQL pool skips its health check (a round trip) for a connection handed back
less than a second ago, and still checks, and replaces, one that idled longer
(crm_cti/db_pool.py). Against a real PostgreSQL, whose backend is really terminated."""

from __future__ import annotations

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from crm_cti import db_pool

pytestmark = pytest.mark.integration


def _terminate(postgres_url: str, pid: int) -> None:
    conninfo = postgres_url.replace("postgres://", "postgresql://", 1)
    with psycopg.connect(conninfo, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.fixture
def pool(distributed_mode, django_db_setup):
    """The pool the product's backend builds (crm_cti.postgres), one connection wide."""
    from django.db import connections

    from crm_cti.postgres.base import DatabaseWrapper

    settings_dict = {**connections["default"].settings_dict}
    settings_dict["OPTIONS"] = {**settings_dict["OPTIONS"],
                                "pool": {"min_size": 1, "max_size": 1, "timeout": 5}}
    wrapper = DatabaseWrapper(settings_dict, alias="pool_check_test")
    pool = wrapper.pool
    pool.open(wait=True)
    yield pool
    wrapper.close_pool()


def _backend_pid(pool: ConnectionPool) -> int:
    with pool.connection() as conn:
        return conn.execute("SELECT pg_backend_pid()").fetchone()[0]


def test_a_connection_just_handed_back_is_not_checked_again(pool, postgres_url):
    pid = _backend_pid(pool)
    _terminate(postgres_url, pid)
    # Handed out unchecked: its first query finds the backend gone (the webhook answers
    # 503 there and the platform delivers again) ...
    with pytest.raises(psycopg.OperationalError), pool.connection() as conn:
        conn.execute("SELECT 1")
    # ... and the pool, seeing it broken when it comes back, opens another.
    assert _backend_pid(pool) != pid


def test_a_connection_that_idled_is_checked_and_replaced(pool, postgres_url, monkeypatch):
    pid = _backend_pid(pool)
    _terminate(postgres_url, pid)
    monkeypatch.setattr(db_pool, "RECENT_SECONDS", 0.0)  # as if it had idled a while
    with pool.connection() as conn:
        assert conn.execute("SELECT pg_backend_pid()").fetchone()[0] != pid


def test_the_product_runs_on_this_backend(settings):
    engine = settings.DATABASES["default"]["ENGINE"]
    if engine.endswith("sqlite3"):
        pytest.skip("no PostgreSQL pool in this mode (embedded: SQLite)")
    assert engine == "crm_cti.postgres"
    assert settings.DATABASES["default"]["OPTIONS"]["pool"]
