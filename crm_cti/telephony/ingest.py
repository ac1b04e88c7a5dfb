"""Receive one RingCentral webhook delivery: check it, keep it, announce it, answer.

The platform wants a 200 within about 3 seconds and blacklists slow receivers, and every
telephony event of the account arrives here, so this is the product's hottest code. Two
front doors call ``webhook_ingest``: the raw ASGI route in crm_cti/asgi.py (production:
no Django middleware, URL resolving or request objects on the hot path) and the Django
view (tests' client, WSGI deployments). Both answer exactly the same thing.

What it costs per event: one cached subscription check, one INSERT (the event is durable
in PostgreSQL before the 200: the platform does not redeliver an acknowledged event), one
Redis XADD to wake an applier. No REST call and no tracker work here.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from crm_cti.telephony.models import Subscription, TelephonyEvent
from crm_cti.telephony.tracker import InvalidEvent, event_parse

logger = logging.getLogger(__name__)

OK_BODY = b'{"ok":true}'
# How stale a subscription's last_event_at may get before a delivery refreshes it.
LAST_EVENT_RESOLUTION_SECONDS = 60
# How long a subscription's id and token are trusted without reading them again. A changed
# token is re-read at once (a mismatch always re-reads); a deleted subscription is noticed
# by the INSERT's foreign key.
SUBSCRIPTION_CACHE_SECONDS = 10.0


@dataclass(frozen=True)
class IngestReply:
    status: int
    body: bytes = OK_BODY
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/json"),)


@dataclass
class _CachedSubscription:
    pk: int
    token: str
    last_event_at: datetime | None
    read_at: float = field(default_factory=time.monotonic)


_cache: dict[str, _CachedSubscription] = {}
_cache_lock = threading.Lock()


def subscription_cache_clear() -> None:
    with _cache_lock:
        _cache.clear()


def _tiny(status: int, error: str = "") -> IngestReply:
    # The platform wants small answers (<= 1 KB with headers): no HTML error pages.
    if not error:
        return IngestReply(status)
    return IngestReply(status, json.dumps({"error": error[:200]}).encode())


def _reject(status: int, reason: str, *, remote: str, size: int | str) -> IngestReply:
    logger.warning("webhook rejected (%s): %s from %s, %s bytes", status, reason, remote, size)
    return _tiny(status, reason)


def _subscription_read(subscription_id: str) -> _CachedSubscription | None:
    row = (
        Subscription.objects.filter(rc_id=subscription_id)
        .values_list("pk", "verification_token", "last_event_at")
        .first()
    )
    if row is None:
        return None
    entry = _CachedSubscription(pk=row[0], token=row[1], last_event_at=row[2])
    with _cache_lock:
        _cache[subscription_id] = entry
    return entry


def _subscription_for(subscription_id: str, token: str) -> tuple[_CachedSubscription | None, bool]:
    """(the subscription a delivery belongs to if its token matches, whether the id is known)."""
    if subscription_id:
        with _cache_lock:
            entry = _cache.get(subscription_id)
        fresh = entry is not None and time.monotonic() - entry.read_at < SUBSCRIPTION_CACHE_SECONDS
        if not fresh or not hmac.compare_digest(entry.token, token):  # type: ignore[union-attr]
            entry = _subscription_read(subscription_id)
        if entry is not None:
            return (entry if hmac.compare_digest(entry.token, token) else None), True
    # A delivery can beat the creation response: adopt it by token for a pending row.
    for pending in Subscription.objects.filter(rc_id=""):
        if hmac.compare_digest(pending.verification_token, token):
            if subscription_id:
                pending.rc_id = subscription_id
                pending.save(update_fields=["rc_id", "updated_at"])
            return _CachedSubscription(pending.pk, token, pending.last_event_at), True
    return None, False


def _last_event_touch(subscription_id: str, entry: _CachedSubscription) -> None:
    # "Last event" is shown to admins; writing it for every event made each delivery update
    # the same row (a write and a row lock per event): once a minute is precise enough.
    now = timezone.now()
    last = entry.last_event_at
    if last is not None and (now - last).total_seconds() < LAST_EVENT_RESOLUTION_SECONDS:
        return
    entry.last_event_at = now
    try:
        Subscription.objects.filter(pk=entry.pk).update(last_event_at=now)
    except DatabaseError:
        logger.warning("webhook: could not record last event time", exc_info=True)


def webhook_too_large(*, remote: str, size: int | str) -> IngestReply:
    """The answer to a body over ``WEBHOOK_MAX_BODY_BYTES`` (checked before reading it all)."""
    limit = settings.WEBHOOK_MAX_BODY_BYTES
    return _reject(413, f"body over {limit} bytes", remote=remote, size=size)


def webhook_ingest(*, body: bytes, headers: Mapping[str, str], remote: str) -> IngestReply:
    """Answer one delivery. ``headers`` has lower-case names."""
    validation_token = headers.get("validation-token")
    if validation_token:
        # Subscription creation handshake: echo the token, nothing else.
        return IngestReply(200, b"", (("Validation-Token", validation_token[:256]),))

    if len(body) > settings.WEBHOOK_MAX_BODY_BYTES:
        return webhook_too_large(remote=remote, size=len(body))
    token = headers.get("verification-token", "")
    if not token:
        return _reject(401, "missing Verification-Token", remote=remote, size=len(body))
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _reject(400, "malformed JSON", remote=remote, size=len(body))
    if not isinstance(payload, dict):
        return _reject(400, "not a JSON object", remote=remote, size=len(body))

    subscription_id = str(payload.get("subscriptionId") or "")
    try:
        subscription, known = _subscription_for(subscription_id, token)
    except DatabaseError:
        logger.exception("webhook: database unavailable")
        return _tiny(503, "unavailable")
    if subscription is None:
        if known:
            return _reject(401, "wrong Verification-Token", remote=remote, size=len(body))
        return _reject(
            403, f"unknown subscription {subscription_id[:64]!r}", remote=remote, size=len(body)
        )

    try:
        parsed = event_parse(payload)
    except InvalidEvent as exc:
        return _reject(400, str(exc), remote=remote, size=len(body))

    try:
        event = _event_store(parsed, payload, subscription.pk)
    except IntegrityError:
        # A redelivery (unique uuid), or the subscription was deleted or recreated since it
        # was cached (foreign key): read it again and try once more.
        reread = _subscription_read(subscription_id) if subscription_id else None
        try:
            if TelephonyEvent.objects.filter(uuid=parsed.uuid).exists():
                logger.info("webhook: redelivery of %s dropped", parsed.uuid)
                return _tiny(200)
            if reread is None or not hmac.compare_digest(reread.token, token):
                return _reject(403, f"unknown subscription {subscription_id[:64]!r}",
                               remote=remote, size=len(body))
            event = _event_store(parsed, payload, reread.pk)
        except DatabaseError:  # IntegrityError again included: 503, the platform redelivers
            logger.exception("webhook: could not store %s", parsed.uuid)
            return _tiny(503, "unavailable")
    except DatabaseError:
        # Never 200 for an event we did not keep: the platform will redeliver.
        logger.exception("webhook: could not store %s", parsed.uuid)
        return _tiny(503, "unavailable")

    if subscription_id:
        _last_event_touch(subscription_id, subscription)

    from crm_cti.telephony.applier import event_announce

    event_announce(event_id=event.pk, extension_id=parsed.extension_id)
    return _tiny(200)


def _event_store(parsed: Any, payload: dict[str, Any], subscription_pk: int) -> TelephonyEvent:
    # Inside a transaction (tests, a caller's atomic block) a savepoint keeps it usable
    # after a duplicate; on its own the INSERT is one round trip in autocommit, where an
    # atomic block would add BEGIN and COMMIT to every delivery.
    guard = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
    with guard:
        return TelephonyEvent.objects.create(
            uuid=parsed.uuid,
            subscription_id=subscription_pk,
            rc_extension_id=parsed.extension_id,
            sequence=parsed.sequence,
            event_timestamp=parsed.timestamp,
            payload=payload,
        )
