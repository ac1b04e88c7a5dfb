"""One subscription owner's gateway connection, held while its lease is ours.

The loop: open (recovering the stored ``wsc`` session), subscribe when the session is new,
then read. A notification counts as seen (its sequence stored on the owner's row) only
after ``notification_ingest`` kept it, so whatever a killed holder had not stored is either
replayed to the next holder by the session recovery or shows up as a gap in the sequence.
A failed recovery or a gap means notifications were lost: calls are reconciled from active
calls at once, and again after the reconcile grace. Before the absolute timeout the
connection is replaced on its own (recovering its own session); after a drop it reconnects
with recovery; when the platform refuses it backs off (``Retry-After`` on 429, else
doubling up to a minute).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, close_old_connections

from crm_cti.accounts.models import Agent
from crm_cti.ringcentral.client import RingCentralClient
from crm_cti.ringcentral.errors import NeedsSignIn, RateLimited, RingCentralError
from crm_cti.ringcentral.websocket import Gateway, GatewayMessage, gateway_open
from crm_cti.telephony.models import EventConnection
from crm_cti.telephony.notifications import InvalidEvent
from crm_cti.telephony.services.activecalls import active_calls_refresh
from crm_cti.telephony.services.subscriptions import event_filters_wanted
from crm_cti.telephony.webhook.ingest import notification_ingest
from crm_cti.telephony.websocket import state
from crm_cti.telephony.websocket.lease import Lease

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 60.0
# Replace a connection this far ahead of its absolute timeout (at most a tenth of it).
ABSOLUTE_MARGIN_SECONDS = 300.0
# Heartbeats at least this often (a third of the idle timeout when that is shorter).
HEARTBEAT_SECONDS = 120.0


@dataclass(frozen=True)
class Owner:
    """Who a connection subscribes as: the account (service credential) or one agent."""

    key: str
    agent: Agent | None = None

    def client(self) -> RingCentralClient:
        from crm_cti.accounts.services import client_for_agent, service_client

        if self.agent is not None:
            return client_for_agent(self.agent)
        client = service_client()
        if client is None:
            raise NeedsSignIn("account mode needs the service credential: set RC_JWT")
        return client

    @property
    def extension_id(self) -> str | None:
        return self.agent.rc_extension_id if self.agent is not None else None

    def event_filters(self, client: RingCentralClient) -> list[str]:
        """Exactly what the owner's webhook subscription would carry (one rule for both
        transports): presence, telephony sessions when the token's scope has CallControl."""
        return event_filters_wanted(agent=self.agent, client=client)


class LeaseLost(Exception):
    """Another process holds the owner now: stop without touching its state."""


class _Held:
    """One open connection's bookkeeping."""

    def __init__(self, owner: Owner, lease: Lease, row: EventConnection, gateway: Gateway,
                 client: RingCentralClient) -> None:
        self.owner, self.lease, self.row, self.gateway = owner, lease, row, gateway
        self.client = client
        now = time.monotonic()
        absolute = gateway.timeout("absoluteTimeout", 86400.0)
        self.replace_at = now + absolute - min(ABSOLUTE_MARGIN_SECONDS, absolute / 10)
        self.heartbeat_every = min(HEARTBEAT_SECONDS, gateway.timeout("idleTimeout", 1800) / 3)
        self.heartbeat_at = now + self.heartbeat_every
        self.renew_at = now
        self.reconcile_at: float | None = None
        # After a successful recovery: the sequences the replay must bring (a gap once the
        # replay is over means they are lost), and the Heartbeat whose answer ends it.
        self.expected: set[int] = set()
        self.replay_marker: str | None = None
        self.details_sequence = 0


def owner_hold(owner: Owner, lease: Lease, stop: threading.Event) -> None:
    """Hold the owner's connection until ``stop`` or the lease is lost (or, for an agent,
    they must sign in again)."""
    backoff = 1.0
    planned = False
    ours = True
    try:
        while not stop.is_set():
            if not lease.renew():
                ours = False
                return
            wait = backoff
            try:
                planned = _connect_and_serve(owner, lease, stop, planned=planned)
                backoff = 1.0
                continue
            except LeaseLost:
                ours = False
                return
            except NeedsSignIn as exc:
                _closed(owner, f"needs sign-in: {exc}")
                return
            except RateLimited as exc:
                wait = max(exc.retry_after, backoff)
                _closed(owner, f"refused by the platform, retrying in {wait:.0f}s: {exc}")
            except (RingCentralError, DatabaseError, OSError) as exc:
                _closed(owner, f"{type(exc).__name__}: {exc}")
            except Exception as exc:  # a bug must not end the holding: log it, back off
                logger.exception("events: %s failed", owner.key)
                _closed(owner, f"{type(exc).__name__}: {exc}")
            planned = False
            logger.warning("events: %s disconnected; reconnecting in %.1fs", owner.key, wait)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
            _wait_holding(lease, stop, wait)
    finally:
        if ours and stop.is_set():
            _closed(owner, "events process stopped")  # a clean stop: not connected any more
        lease.release()
        close_old_connections()


def _closed(owner: Owner, error: str) -> None:
    try:
        state.connection_closed(row=state.connection_row(owner=owner.key, agent=owner.agent),
                                error=error)
    except DatabaseError:
        logger.warning("events: could not record the disconnection of %s", owner.key)


def _wait_holding(lease: Lease, stop: threading.Event, seconds: float) -> None:
    """Wait, renewing the lease meanwhile: a backing-off holder still holds its owner."""
    deadline = time.monotonic() + seconds
    while not stop.is_set() and time.monotonic() < deadline:
        stop.wait(min(settings.EVENTS_LEASE_SECONDS / 3, deadline - time.monotonic()))
        if not lease.renew():
            return  # owner_hold's loop sees it too, and stops


def _connect_and_serve(owner: Owner, lease: Lease, stop: threading.Event, *,
                       planned: bool) -> bool:
    """One connection, until it ends; True when we replaced it ourselves (planned)."""
    close_old_connections()
    row = state.connection_row(owner=owner.key, agent=owner.agent)
    client = owner.client()
    gateway = gateway_open(client, wsc=row.wsc or None)
    try:
        held = _Held(owner, lease, row, gateway, client)
        _opened(held, planned=planned)
        return _serve(held, stop)
    finally:
        gateway.close()


def _opened(held: _Held, *, planned: bool) -> None:
    gateway, row = held.gateway, held.row
    recovery = gateway.recovery_state
    last_seen = row.sequence
    state.connection_opened(row=row, wsc=gateway.wsc, holder=held.lease.holder,
                            recovery=recovery, planned=planned)
    details_sequence = gateway.details.sequence
    if recovery == "Successful" and row.subscription_id:
        held.expected = set(range(last_seen + 1, details_sequence))
        held.details_sequence = details_sequence
        # The replay comes right after ConnectionDetails, before any answer: the answer to
        # this Heartbeat closes it.
        held.replay_marker = gateway.heartbeat()
        logger.info("events: %s recovered its session (%d to replay)", held.owner.key,
                    len(held.expected))
        return
    state.sequence_seen(row=row, sequence=details_sequence, notification=False)
    info = gateway.subscribe(held.owner.event_filters(held.client))
    state.subscribed(row=row, subscription_id=str(info.get("id") or ""))
    if recovery == "Failed":
        _reconcile(held, "session recovery failed: notifications may be lost")
    logger.info("events: %s connected (%s)", held.owner.key, recovery or "new session")


def _reconcile(held: _Held, why: str) -> None:
    """Notifications were lost: repair calls from active calls now, and once more when the
    calls they ended have been silent for the reconcile grace."""
    logger.warning("events: %s: %s; reconciling from active calls", held.owner.key, why)
    state.reconciled(row=held.row, why=why)
    try:
        active_calls_refresh(scope_key=held.owner.key, after_loss=True)
    except Exception:  # reconciliation is a repair; the connection carries on regardless
        logger.exception("events: reconciliation of %s failed", held.owner.key)
    held.reconcile_at = time.monotonic() + settings.RECONCILE_GRACE_SECONDS + 1


def _serve(held: _Held, stop: threading.Event) -> bool:
    gateway = held.gateway
    tick = settings.EVENTS_LEASE_SECONDS / 3
    while not stop.is_set():
        now = time.monotonic()
        if now >= held.renew_at:
            if not held.lease.renew():
                raise LeaseLost(held.owner.key)
            held.renew_at = now + tick
        if now >= held.replace_at and held.replay_marker is None:
            logger.info("events: %s replaces its connection before the absolute timeout",
                        held.owner.key)
            return True
        if now >= held.heartbeat_at:
            gateway.heartbeat()
            held.heartbeat_at = now + held.heartbeat_every
        if held.reconcile_at is not None and now >= held.reconcile_at:
            held.reconcile_at = None
            try:
                active_calls_refresh(scope_key=held.owner.key, after_loss=True)
            except Exception:
                logger.exception("events: reconciliation of %s failed", held.owner.key)
        message = gateway.recv(timeout=max(0.05, min(held.renew_at, held.heartbeat_at)
                                           - time.monotonic()))
        if message is not None:
            _handle(held, message)
    return False


def _handle(held: _Held, message: GatewayMessage) -> None:
    if message.kind == "ServerNotification":
        _notification(held, message)
    elif message.kind == "Heartbeat" and held.replay_marker is not None \
            and message.header.get("messageId") == held.replay_marker:
        _replay_over(held)
    elif message.kind == "Error":
        body = message.body if isinstance(message.body, dict) else {}
        logger.warning("events: %s: gateway error %s %s", held.owner.key,
                       body.get("errorCode"), body.get("message"))


def _notification(held: _Held, message: GatewayMessage) -> None:
    sequence = message.sequence
    try:
        notification_ingest(envelope=message.body, extension_id=held.owner.extension_id)
    except InvalidEvent as exc:
        # Refused for good (as the webhook would answer 4xx): it is not lost, it is bad.
        logger.warning("events: %s: notification refused: %s", held.owner.key, exc)
    last = held.row.sequence
    if held.replay_marker is not None:
        if sequence < held.details_sequence:
            held.expected.discard(sequence)  # replayed: the platform kept it for us
            return
        # New since this connection opened (it can overtake the replay's end marker).
        last = max(last, held.details_sequence)
    if last and sequence > last + 1:
        _reconcile(held, f"notifications {last + 1}..{sequence - 1} never came")
    if sequence > held.row.sequence:
        state.sequence_seen(row=held.row, sequence=sequence, notification=True)


def _replay_over(held: _Held) -> None:
    held.replay_marker = None
    missing = sorted(held.expected)
    held.expected = set()
    state.sequence_seen(row=held.row, sequence=max(held.details_sequence, held.row.sequence),
                        notification=False)
    if missing:
        _reconcile(held, f"recovered session lacked {len(missing)} notification(s)")
