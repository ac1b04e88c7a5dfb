"""The platform's WebSocket gateway: notifications without a public URL.

``POST /restapi/oauth/wstoken`` (through ``RingCentralClient.request``: the Auth budget, the
stored token refreshed on 401 like every other request) gives a single-use token and the
gateway ``uri``; the connection opens with ``ConnectionDetails`` (the ``wsc`` session token
and sequence, the timeouts, ``recoveryState`` when ``wsc`` was given). Every message either
way is a JSON array ``[header, body]``. Subscriptions are REST calls carried by
``ClientRequest`` messages (one subscription per connection); the platform pushes
``ServerNotification`` with the webhook's envelope, each with the next ``wsc`` sequence.

Built on the ``websockets`` library's threaded client: the events process holds one
connection per thread, and what it does with a notification (store it) is blocking ORM work.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from crm_cti.ringcentral import plain_http_host
from crm_cti.ringcentral.client import API, RingCentralClient
from crm_cti.ringcentral.errors import (
    BadRequest,
    NotFound,
    PlatformUnavailable,
    RateLimited,
    RingCentralError,
)

logger = logging.getLogger(__name__)

WSTOKEN_PATH = "/restapi/oauth/wstoken"
# How long the WebSocket handshake and each request on it may take.
OPEN_TIMEOUT_SECONDS = 15.0
# Notifications are ~2 KB; the platform's own limit is far below this.
MAX_MESSAGE_BYTES = 1 << 20


class GatewayClosed(PlatformUnavailable):
    """The connection ended: ``code``/``reason`` of the close frame (``reason`` carries the
    platform's ``WSG-902``/``WSG-903`` on a timeout), or a network failure."""

    def __init__(self, message: str = "", *, code: int | None = None, reason: str = "",
                 **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class GatewayMessage:
    """One ``[header, body]`` message; ``sequence`` is the ``wsc`` sequence (0 if none)."""

    kind: str
    header: dict[str, Any]
    body: Any = None

    @property
    def sequence(self) -> int:
        wsc = self.header.get("wsc")
        value = wsc.get("sequence") if isinstance(wsc, dict) else None
        return value if isinstance(value, int) else 0

    @property
    def status(self) -> int:
        value = self.header.get("status")
        return value if isinstance(value, int) else 0


def ws_token(client: RingCentralClient) -> dict[str, Any]:
    """``WsTokenResponse``: ``ws_access_token``, ``uri``, ``expires_in``."""
    response = client.request("POST", WSTOKEN_PATH)
    try:
        body = response.json()
    except ValueError:
        raise PlatformUnavailable("wstoken: the platform answered no JSON") from None
    finally:
        response.close()
    if not isinstance(body, dict) or not body.get("ws_access_token") or not body.get("uri"):
        raise PlatformUnavailable("wstoken: no ws_access_token or uri in the answer")
    return body


def _gateway_url(token: dict[str, Any], wsc: str | None) -> str:
    uri = str(token["uri"])
    parts = urlsplit(uri)
    # The token is in the URL: only the platform's gateway (or the loopback sandbox) gets it,
    # and only over TLS unless the host may be spoken to in plain text.
    if parts.scheme != "wss" and not (parts.scheme == "ws" and plain_http_host(parts.hostname
                                                                                 or "")):
        raise PlatformUnavailable(f"refusing to open the gateway at {parts.scheme}://"
                                  f"{parts.hostname}")
    query = {"access_token": token["ws_access_token"]}
    if wsc:
        query["wsc"] = wsc
    return uri + ("&" if parts.query else "?") + urlencode(query)


@dataclass
class Gateway:
    """One open gateway connection (use from one thread)."""

    socket: ClientConnection
    details: GatewayMessage
    # Notifications that arrived while a request waited for its answer, in order.
    pending: list[GatewayMessage] = field(default_factory=list)

    @property
    def wsc(self) -> str:
        return str((self.details.header.get("wsc") or {}).get("token") or "")

    @property
    def recovery_state(self) -> str | None:
        """``Successful``/``Failed`` when opened with ``wsc``, else None."""
        body = self.details.body if isinstance(self.details.body, dict) else {}
        state = body.get("recoveryState")
        return str(state) if state else None

    def timeout(self, name: str, default: float) -> float:
        """``idleTimeout``, ``absoluteTimeout``, ``recoveryTimeout`` (seconds)."""
        body = self.details.body if isinstance(self.details.body, dict) else {}
        value = body.get(name)
        return float(value) if isinstance(value, int | float) and value > 0 else default

    def _send(self, header: dict[str, Any], body: Any = None) -> str:
        message_id = str(uuid.uuid4())
        message = [{"messageId": message_id, **header}]
        if body is not None:
            message.append(body)
        try:
            self.socket.send(json.dumps(message))
        except ConnectionClosed as exc:
            raise _closed(exc) from None
        return message_id

    def recv(self, timeout: float) -> GatewayMessage | None:
        """The next message (a pending notification first), or None after ``timeout``."""
        if self.pending:
            return self.pending.pop(0)
        try:
            raw = self.socket.recv(timeout=timeout)
        except TimeoutError:
            return None
        except ConnectionClosed as exc:
            raise _closed(exc) from None
        return _parse(raw)

    def heartbeat(self) -> str:
        """Keep the connection from its idle timeout; the answer (with the returned
        ``messageId``) comes back through recv."""
        return self._send({"type": "Heartbeat"})

    def request(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        """One REST call on the connection; the answer's body, or a typed error."""
        message_id = self._send({"type": "ClientRequest", "method": method, "path": path},
                                body if body is not None else {})
        while True:
            message = self._read_direct(OPEN_TIMEOUT_SECONDS)
            if message.header.get("messageId") != message_id or message.kind not in (
                    "ClientRequest", "Error"):
                if message.kind == "ServerNotification":
                    self.pending.append(message)
                continue
            if message.status < 400 and message.kind == "ClientRequest":
                return message.body if isinstance(message.body, dict) else {}
            raise _request_error(message, method, path)

    def _read_direct(self, timeout: float) -> GatewayMessage:
        try:
            raw = self.socket.recv(timeout=timeout)
        except TimeoutError:
            raise PlatformUnavailable("the gateway did not answer a request in time") from None
        except ConnectionClosed as exc:
            raise _closed(exc) from None
        return _parse(raw)

    def subscribe(self, event_filters: list[str]) -> dict[str, Any]:
        """Create the connection's one subscription (``SubscriptionInfo``)."""
        return self.request("POST", f"{API}/subscription/", {
            "eventFilters": list(event_filters),
            "deliveryMode": {"transportType": "WebSocket"},
        })

    def subscription_renew(self, subscription_id: str) -> dict[str, Any]:
        return self.request("POST", f"{API}/subscription/{subscription_id}/renew")

    def subscription_delete(self, subscription_id: str) -> None:
        self.request("DELETE", f"{API}/subscription/{subscription_id}")

    def close(self) -> None:
        self.socket.close()


def _parse(raw: str | bytes) -> GatewayMessage:
    try:
        message = json.loads(raw)
    except ValueError:
        raise PlatformUnavailable("the gateway sent a message that is not JSON") from None
    if not isinstance(message, list) or not message or not isinstance(message[0], dict):
        raise PlatformUnavailable("the gateway sent a message that is not [header, body]")
    header = message[0]
    return GatewayMessage(kind=str(header.get("type") or ""), header=header,
                          body=message[1] if len(message) > 1 else None)


def _closed(exc: ConnectionClosed) -> GatewayClosed:
    frame = exc.rcvd
    code = frame.code if frame is not None else None
    reason = frame.reason if frame is not None else ""
    return GatewayClosed(f"gateway connection closed ({code} {reason})".strip(), code=code,
                         reason=reason)


def _request_error(message: GatewayMessage, method: str, path: str) -> RingCentralError:
    body = message.body if isinstance(message.body, dict) else {}
    code = str(body.get("errorCode") or "")
    text = str(body.get("message") or f"{method} {path} failed on the gateway")
    if message.status == 429:
        return RateLimited(text, status=429, error_code=code, retry_after=60.0, group="Medium")
    if message.status in (404, 410):
        return NotFound(text, status=message.status, error_code=code, body=body)
    if 400 <= message.status < 500:
        return BadRequest(text, status=message.status, error_code=code, body=body)
    return PlatformUnavailable(text, status=message.status or None, error_code=code)


def gateway_open(client: RingCentralClient, *, wsc: str | None = None) -> Gateway:
    """A wstoken, then the connection (recovering the ``wsc`` session when given).

    A refused handshake raises ``RateLimited`` (429: back off) or ``PlatformUnavailable``."""
    token = ws_token(client)
    url = _gateway_url(token, wsc)
    try:
        socket = connect(url, open_timeout=OPEN_TIMEOUT_SECONDS, max_size=MAX_MESSAGE_BYTES,
                         # The platform's own Heartbeat messages keep it alive; a ping the
                         # gateway may not answer would close it.
                         ping_interval=None)
    except InvalidStatus as exc:
        status = exc.response.status_code
        if status == 429:
            retry = exc.response.headers.get("Retry-After", "")
            raise RateLimited("the gateway refused the connection (429)", status=429,
                              retry_after=float(retry) if retry.isdigit() else 60.0,
                              group="Auth") from None
        raise PlatformUnavailable(f"the gateway refused the connection (HTTP {status})",
                                  status=status) from None
    except (InvalidHandshake, OSError, TimeoutError) as exc:
        raise PlatformUnavailable(f"gateway unreachable ({type(exc).__name__})") from None
    gateway = Gateway(socket=socket, details=GatewayMessage(kind="", header={}))
    try:
        first = gateway._read_direct(OPEN_TIMEOUT_SECONDS)
    except RingCentralError:
        socket.close()
        raise
    if first.kind != "ConnectionDetails":
        socket.close()
        raise PlatformUnavailable(f"the gateway opened with {first.kind or 'nothing'!r}, not "
                                  "ConnectionDetails")
    gateway.details = first
    return gateway
