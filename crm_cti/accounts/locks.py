"""A lock shared by every process that may refresh the same token.

Distributed mode: a Redis lock (redis-py, with an expiry so a crashed holder cannot block
forever). Embedded mode: a per-name thread lock plus an exclusive ``flock`` on a file under
``var/locks/``, so that a management command or a second local process refreshing at the
same time as the web process still waits its turn (the kernel drops the lock if the holder
dies).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from redis.exceptions import LockError

from crm_cti.redis_client import redis_client
from crm_cti.ringcentral.errors import PlatformUnavailable

try:
    import fcntl
except ImportError:  # Windows: one process only, the thread lock is all there is
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

_thread_locks: dict[str, threading.Lock] = {}
_registry_lock = threading.Lock()


def _thread_lock(name: str) -> threading.Lock:
    with _registry_lock:
        return _thread_locks.setdefault(name, threading.Lock())


@contextmanager
def _file_lock(name: str, deadline: float) -> Iterator[None]:
    if fcntl is None:
        yield
        return
    directory = Path(settings.VAR_DIR) / "locks"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / (hashlib.sha256(name.encode()).hexdigest()[:32] + ".lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise PlatformUnavailable(f"timed out waiting for the lock {name}") from None
                time.sleep(0.01)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def shared_lock(
    name: str, *, hold_seconds: float = 30.0, wait_seconds: float = 45.0
) -> Iterator[None]:
    """Hold ``name`` across all processes; raise ``PlatformUnavailable`` after ``wait_seconds``.

    ``hold_seconds`` bounds how long a holder that died keeps others out of the Redis lock;
    it must exceed one token request (``RC_TIMEOUT_SECONDS``) plus a database write.
    """
    if settings.REDIS_URL:
        lock = redis_client().lock(
            f"crm_cti:lock:{name}", timeout=hold_seconds, blocking_timeout=wait_seconds
        )
        if not lock.acquire():
            raise PlatformUnavailable(f"timed out waiting for the lock {name}")
        try:
            yield
        finally:
            try:
                lock.release()
            except LockError:
                # Expired while held (the holder outlived hold_seconds): nothing to release.
                logger.warning("lock %s expired before release", name)
        return
    deadline = time.monotonic() + wait_seconds
    lock = _thread_lock(name)
    if not lock.acquire(timeout=wait_seconds):
        raise PlatformUnavailable(f"timed out waiting for the lock {name}")
    try:
        with _file_lock(name, deadline):
            yield
    finally:
        lock.release()
