"""WebSocket gateway sessions: single-use connection tokens, the ``wsc`` session a connection
belongs to, its sequence, and the recovery buffer that keeps what a dropped client missed.

The gateway endpoint (wsgateway.py) opens and closes connections; webhook delivery
(delivery.py) hands notifications for WebSocket subscriptions to :func:`deliver`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from starlette.websockets import WebSocket

from crm_cti.sandbox.state import (
    SandboxState,
    Subscription,
    TokenRecord,
    iso,
    now,
    random_token,
)

log = logging.getLogger(__name__)

# The platform's published gateway limits (ConnectionDetails body).
RECOVERY_BUFFER_SIZE = 100
MAX_CONNECTIONS_PER_SESSION = 1
MAX_ACTIVE_REQUESTS = 10

IDLE_TIMEOUT = ("WSG-902", "Idle timeout expired")
ABSOLUTE_TIMEOUT = ("WSG-903", "Absolute timeout expired")


@dataclass
class WsToken:
    """What ``POST /restapi/oauth/wstoken`` issued: good for one connection, soon expired."""

    token: str
    owner_id: str
    client_id: str
    expires_at: float
    # The REST access token it was issued for: ClientRequests act with its authority.
    access: TokenRecord


@dataclass
class Connection:
    """One open WebSocket of a session. Sends are serialised: notifications (delivery workers)
    and answers (the receive loop) share the socket."""

    websocket: WebSocket
    opened: float = field(default_factory=time.monotonic)
    last_seen: float = field(default_factory=time.monotonic)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    closed: bool = False

    async def send(self, message: list[Any]) -> None:
        async with self.lock:
            await self.websocket.send_text(json.dumps(message))


@dataclass
class WsSession:
    wsc: str
    owner_id: str
    client_id: str
    created: float = field(default_factory=now)
    sequence: int = 0
    subscription_id: str | None = None
    connection: Connection | None = None
    disconnected_at: float | None = None
    # Notifications produced while no connection was open (replayed on a successful recovery).
    missed: deque[list[Any]] = field(default_factory=lambda: deque(maxlen=RECOVERY_BUFFER_SIZE))
    missed_total: int = 0

    def wsc_header(self) -> dict[str, Any]:
        self.sequence += 1
        return {"token": self.wsc, "sequence": self.sequence}

    def public(self) -> dict[str, Any]:
        return {
            "wsc": self.wsc, "ownerId": self.owner_id, "clientId": self.client_id,
            "created": iso(self.created), "sequence": self.sequence,
            "connected": self.connection is not None,
            "subscriptionId": self.subscription_id,
            "disconnectedAt": iso(self.disconnected_at) if self.disconnected_at else None,
            "missed": len(self.missed), "missedTotal": self.missed_total,
        }


def token_issue(state: SandboxState, *, access: TokenRecord) -> WsToken:
    ttl = float(state.config["ws_token_ttl"])
    token = WsToken(token=random_token("U0pDMDFQMDdQQ", 48), owner_id=access.owner_id,
                    client_id=access.client_id, expires_at=now() + ttl, access=access)
    state.ws_tokens[token.token] = token
    return token


def token_redeem(state: SandboxState, raw: str | None) -> WsToken | None:
    """The token behind ``access_token``, used up by this call; None if unknown or expired."""
    token = state.ws_tokens.pop(raw or "", None)
    if token is None or token.expires_at <= now():
        return None
    return token


def session_open(
    state: SandboxState, token: WsToken, wsc: str | None
) -> tuple[WsSession, str | None]:
    """The session a new connection joins and its ``recoveryState`` (None without ``wsc``).

    Recovery succeeds only for the same user and app, within ``ws_recovery_timeout`` of the
    disconnect, with no more missed notifications than the buffer holds, and unless
    ``ws_refuse_recovery`` is on. A failed recovery forgets the old session and its
    subscription: the client must subscribe again on the new one.
    """
    if wsc is not None:
        old = state.ws_sessions.get(wsc)
        if old is not None and _recoverable(state, old, token):
            return old, "Successful"
        if old is not None and (old.owner_id, old.client_id) == (token.owner_id, token.client_id):
            session_forget(state, old)
    session = WsSession(wsc=random_token("RTFhRG5nfE", 32), owner_id=token.owner_id,
                        client_id=token.client_id)
    state.ws_sessions[session.wsc] = session
    return session, (None if wsc is None else "Failed")


def _recoverable(state: SandboxState, session: WsSession, token: WsToken) -> bool:
    if (session.owner_id, session.client_id) != (token.owner_id, token.client_id):
        return False
    if state.config["ws_refuse_recovery"] or session.missed_total > RECOVERY_BUFFER_SIZE:
        return False
    if session.connection is not None:
        # The client lost a connection the server still holds: it takes the session over.
        return True
    assert session.disconnected_at is not None
    return now() - session.disconnected_at <= float(state.config["ws_recovery_timeout"])


def session_attach(session: WsSession, connection: Connection) -> list[list[Any]]:
    """Make ``connection`` the session's one connection; return the missed notifications."""
    previous = session.connection
    if previous is not None:
        previous.closed = True
    session.connection = connection
    session.disconnected_at = None
    replay = list(session.missed)
    session.missed.clear()
    session.missed_total = 0
    return replay


def session_detach(state: SandboxState, session: WsSession, connection: Connection) -> None:
    """The connection closed: keep the session for the recovery window, then forget it."""
    connection.closed = True
    if session.connection is not connection:
        return
    session.connection = None
    session.disconnected_at = now()
    state.spawn(_expire_later(state, session, session.disconnected_at))


async def _expire_later(state: SandboxState, session: WsSession, since: float) -> None:
    await asyncio.sleep(float(state.config["ws_recovery_timeout"]))
    if session.connection is None and session.disconnected_at == since:
        session_forget(state, session)


def session_forget(state: SandboxState, session: WsSession) -> None:
    """Drop the session and the subscription that lived on it (the platform's are
    connection-bound: nothing is delivered once the session is gone)."""
    state.ws_sessions.pop(session.wsc, None)
    if session.subscription_id is not None:
        state.subscriptions.pop(session.subscription_id, None)
        state.delivery_stop(session.subscription_id)
        session.subscription_id = None


def subscription_renew(state: SandboxState, session: WsSession, *, most: float) -> float:
    """WebSocket subscriptions renew themselves while their session is connected: renew it
    now and return the seconds (at most ``most``) until it should be renewed again."""
    sub = state.subscriptions.get(session.subscription_id or "")
    if sub is None:
        return most
    sub.expires_at = now() + sub.expires_in
    return min(most, max(0.5, sub.expires_in / 2))


def server_notification(session: WsSession, envelope: dict[str, Any]) -> list[Any]:
    header = {"type": "ServerNotification", "messageId": str(envelope.get("uuid")),
              "status": 200, "wsc": session.wsc_header(),
              "headers": {"RCRequestId": secrets.token_hex(16)}}
    return [header, envelope]


async def deliver(state: SandboxState, sub: Subscription, envelope: dict[str, Any]) -> str | None:
    """Send one notification on the subscription's session; None if it went out, else why
    not (it is then in the recovery buffer, or lost with the session)."""
    session = state.ws_sessions.get(sub.ws_session or "")
    if session is None or session.subscription_id != sub.id:
        return "no WebSocket session"
    delay = float(state.config["ws_message_delay"])
    if delay:
        await asyncio.sleep(delay)
    message = server_notification(session, envelope)
    connection = session.connection
    if connection is not None and not connection.closed:
        try:
            await connection.send(message)
            return None
        except Exception as error:  # the socket died under us: keep it for recovery
            log.info("WebSocket send failed (%s); buffering", type(error).__name__)
    session.missed.append(message)
    session.missed_total += 1
    return "buffered for session recovery"


async def connections_drop(state: SandboxState, owner_id: str | None = None) -> int:
    """Fault on request: close open connections (of one user) without a goodbye."""
    dropped = 0
    for session in list(state.ws_sessions.values()):
        connection = session.connection
        if connection is None or (owner_id and session.owner_id != owner_id):
            continue
        session_detach(state, session, connection)
        dropped += 1
        try:
            await connection.websocket.close(code=1011, reason="sandbox fault: dropped")
        except Exception as error:  # already gone
            log.debug("drop: %s", type(error).__name__)
    return dropped
