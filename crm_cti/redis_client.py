"""The one place that builds a Redis client for the product's own keys (the event stream,
the push journal, the REST budget, shared locks, the operations page), and names this
deployment's keys. Not Celery's broker connection, not the channel layer's.

One client per process and URL, kept: a client per call cost a new connection each time.
redis-py clients are thread-safe (a connection pool), and a forked child (Celery prefork)
makes its own instead of sharing its parent's sockets.
"""

from __future__ import annotations

import os
import threading
import time

import redis
from celery import current_app
from django.conf import settings

_clients: dict[tuple[str, int], redis.Redis] = {}
_lock = threading.Lock()


def redis_client() -> redis.Redis | None:
    """The shared client of ``REDIS_URL``, or None in embedded mode (no ``REDIS_URL``)."""
    url = settings.REDIS_URL
    if not url:
        return None
    key = (url, os.getpid())
    client = _clients.get(key)
    if client is None:
        with _lock:
            client = _clients.get(key)
            if client is None:
                # Blocking stream reads wait up to 1 s: the socket timeout must be longer.
                client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
                _clients[key] = client
    return client


def deployment_key(name: str) -> str:
    """A Redis key of this deployment's own, named after its Celery queue (``CELERY_QUEUE``)
    as the running app has it: deployments (and test stacks) sharing one Redis already
    differ there, and must not take each other's events or journal entries either."""
    return f"{current_app.conf.task_default_queue}:{name}"


def recent_set_add(client: redis.Redis, key: str, member: str, *, keep_seconds: float) -> None:
    """Add ``member`` to the sorted set ``key``, scored by the time now, and drop members
    older than ``keep_seconds`` (one round trip). Raises what Redis raises."""
    now = time.time()
    pipe = client.pipeline(transaction=False)
    pipe.zadd(key, {member: now})
    pipe.zremrangebyscore(key, "-inf", now - keep_seconds)
    pipe.execute()
