"""``/webhooks/ringcentral/`` through Django: the test client's and WSGI's way in.

Under ASGI the same path is answered before Django (webhook/asgi.py, mounted by
crm_cti/asgi.py); both call ``webhook_ingest``, so they answer alike.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from crm_cti.telephony.webhook.ingest import IngestReply, webhook_ingest, webhook_too_large


def _response(reply: IngestReply) -> HttpResponse:
    response = HttpResponse(reply.body, status=reply.status)
    for name, value in reply.headers:
        response[name] = value
    return response


@csrf_exempt
@require_POST
def ringcentral_webhook(request: HttpRequest) -> HttpResponse:
    limit = settings.WEBHOOK_MAX_BODY_BYTES
    remote = request.META.get("REMOTE_ADDR", "?")
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return _response(webhook_too_large(remote=remote, size=declared))
    try:
        body = request.body
    except Exception:  # RequestDataTooBig and friends
        return _response(webhook_too_large(remote=remote, size=declared))
    headers = {name.lower(): value for name, value in request.headers.items()}
    return _response(webhook_ingest(body=body, headers=headers, remote=remote))
