"""Receive one RingCentral webhook delivery: check it, keep it, announce it, answer.

The platform wants a 200 within about 3 seconds and blacklists slow receivers, and every
telephony event of the account arrives here, so this is the product's hottest code. Two
front doors call ``webhook_ingest``: the raw ASGI route (webhook/asgi.py, mounted by
crm_cti/asgi.py; production: no Django middleware, URL resolving or request objects on the
hot path) and the Django view (webhook/views.py: tests' client, WSGI deployments). Both
answer exactly the same thing.

The body is parsed once, here, by notifications/ (``payload_load`` cleans it,
``event_parse`` reads it); the cleaned payload is what is stored, and what the worker
parses again through the same ``event_parse``. The stored event is announced on the
stream (stream.event_announce).

What it costs per event: one cached subscription check (found by the hash of the
``Verification-Token`` before the body is parsed), one INSERT (the event is durable in
PostgreSQL before the 200: the platform does not redeliver an acknowledged event), one
Redis XADD to wake an applier. No REST call and no tracker work here.

What a redelivery cannot fix is never answered 503 (the platform would redeliver it until
it blacklists the subscription): characters PostgreSQL refuses are stripped, and any other
permanent database error is a 400.
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
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, DataError, IntegrityError, connection, transaction
from django.utils import timezone

from crm_cti.redis_client import deployment_key, recent_set_add, redis_client
from crm_cti.telephony.hot_sql import event_insert
from crm_cti.telephony.models import Subscription, TelephonyEvent, verification_token_hash
from crm_cti.telephony.notifications import (
    TELEPHONY_SESSIONS,
    InvalidEvent,
    ParsedEvent,
    event_parse,
    event_path_extension,
    payload_load,
)
from crm_cti.telephony.notifications.telephony_sessions import sessions_path_extension
from crm_cti.telephony.stream import event_announce

logger = logging.getLogger(__name__)

OK_BODY = b'{"ok":true}'
# How stale a subscription's last_event_at may get before a delivery refreshes it.
LAST_EVENT_RESOLUTION_SECONDS = 60
# How long a subscription found by its token is trusted without reading it again. Each
# agent has a subscription, so at 100 events/s over 500 agents a web process sees a token
# about every 10 s: a 10 s cache made nearly every delivery read its subscription (an
# eighth of the web's CPU per event). Changes reach every process sooner: a saved or
# deleted subscription is published in Redis (``subscription_changed``) and each process
# looks there at most once per ``CHANGES_POLL_SECONDS``. Without Redis to ask (embedded
# mode has one process, whose own saves clear it at once; or Redis away) the short trust
# applies. A subscription id it does not own is re-read at once; a deleted subscription is
# noticed by the INSERT's foreign key.
SUBSCRIPTION_CACHE_SECONDS = 300.0
SUBSCRIPTION_CACHE_SECONDS_UNWATCHED = 10.0
CHANGES_POLL_SECONDS = 1.0
CHANGES_NAME = "webhook-subscriptions-changed"
# Changes are read from a little before the last look (clocks of two processes of one
# deployment agree to well under this), and forgotten after an hour.
CHANGES_SLACK_SECONDS = 5.0
CHANGES_KEEP_SECONDS = 3600.0
# How long an unknown token (or a subscription id its token does not own) is remembered, so
# a flood of bogus deliveries costs no query each. Short: a token is only unknown before
# its row exists, and rows are saved before the platform learns the token.
UNKNOWN_CACHE_SECONDS = 5.0
UNKNOWN_CACHE_MAX = 10_000


@dataclass(frozen=True)
class IngestReply:
    status: int
    body: bytes = OK_BODY
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/json"),)


@dataclass
class _CachedSubscription:
    pk: int
    rc_id: str
    # The only extension this subscription's events may be about (an agent's subscription);
    # None: any extension of the account.
    extension_id: str | None
    last_event_at: datetime | None
    read_at: float = field(default_factory=time.monotonic)


# Keyed by the token's hash; unknown tokens (and token:id pairs) by when they were refused.
_cache: dict[str, _CachedSubscription] = {}
_unknown: dict[str, float] = {}
_cache_lock = threading.Lock()


# When this process last read the published changes (wall clock, as their scores), and
# whether that worked (the long trust holds only while it does).
_changes_read_at = 0.0
_changes_watched = False


def subscription_cache_clear() -> None:
    with _cache_lock:
        _cache.clear()
        _unknown.clear()


def subscription_forget(pk: int, token_hash: str = "") -> None:
    """This process forgets a subscription (and whatever its token found before) at once,
    before its save commits: a rolled-back save must not leave the old row cached either."""
    _cache_forget({pk}, token_hash)


def _cache_forget(pks: set[int], token_hash: str = "") -> None:
    with _cache_lock:
        for cached in [h for h, entry in _cache.items() if entry.pk in pks or h == token_hash]:
            del _cache[cached]
        # A token refused a moment ago may belong to the row just saved.
        _unknown.clear()


def subscription_changed(pk: int, token_hash: str = "") -> None:
    """A subscription's save or delete committed (telephony/receivers.py): this process
    forgets it, and whatever its token found before, at once; the others forget that
    subscription when they next look (``_changes_poll``)."""
    _cache_forget({pk}, token_hash)
    client = redis_client()
    if client is None:
        return
    try:
        recent_set_add(client, deployment_key(CHANGES_NAME), str(pk),
                       keep_seconds=CHANGES_KEEP_SECONDS)
    except Exception:
        # The other processes then trust what they cached for up to SUBSCRIPTION_CACHE_SECONDS
        # (and only the short time while they cannot read Redis either).
        logger.warning("webhook: could not publish a subscription change", exc_info=True)


def _changes_poll() -> None:
    """At most once per ``CHANGES_POLL_SECONDS``: forget the subscriptions changed elsewhere."""
    global _changes_read_at, _changes_watched
    now = time.time()
    if now - _changes_read_at < CHANGES_POLL_SECONDS:
        return
    since, _changes_read_at = _changes_read_at, now
    client = redis_client()
    if client is None:
        _changes_watched = False
        return
    try:
        changed = client.zrangebyscore(deployment_key(CHANGES_NAME),
                                       since - CHANGES_SLACK_SECONDS, "+inf")
    except Exception:
        logger.warning("webhook: could not read subscription changes", exc_info=True)
        _changes_watched = False
        return
    if not _changes_watched:
        # Trusting the cache for long starts now: what was cached before may predate
        # changes this process never saw.
        subscription_cache_clear()
        _changes_watched = True
    elif changed:
        _cache_forget({int(pk) for pk in changed})


def _cache_trust_seconds() -> float:
    return SUBSCRIPTION_CACHE_SECONDS if _changes_watched else SUBSCRIPTION_CACHE_SECONDS_UNWATCHED


def _tiny(status: int, error: str = "") -> IngestReply:
    # The platform wants small answers (<= 1 KB with headers): no HTML error pages.
    if not error:
        return IngestReply(status)
    return IngestReply(status, json.dumps({"error": error[:200]}).encode())


def _reject(status: int, reason: str, *, remote: str, size: int | str) -> IngestReply:
    logger.warning("webhook rejected (%s): %s from %s, %s bytes", status, reason, remote, size)
    return _tiny(status, reason)


def _known_unknown(key: str) -> bool:
    with _cache_lock:
        refused_at = _unknown.get(key)
    return refused_at is not None and time.monotonic() - refused_at < UNKNOWN_CACHE_SECONDS


def _remember_unknown(key: str) -> None:
    with _cache_lock:
        if len(_unknown) >= UNKNOWN_CACHE_MAX:
            _unknown.clear()  # a flood of distinct bogus keys: start over rather than grow
        _unknown[key] = time.monotonic()


def _subscription_read(token: str, token_hash: str) -> _CachedSubscription | None:
    """The subscription whose token this is, from the database (one indexed query)."""
    rows = (
        Subscription.objects.filter(verification_token_hash=token_hash)
        .order_by("-pk")
        .values_list("pk", "verification_token", "rc_id", "mode", "agent_id",
                     "agent__rc_extension_id", "last_event_at")
    )
    for pk, stored, rc_id, mode, agent_id, agent_extension, last_event_at in rows:
        # The hash only finds the row; the token itself is compared in constant time.
        if not hmac.compare_digest(stored.encode(), token.encode("utf-8", "surrogatepass")):
            continue
        scoped = mode == Subscription.Mode.EXTENSION and agent_id is not None
        entry = _CachedSubscription(
            pk=pk, rc_id=rc_id,
            extension_id=(agent_extension or "") if scoped else None,
            last_event_at=last_event_at,
        )
        with _cache_lock:
            _cache[token_hash] = entry
        return entry
    with _cache_lock:
        _cache.pop(token_hash, None)
    _remember_unknown(token_hash)
    return None


def _subscription_by_token(token: str, token_hash: str) -> _CachedSubscription | None:
    _changes_poll()
    with _cache_lock:
        entry = _cache.get(token_hash)
    if entry is not None and time.monotonic() - entry.read_at < _cache_trust_seconds():
        return entry
    if entry is None and _known_unknown(token_hash):
        return None
    return _subscription_read(token, token_hash)


def _subscription_claim(
    subscription_id: str, token: str, token_hash: str
) -> _CachedSubscription | None:
    """The token's subscription if the delivery's ``subscriptionId`` is its own, else None.

    A cached row may be stale (another process adopted it), so a mismatch reads it again
    once; a pending row (its creation response not back yet: the delivery beat it) adopts
    the delivery's id."""
    pair = f"{token_hash}:{subscription_id}"
    if _known_unknown(pair):
        return None
    entry = _subscription_read(token, token_hash)
    if entry is not None and not entry.rc_id and subscription_id:
        if Subscription.objects.filter(pk=entry.pk, rc_id="").update(
            rc_id=subscription_id, updated_at=timezone.now()
        ):
            entry.rc_id = subscription_id  # the cached entry too
        else:  # another delivery adopted it just now
            entry = _subscription_read(token, token_hash)
    if entry is not None and (entry.rc_id == subscription_id or not entry.rc_id):
        return entry
    _remember_unknown(pair)
    return None


def _last_event_touch(entry: _CachedSubscription) -> None:
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


def event_scope_refusal(
    *, parsed: ParsedEvent, payload: Mapping[str, Any], extension_id: str | None
) -> str:
    """Why an event is not about the subscription's extension ('' when it is, or when the
    subscription covers the whole account)."""
    if extension_id is None:
        return ""
    if parsed.kind == TELEPHONY_SESSIONS.name:
        return sessions_path_refusal(payload=payload, extension_id=extension_id)
    if parsed.extension_id != extension_id:
        return f"body.extensionId {parsed.extension_id[:32]!r} is not this subscription's"
    if event_path_extension(payload) != extension_id:
        return "event path is not this subscription's extension"
    return ""


def sessions_path_refusal(*, payload: Mapping[str, Any], extension_id: str | None) -> str:
    """Why a telephony-session event is not for the subscription's extension ('' when it is,
    when the subscription covers the account, or when it is no sessions event). Asked before
    the body is parsed: the path alone says whose events these are (they are ordered by
    session, and the parser keeps only that extension's parties)."""
    named = sessions_path_extension(payload.get("event"))
    if extension_id is None or named is None or named == extension_id:
        return ""
    return "event path is not this subscription's extension telephony sessions"


def event_timestamp_refusal(timestamp: datetime | None, *, now: datetime | None = None) -> str:
    """Why a delivery's envelope timestamp is refused ('' when it is recent enough)."""
    if timestamp is None:
        return "missing or unreadable timestamp"
    now = now or timezone.now()
    if timestamp < now - timedelta(seconds=settings.WEBHOOK_MAX_EVENT_AGE_SECONDS):
        return "timestamp older than WEBHOOK_MAX_EVENT_AGE_SECONDS"
    if timestamp > now + timedelta(seconds=settings.WEBHOOK_MAX_CLOCK_SKEW_SECONDS):
        return "timestamp in the future"
    return ""


def _content_type_ok(value: str) -> bool:
    # "application/json", optionally with parameters ("; charset=utf-8"), as the platform
    # and the official SDKs send it.
    return value.split(";", 1)[0].strip().lower() == "application/json"


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

    size = len(body)
    if size > settings.WEBHOOK_MAX_BODY_BYTES:
        return webhook_too_large(remote=remote, size=size)
    # (An empty body declares nothing: it is simply not a notification, 400 below.)
    if body and not _content_type_ok(headers.get("content-type", "")):
        return _reject(415, "Content-Type must be application/json", remote=remote, size=size)
    token = headers.get("verification-token", "")
    if not token:
        return _reject(401, "missing Verification-Token", remote=remote, size=size)
    # The token says whose delivery this is before a byte of the body is parsed.
    token_hash = verification_token_hash(token)
    try:
        subscription = _subscription_by_token(token, token_hash)
    except DatabaseError:
        logger.exception("webhook: database unavailable")
        return _tiny(503, "unavailable")
    if subscription is None:
        return _reject(401, "wrong Verification-Token", remote=remote, size=size)

    try:
        payload = payload_load(body)
    except InvalidEvent as exc:
        return _reject(400, str(exc), remote=remote, size=size)
    raw_id = payload.get("subscriptionId")
    subscription_id = raw_id.strip() if isinstance(raw_id, str) else ""
    if subscription_id != subscription.rc_id:
        try:
            claimed = (
                _subscription_claim(subscription_id, token, token_hash)
                if len(subscription_id) <= 64 else None
            )
        except DatabaseError:
            logger.exception("webhook: database unavailable")
            return _tiny(503, "unavailable")
        if claimed is None:
            return _reject(403, f"unknown subscription {subscription_id[:64]!r}",
                           remote=remote, size=size)
        subscription = claimed

    refusal = sessions_path_refusal(payload=payload, extension_id=subscription.extension_id)
    if refusal:
        return _reject(403, refusal, remote=remote, size=size)
    try:
        parsed = event_parse(payload)
    except InvalidEvent as exc:
        return _reject(400, str(exc), remote=remote, size=size)
    refusal = event_scope_refusal(parsed=parsed, payload=payload,
                                  extension_id=subscription.extension_id)
    if refusal:
        return _reject(403, refusal, remote=remote, size=size)
    refusal = event_timestamp_refusal(parsed.timestamp)
    if refusal:
        return _reject(400, refusal, remote=remote, size=size)

    try:
        event_id = _event_store_or_explain(parsed, payload, subscription, token, token_hash)
    except _Refused as refused:
        return _reject(refused.status, refused.reason, remote=remote, size=size)
    except (DataError, IntegrityError, ValueError):
        # Not a redelivery and not a gone subscription: PostgreSQL will refuse this event
        # however often it comes, so a 503 would only get the subscription blacklisted.
        # (ValueError: a value the driver cannot even send.)
        logger.exception("webhook: %s refused by the database for good", parsed.uuid)
        return _reject(400, "event refused by the database", remote=remote, size=size)
    except DatabaseError:
        # Never 200 for an event we did not keep: the platform will redeliver.
        logger.exception("webhook: could not store %s", parsed.uuid)
        return _tiny(503, "unavailable")
    if event_id is None:
        logger.info("webhook: redelivery of %s dropped", parsed.uuid)
        return _tiny(200)

    _last_event_touch(subscription)
    event_announce(event_id=event_id, extension_id=parsed.extension_id)
    return _tiny(200)


def notification_ingest(*, envelope: Any, extension_id: str | None) -> bool:
    """Keep and announce one notification the WebSocket transport received (the envelope a
    webhook delivery carries): the same checks, the same INSERT (unique on ``uuid``: a
    replay after a session recovery is dropped) and the same announcement.

    ``extension_id``: the only extension the connection's events may be about (an agent's
    connection), None for the account's. True when stored or already stored (the caller may
    count its sequence as seen); raise InvalidEvent when it is refused for good, and the
    database's error when it could not be stored now."""
    if not isinstance(envelope, dict):
        raise InvalidEvent("a notification is a JSON object")
    payload = payload_load(json.dumps(envelope, allow_nan=True).encode())
    parsed = event_parse(payload)
    refusal = event_scope_refusal(parsed=parsed, payload=payload, extension_id=extension_id)
    refusal = refusal or event_timestamp_refusal(parsed.timestamp)
    if refusal:
        raise InvalidEvent(refusal)
    try:
        event_id = _event_store(parsed, payload, None)
    except IntegrityError:
        if TelephonyEvent.objects.filter(uuid=parsed.uuid).exists():
            logger.info("websocket: replay of %s dropped", parsed.uuid)
            return True
        raise
    except (DataError, ValueError):
        logger.exception("websocket: %s refused by the database for good", parsed.uuid)
        raise InvalidEvent("event refused by the database") from None
    event_announce(event_id=event_id, extension_id=parsed.extension_id)
    return True


class _Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _event_store_or_explain(
    parsed: ParsedEvent, payload: dict[str, Any], subscription: _CachedSubscription,
    token: str, token_hash: str,
) -> int | None:
    """The stored event's id, or None for a redelivery; raise _Refused, or the database's error
    when it is not one of those."""
    try:
        return _event_store(parsed, payload, subscription.pk)
    except IntegrityError:
        # A redelivery (unique uuid), or the subscription was deleted or recreated since it
        # was cached (foreign key): read it again and try once more.
        if TelephonyEvent.objects.filter(uuid=parsed.uuid).exists():
            return None
        reread = _subscription_read(token, token_hash)
        if reread is None:
            raise _Refused(401, "wrong Verification-Token") from None
        if reread.pk == subscription.pk:
            raise  # the row is there: the INSERT fails for another reason
        if reread.rc_id != subscription.rc_id:
            raise _Refused(403, f"unknown subscription {subscription.rc_id[:64]!r}") from None
        subscription.pk = reread.pk
        return _event_store(parsed, payload, reread.pk)


def _event_store(
    parsed: ParsedEvent, payload: dict[str, Any], subscription_pk: int | None
) -> int:
    """The stored event's id. Inside a transaction (tests, a caller's atomic block) a
    savepoint keeps it usable after a duplicate; on its own the INSERT is one round trip in
    autocommit, where an atomic block would add BEGIN and COMMIT to every delivery."""
    guard = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
    with guard:
        return event_insert(
            uuid=parsed.uuid, subscription_id=subscription_pk,
            extension_id=parsed.extension_id, sequence=parsed.sequence,
            timestamp=parsed.timestamp, payload=payload, now=timezone.now(),
        )
