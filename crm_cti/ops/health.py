"""Health checks behind ``GET /healthz``: each one really exercises its dependency.

``/healthz`` is public (load balancers ask it), so what it shows of a check is ``ok`` and a
``detail`` that is the backend's name, or just ``failed``: exception text names hosts, ports
and users. The error itself is logged and shown on the operations page (``error``).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection

from crm_cti.celery import app as celery_app

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    detail: str  # public: the backend that answered, or "failed"
    error: str = ""  # for admins only: why it failed


def _failed(name: str, exc: BaseException) -> CheckResult:
    error = f"{type(exc).__name__}: {exc}"
    logger.warning("health check %s failed: %s", name, error)
    return CheckResult(False, "failed", error[:500])


def check_database() -> CheckResult:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return _failed("database", exc)
    return CheckResult(True, connection.vendor)


async def _channel_round_trip() -> str:
    layer = get_channel_layer()
    channel = await layer.new_channel("healthz.")
    token = uuid.uuid4().hex
    await layer.send(channel, {"type": "healthz.ping", "token": token})
    message = await asyncio.wait_for(layer.receive(channel), CHECK_TIMEOUT_SECONDS)
    if message.get("token") != token:
        raise RuntimeError("channel layer returned a different message")
    return type(layer).__name__


def check_channel_layer() -> CheckResult:
    try:
        backend = async_to_sync(_channel_round_trip)()
    except Exception as exc:
        return _failed("channel_layer", exc)
    return CheckResult(True, backend)


def check_broker() -> CheckResult:
    if not settings.DISTRIBUTED:
        from crm_cti.embedded import embedded_workers_running

        # Embedded mode: a worker thread serves the in-memory broker inside the web process;
        # anywhere else (a manage.py command) tasks run eagerly.
        return CheckResult(True, "in-process worker" if embedded_workers_running() else "eager")
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=CHECK_TIMEOUT_SECONDS)
            conn.default_channel.client.ping()
    except Exception as exc:
        return _failed("broker", exc)
    return CheckResult(True, "redis")


def run_checks() -> dict[str, CheckResult]:
    return {
        "database": check_database(),
        "channel_layer": check_channel_layer(),
        "broker": check_broker(),
    }
