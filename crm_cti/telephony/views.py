"""``/webhooks/ringcentral/``: receive RingCentral notifications.

Thin on purpose (the platform wants a 200 within about 3 seconds and blacklists slow
receivers): check, store the raw event, enqueue one task, answer. No REST call here.
"""

from __future__ import annotations

import hmac
import json
import logging

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from crm_cti.telephony.models import Subscription, TelephonyEvent
from crm_cti.telephony.tracker import InvalidEvent, event_parse

logger = logging.getLogger(__name__)

OK_BODY = b'{"ok":true}'
# How stale a subscription's last_event_at may get before a webhook refreshes it.
LAST_EVENT_RESOLUTION_SECONDS = 60


def _tiny(status: int, error: str = "") -> HttpResponse:
    # The platform wants small answers (<= 1 KB with headers): no HTML error pages.
    if not error:
        return HttpResponse(OK_BODY, status=status, content_type="application/json")
    return JsonResponse({"error": error[:200]}, status=status)


def _reject(request: HttpRequest, status: int, reason: str) -> HttpResponse:
    logger.warning(
        "webhook rejected (%s): %s from %s, %s bytes",
        status,
        reason,
        request.META.get("REMOTE_ADDR", "?"),
        request.META.get("CONTENT_LENGTH", "?"),
    )
    return _tiny(status, reason)


def _subscription_for(subscription_id: str, token: str) -> Subscription | None:
    """The subscription a delivery belongs to, if its verification token matches."""
    if subscription_id:
        sub = Subscription.objects.filter(rc_id=subscription_id).first()
        if sub is not None:
            return sub if hmac.compare_digest(sub.verification_token, token) else None
    # A delivery can beat the creation response: adopt it by token for a pending row.
    for pending in Subscription.objects.filter(rc_id=""):
        if hmac.compare_digest(pending.verification_token, token):
            if subscription_id:
                pending.rc_id = subscription_id
                pending.save(update_fields=["rc_id", "updated_at"])
            return pending
    return None


@csrf_exempt
@require_POST
def ringcentral_webhook(request: HttpRequest) -> HttpResponse:
    validation_token = request.headers.get("Validation-Token")
    if validation_token:
        # Subscription creation handshake: echo the token, nothing else.
        response = HttpResponse(b"", status=200)
        response["Validation-Token"] = validation_token[:256]
        return response

    limit = settings.WEBHOOK_MAX_BODY_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return _reject(request, 413, f"body over {limit} bytes")
    try:
        raw = request.body
    except Exception:  # RequestDataTooBig and friends
        return _reject(request, 413, "body too large")
    if len(raw) > limit:
        return _reject(request, 413, f"body over {limit} bytes")

    token = request.headers.get("Verification-Token", "")
    if not token:
        return _reject(request, 401, "missing Verification-Token")
    try:
        payload = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _reject(request, 400, "malformed JSON")
    if not isinstance(payload, dict):
        return _reject(request, 400, "not a JSON object")

    subscription_id = str(payload.get("subscriptionId") or "")
    try:
        subscription = _subscription_for(subscription_id, token)
    except DatabaseError:
        logger.exception("webhook: database unavailable")
        return _tiny(503, "unavailable")
    if subscription is None:
        known = subscription_id and Subscription.objects.filter(rc_id=subscription_id).exists()
        if known:
            return _reject(request, 401, "wrong Verification-Token")
        return _reject(request, 403, f"unknown subscription {subscription_id[:64]!r}")

    try:
        parsed = event_parse(payload)
    except InvalidEvent as exc:
        return _reject(request, 400, str(exc))

    now = timezone.now()
    try:
        # A savepoint, so a duplicate leaves any surrounding transaction usable.
        with transaction.atomic():
            event = TelephonyEvent.objects.create(
                uuid=parsed.uuid,
                subscription=subscription,
                rc_extension_id=parsed.extension_id,
                sequence=parsed.sequence,
                event_timestamp=parsed.timestamp,
                payload=payload,
            )
    except IntegrityError:
        logger.info("webhook: redelivery of %s dropped", parsed.uuid)
        return _tiny(200)
    except DatabaseError:
        # Never 200 for an event we did not keep: the platform will redeliver.
        logger.exception("webhook: could not store %s", parsed.uuid)
        return _tiny(503, "unavailable")

    # "Last event" is shown to admins; writing it for every event made each webhook update
    # the same row (a write and a row lock per event): once a minute is precise enough.
    last = subscription.last_event_at
    if last is None or (now - last).total_seconds() >= LAST_EVENT_RESOLUTION_SECONDS:
        try:
            Subscription.objects.filter(pk=subscription.pk).update(last_event_at=now)
        except DatabaseError:
            logger.warning("webhook: could not record last event time", exc_info=True)

    from crm_cti.telephony.tasks import event_process

    try:
        event_process.delay(event.pk)
    except Exception:
        # Kept with processed_at NULL: the sweeper (beat) enqueues it when the broker is back.
        logger.exception("webhook: could not enqueue event %s; the sweeper will", event.pk)
    return _tiny(200)
