"""The PostgreSQL pool's health check, made cheap for connections just handed back.

Django's pool (``OPTIONS["pool"]``, settings.py) checks a connection each time it is taken
from the pool when ``CONN_HEALTH_CHECKS`` is on: an empty query, a round trip. The
``crm_cti.postgres`` backend builds the pool with these callbacks instead. The webhook
takes a connection for every delivery and gives it back after, so that check was about a
sixth of the web process's CPU per event (bench/, README "Performance"). A connection that
came back less than ``RECENT_SECONDS`` ago answered a moment ago; checking it again buys
nothing, so only connections idle longer than that are checked. One broken since (a
PostgreSQL restart in that second) fails its query once: the webhook answers 503 and the
platform delivers again, the applier keeps its batch and tries again.
"""

from __future__ import annotations

import time
from typing import Any

from psycopg_pool import ConnectionPool

RECENT_SECONDS = 1.0
_RETURNED_AT = "_crm_cti_returned_at"


def connection_returned(conn: Any) -> None:
    """The pool's ``reset`` callback: remember when the connection came back."""
    setattr(conn, _RETURNED_AT, time.monotonic())


def connection_check(conn: Any) -> None:
    """The pool's ``check`` callback: psycopg_pool's own check, for connections idle longer
    than ``RECENT_SECONDS`` (or never returned yet)."""
    returned_at = getattr(conn, _RETURNED_AT, None)
    if returned_at is not None and time.monotonic() - returned_at < RECENT_SECONDS:
        return
    ConnectionPool.check_connection(conn)
