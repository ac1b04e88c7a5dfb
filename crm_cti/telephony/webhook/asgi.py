"""``POST /webhooks/ringcentral/`` answered before Django's request machinery.

Every telephony event of the account arrives here. Through Django each delivery paid for
the middleware stack, URL resolving, request and response objects and a hop to a request
thread and back (README "Performance"); this route reads the body on the event loop and
runs only ``webhook_ingest`` (the same function the Django view calls) in a worker thread,
where the ORM may block. Any other method or path goes to Django unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from django.http.request import split_domain_port, validate_host
from django.urls import reverse

from crm_cti.telephony.webhook.ingest import IngestReply, webhook_ingest, webhook_too_large

logger = logging.getLogger(__name__)

ASGIApp = Callable[[dict[str, Any], Callable[..., Awaitable[Any]], Callable[..., Awaitable[Any]]],
                   Awaitable[None]]


def _ingest_in_thread(body: bytes, headers: dict[str, str], remote: str) -> IngestReply:
    # What Django does around a request: a connection used here goes back to the pool (or
    # is closed) instead of staying with this executor thread.
    close_old_connections()
    try:
        return webhook_ingest(body=body, headers=headers, remote=remote)
    finally:
        close_old_connections()


def _host_allowed(scope: dict[str, Any], headers: dict[str, str]) -> bool:
    """``request.get_host()``'s check, which Django's CommonMiddleware makes on every request
    (a disallowed Host gets 400 there too): DNS rebinding and poisoned host names stop here."""
    if settings.USE_X_FORWARDED_HOST and "x-forwarded-host" in headers:
        host = headers["x-forwarded-host"]
    elif "host" in headers:
        host = headers["host"]
    else:
        # As Django rebuilds it without a Host header (PEP 333).
        name, port = scope.get("server") or ("unknown", "0")
        default_port = "443" if scope.get("scheme") in ("https", "wss") else "80"
        host = name if str(port) == default_port else f"{name}:{port}"
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    domain, _port = split_domain_port(host)
    return bool(domain) and validate_host(domain, allowed)


def _headers(scope: dict[str, Any]) -> dict[str, str]:
    # Repeated headers are joined with commas, as Django's ASGIRequest does (two Host
    # headers then fail the host check there and here alike).
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", []):
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    return headers


async def _read_body(receive: Callable[..., Awaitable[Any]], limit: int) -> bytes | None:
    """The whole body, or None once it exceeds ``limit`` (the rest is not read)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _answer(send: Callable[..., Awaitable[Any]], reply: IngestReply) -> None:
    headers = [(name.lower().encode("latin-1"), value.encode("latin-1"))
               for name, value in reply.headers]
    headers.append((b"content-length", str(len(reply.body)).encode()))
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": reply.body})


def webhook_fast_path(django_app: ASGIApp) -> ASGIApp:
    """Wrap Django's ASGI app: webhook deliveries skip it, everything else goes through."""
    path: str | None = None

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        nonlocal path
        if path is None:
            path = reverse("telephony:ringcentral_webhook")
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != path:
            await django_app(scope, receive, send)
            return
        headers = _headers(scope)
        remote = (scope.get("client") or ("?",))[0]
        if not _host_allowed(scope, headers):
            logger.warning("webhook rejected (400): Host %r not in ALLOWED_HOSTS from %s",
                           headers.get("host", "")[:100], remote)
            await _answer(send, IngestReply(400, b'{"error":"bad request"}'))
            return
        limit = settings.WEBHOOK_MAX_BODY_BYTES
        try:
            declared = int(headers.get("content-length") or 0)
        except ValueError:
            declared = 0
        body = None if declared > limit else await _read_body(receive, limit)
        if body is None:
            await _answer(send, webhook_too_large(remote=remote, size=declared or "> limit"))
            return
        try:
            reply = await sync_to_async(_ingest_in_thread, thread_sensitive=False)(
                body, headers, remote
            )
        except Exception:
            logger.exception("webhook: unexpected failure")
            reply = IngestReply(500, b'{"error":"internal error"}')
        await _answer(send, reply)

    return app
