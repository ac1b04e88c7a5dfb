"""This process's Redis client for the product's own keys (not Celery's, not the layer's).

One per process, kept: a client per call cost a new connection each time. redis-py
clients are thread-safe (a connection pool), and a forked child (Celery prefork) makes its
own instead of sharing its parent's sockets.
"""

from __future__ import annotations

import os
import threading

import redis
from django.conf import settings

_client: redis.Redis | None = None
_client_pid = 0
_lock = threading.Lock()


def redis_client() -> redis.Redis | None:
    """The shared client, or None in embedded mode (no ``REDIS_URL``)."""
    global _client, _client_pid
    if not settings.REDIS_URL:
        return None
    with _lock:
        if _client is None or _client_pid != os.getpid():
            # Blocking stream reads wait up to 1 s: the socket timeout must be longer.
            _client = redis.Redis.from_url(
                settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=5
            )
            _client_pid = os.getpid()
        return _client


def deployment_key(name: str) -> str:
    """A Redis key of this deployment's own, named after its Celery queue (``CELERY_QUEUE``):
    deployments (and test stacks) sharing one Redis already differ there, and must not
    take each other's events or journal entries either."""
    from crm_cti.celery import app

    return f"{app.conf.task_default_queue}:{name}"
