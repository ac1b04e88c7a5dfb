"""Operational Celery tasks."""

from __future__ import annotations

import socket

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

HEARTBEAT_CACHE_KEY = "ops:worker-heartbeat"


@shared_task(name="ops.worker_heartbeat", ignore_result=False)
def worker_heartbeat(token: str = "") -> dict[str, str]:
    """Record that a worker ran a task just now (the operations page shows it)."""
    beat = {"host": socket.gethostname(), "at": timezone.now().isoformat(), "token": token}
    cache.set(HEARTBEAT_CACHE_KEY, beat, timeout=None)
    return beat
