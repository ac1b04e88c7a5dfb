"""One holder per subscription owner, across any number of events processes.

Distributed mode: a Redis key per owner set only if absent, with an expiry the holder keeps
renewing (a check-and-extend script: only the holder extends or deletes it). A holder that
dies stops renewing, and a standby takes the owner over when the key expires, within
``EVENTS_LEASE_SECONDS``. Embedded mode has no Redis: the owner's ``EventConnection`` row
carries the holder and its expiry, taken by one conditional UPDATE.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from crm_cti.redis_client import deployment_key, redis_client
from crm_cti.telephony.models import EventConnection

_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


def holder_id() -> str:
    """Who this process is, as a lease and the operations page name it."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Lease:
    """The lease on one owner's connection, for one holder."""

    def __init__(self, owner: str, holder: str) -> None:
        self.owner = owner
        self.holder = holder

    @property
    def _ttl_ms(self) -> int:
        return int(settings.EVENTS_LEASE_SECONDS * 1000)

    def _key(self) -> str:
        return deployment_key(f"events:lease:{self.owner}")

    def acquire(self) -> bool:
        """Take the lease if nobody holds it (or it is ours already)."""
        client = redis_client()
        if client is not None:
            if client.set(self._key(), self.holder, nx=True, px=self._ttl_ms):
                return True
            return self.renew()
        return self._row_take()

    def renew(self) -> bool:
        """Extend the lease; False when it is no longer ours (stop holding the owner)."""
        client = redis_client()
        if client is not None:
            return bool(client.eval(_RENEW, 1, self._key(), self.holder, self._ttl_ms))
        return self._row_take()

    def release(self) -> None:
        client = redis_client()
        if client is not None:
            client.eval(_RELEASE, 1, self._key(), self.holder)
            return
        EventConnection.objects.filter(owner=self.owner, holder=self.holder).update(
            holder="", lease_until=None)

    def _row_take(self) -> bool:
        now = timezone.now()
        EventConnection.objects.get_or_create(owner=self.owner)
        free = Q(holder=self.holder) | Q(lease_until__isnull=True) | Q(lease_until__lt=now)
        until = now + timedelta(milliseconds=self._ttl_ms)
        return bool(EventConnection.objects.filter(free, owner=self.owner).update(
            holder=self.holder, lease_until=until))
