"""The WebSocket gateway: ``POST /restapi/oauth/wstoken`` and the connection at its ``uri``.

Every message either way is a JSON array ``[header, body]`` (body optional). The server opens
with ``ConnectionDetails`` (the ``wsc`` session token and sequence, the timeouts); the client
sends ``ClientRequest`` (subscription create, read, update, renew, delete) and ``Heartbeat``;
the server answers in kind and pushes ``ServerNotification`` with the same envelope a webhook
gets. Sessions, the sequence and the recovery buffer live in wssession.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import time
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from crm_cti.sandbox import delivery, wssession
from crm_cti.sandbox.api import Ctx, operation, sandbox_state
from crm_cti.sandbox.errors import ApiError, invalid_parameter, not_found, permission_required
from crm_cti.sandbox.rest.subscriptions import _expires_in, _filters, _owned, subscription_body
from crm_cti.sandbox.state import SandboxState, Subscription, iso, now

PATH = "/ws"
_SUBSCRIPTIONS = re.compile(r"^/restapi/v1\.0/subscription/?$")
_SUBSCRIPTION = re.compile(r"^/restapi/v1\.0/subscription/([^/]+)(/renew)?/?$")
# Seconds between self-renewals of a connected session's subscription (at most).
RENEW_EVERY = 30.0


@operation("POST", "/restapi/oauth/wstoken")
async def ws_token(ctx: Ctx) -> Response:
    assert ctx.token is not None
    if "WebSocket" not in ctx.token.scope.split():
        raise permission_required("WebSocket")
    token = wssession.token_issue(ctx.state, access=ctx.token)
    uri = re.sub(r"^http", "ws", ctx.url(PATH))
    return JSONResponse({"ws_access_token": token.token, "uri": uri,
                         "expires_in": max(1, round(token.expires_at - now()))})


def _header(kind: str, message_id: str, status: int = 200, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "messageId": message_id, "status": status, **extra,
            "headers": {"RCRequestId": secrets.token_hex(16)}}


def _error(message_id: str, status: int, code: str, text: str) -> list[Any]:
    return [_header("Error", message_id, status), {"errorCode": code, "message": text}]


def _connection_details(state: SandboxState, session: wssession.WsSession,
                        recovery: str | None) -> list[Any]:
    cfg = state.config
    body: dict[str, Any] = {
        "creationTime": iso(session.created),
        "maxConnectionsPerSession": wssession.MAX_CONNECTIONS_PER_SESSION,
        "recoveryBufferSize": wssession.RECOVERY_BUFFER_SIZE,
        "recoveryTimeout": cfg["ws_recovery_timeout"],
        "idleTimeout": cfg["ws_idle_timeout"],
        "absoluteTimeout": cfg["ws_absolute_timeout"],
        "maxActiveRequests": wssession.MAX_ACTIVE_REQUESTS,
    }
    if recovery is not None:
        body["recoveryState"] = recovery
    return [_header("ConnectionDetails", str(uuid.uuid4()), wsc=session.wsc_header()), body]


async def gateway(websocket: WebSocket) -> None:
    state = sandbox_state(websocket)  # type: ignore[arg-type]
    token = wssession.token_redeem(state, websocket.query_params.get("access_token"))
    if token is None:
        # Closing before accepting refuses the handshake (HTTP 403): the token is single-use.
        await websocket.close(code=1008)
        return
    session, recovery = wssession.session_open(state, token, websocket.query_params.get("wsc"))
    await websocket.accept()
    state.stats["ws_connections"][session.owner_id] += 1
    connection = wssession.Connection(websocket)
    previous = session.connection
    # The lock keeps notifications queued meanwhile behind ConnectionDetails and the replay.
    async with connection.lock:
        replay = wssession.session_attach(session, connection)
        try:
            for message in [_connection_details(state, session, recovery), *replay]:
                await websocket.send_text(json.dumps(message))
        except Exception:  # the client left at once, whatever the server stack raised
            wssession.session_detach(state, session, connection)
            return
    if previous is not None:
        await _close_quietly(previous.websocket, 1000, "session taken over")
    try:
        await _serve(state, session, connection, token)
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass
    finally:
        wssession.session_detach(state, session, connection)


async def _serve(state: SandboxState, session: wssession.WsSession,
                 connection: wssession.Connection, token: wssession.WsToken) -> None:
    websocket = connection.websocket
    renew_in = wssession.subscription_renew(state, session, most=RENEW_EVERY)
    while not connection.closed:
        at = time.monotonic()
        idle_left = connection.last_seen + float(state.config["ws_idle_timeout"]) - at
        absolute_left = connection.opened + float(state.config["ws_absolute_timeout"]) - at
        if absolute_left <= 0 or idle_left <= 0:
            code, text = (wssession.ABSOLUTE_TIMEOUT if absolute_left <= 0
                          else wssession.IDLE_TIMEOUT)
            await connection.send(_error(str(uuid.uuid4()), 400, code, text))
            connection.closed = True
            await _close_quietly(websocket, 1000, f"{code} {text}")
            return
        try:
            message = await asyncio.wait_for(websocket.receive(),
                                             min(idle_left, absolute_left, renew_in))
        except TimeoutError:
            renew_in = wssession.subscription_renew(state, session, most=RENEW_EVERY)
            continue
        if message["type"] == "websocket.disconnect":
            return
        connection.last_seen = time.monotonic()
        raw = message.get("text") or (message.get("bytes") or b"").decode("utf-8", "replace")
        await connection.send(await _answer(state, session, token, websocket, raw))
        # After the answer: the request may have made (or replaced) the subscription.
        renew_in = wssession.subscription_renew(state, session, most=RENEW_EVERY)


async def _close_quietly(websocket: WebSocket, code: int, reason: str) -> None:
    with contextlib.suppress(RuntimeError, OSError):  # already closed
        await websocket.close(code=code, reason=reason)


async def _answer(state: SandboxState, session: wssession.WsSession, token: wssession.WsToken,
                  websocket: WebSocket, raw: str) -> list[Any]:
    try:
        message = json.loads(raw)
    except (ValueError, RecursionError):
        return _error("", 400, "CMN-103", "JSON can't be parsed")
    if (not isinstance(message, list) or not message or not isinstance(message[0], dict)
            or len(message) > 2):
        return _error("", 400, "CMN-101", "A message is a JSON array [header, body]")
    header = message[0]
    message_id = str(header.get("messageId") or "")
    kind = header.get("type")
    if kind == "Heartbeat":
        return [_header("Heartbeat", message_id)]
    if kind != "ClientRequest":
        return _error(message_id, 400, "CMN-101", f"Unsupported message type {kind!r}")
    body = message[1] if len(message) == 2 else {}
    try:
        status, payload, extra = _request(state, session, token, websocket, header, body)
    except ApiError as error:
        status, payload, extra = error.status, error.body(), {}
    head = _header("ClientRequest", message_id, status)
    head["headers"].update({"Content-Type": "application/json", **extra})
    return [head] if payload is None else [head, payload]


def _request(state: SandboxState, session: wssession.WsSession, token: wssession.WsToken,
             websocket: WebSocket, header: dict[str, Any], body: Any,
             ) -> tuple[int, dict[str, Any] | None, dict[str, str]]:
    """One REST call carried by a ClientRequest: (status, body, extra headers)."""
    method = str(header.get("method") or "").upper()
    path = str(header.get("path") or "").partition("?")[0]
    if not isinstance(body, dict):
        raise invalid_parameter("body", "", "Request body must be a JSON object")
    many, one = _SUBSCRIPTIONS.match(path), _SUBSCRIPTION.match(path)
    if many and method == "POST":
        ctx = _ctx(state, token, websocket, {})
        sub = _subscribe(ctx, session, body)
    elif one and (method, bool(one.group(2))) in {("POST", True), ("PUT", False),
                                                  ("GET", False), ("DELETE", False)}:
        ctx = _ctx(state, token, websocket, {"subscriptionId": one.group(1)})
        sub = _owned(ctx)
        if sub.ws_session != session.wsc:
            raise not_found("subscriptionId", sub.id)
        if method == "DELETE":
            _unsubscribe(state, session)
            return 204, None, {}
        if method == "PUT":
            sub.event_filters = _filters(ctx, body.get("eventFilters"))
            sub.expires_in = _expires_in(body.get("expiresIn", sub.expires_in))
        if method != "GET":
            sub.expires_at = now() + sub.expires_in
    elif many or one:
        raise ApiError(405, "CMN-405", f"Method {method} is not allowed for {path}",
                       top_code="MethodNotAllowed")
    else:
        raise ApiError(404, "CMN-102", f"Resource for parameter [path] is not found: "
                       f"{method} {path} (the sandbox gateway carries subscription requests)",
                       top_code="NotFound")
    return 200, subscription_body(ctx, sub), {"WSG-SubscriptionId": sub.id}


def _ctx(state: SandboxState, token: wssession.WsToken, websocket: WebSocket,
         path_params: dict[str, str]) -> Ctx:
    """The REST handlers' context for a ClientRequest: URLs on the gateway's host in
    http(s), the user and app of the token the connection was opened with."""
    scope = dict(websocket.scope)
    scope.update(type="http", scheme="https" if websocket.url.scheme == "wss" else "http",
                 path_params=path_params)
    user = (state.extensions.get(token.owner_id) or state.other_account[token.owner_id])
    return Ctx(request=Request(scope), state=state, template="ClientRequest", group="Medium",
               user=user, token=token.access)


def _subscribe(ctx: Ctx, session: wssession.WsSession, body: dict[str, Any]) -> Subscription:
    filters = _filters(ctx, body.get("eventFilters"))
    mode = body.get("deliveryMode")
    transport = mode.get("transportType") if isinstance(mode, dict) else None
    if transport != "WebSocket":
        raise invalid_parameter("deliveryMode.transportType", transport,
                                "Subscriptions made on the gateway use the WebSocket transport")
    expires_in = _expires_in(body.get("expiresIn"))
    # One active subscription per connection: a new one replaces the old.
    _unsubscribe(ctx.state, session)
    at = now()
    sub = Subscription(
        id=delivery.new_subscription_id(), owner_id=session.owner_id,
        client_id=session.client_id, event_filters=filters, address="",
        verification_token=None, expires_in=expires_in, created=at, expires_at=at + expires_in,
        transport="WebSocket", ws_session=session.wsc,
    )
    ctx.state.subscriptions[sub.id] = sub
    session.subscription_id = sub.id
    return sub


def _unsubscribe(state: SandboxState, session: wssession.WsSession) -> None:
    if session.subscription_id is not None:
        state.subscriptions.pop(session.subscription_id, None)
        delivery.stop(state, session.subscription_id)
        session.subscription_id = None


# -- control API ------------------------------------------------------------------------
async def sessions_view(request: Request) -> Response:
    state = sandbox_state(request)
    return JSONResponse([session.public() for session in state.ws_sessions.values()])


async def drop(request: Request) -> Response:
    """Fault on request: close open connections (``{"extension": "102"}``: only that user's)
    as a network failure would; the sessions stay recoverable."""
    state = sandbox_state(request)
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return JSONResponse({"error": "body must be a JSON object"}, status_code=400)
    owner = None
    if body.get("extension") is not None:
        ext = (state.extension_by_number(str(body["extension"]))
               or state.extensions.get(str(body["extension"])))
        if ext is None:
            return JSONResponse({"error": f"unknown extension {body['extension']!r}"},
                                status_code=400)
        owner = ext.id
    return JSONResponse({"dropped": await wssession.connections_drop(state, owner)})


ROUTES = [
    ws_token,
    WebSocketRoute(PATH, gateway),
    Route("/sandbox/ws/sessions", sessions_view, methods=["GET"]),
    Route("/sandbox/ws/drop", drop, methods=["POST"]),
]
