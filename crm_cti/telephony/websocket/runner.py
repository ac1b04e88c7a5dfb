"""The events process: a connection per subscription owner that wants one, each held by
exactly one process (``lease``), each on a thread of its own (``connection.owner_hold``).

Owners: the account (service credential) in account mode, otherwise every signed-in agent
(``SUBSCRIBE_ON_SIGNIN``). Every ``EVENTS_LEASE_SECONDS / 3`` the runner looks again: it
takes owners whose lease is free (a standby takes over a dead holder's that way), and stops
holding owners nobody wants any more.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import DatabaseError, close_old_connections

from crm_cti.telephony.services.subscriptions import account_mode_wanted, agents_signed_in
from crm_cti.telephony.websocket import state
from crm_cti.telephony.websocket.connection import Owner, owner_hold
from crm_cti.telephony.websocket.lease import Lease, holder_id

logger = logging.getLogger(__name__)


def owners_wanted() -> list[Owner]:
    """Who should hold a gateway connection now."""
    if account_mode_wanted():
        return [Owner(key="account")] if settings.RC_JWT else []
    if not settings.SUBSCRIBE_ON_SIGNIN:
        return []
    return [Owner(key=f"agent:{agent.pk}", agent=agent) for agent in agents_signed_in()]


def events_run(*, stop: threading.Event, holder: str | None = None) -> None:
    """Hold every wanted owner this process can get, until ``stop``."""
    holder = holder or holder_id()
    held: dict[str, tuple[threading.Thread, threading.Event]] = {}
    logger.info("events: %s running (lease %.0fs)", holder, settings.EVENTS_LEASE_SECONDS)
    try:
        while not stop.is_set():
            try:
                _step(held, holder)
            except DatabaseError:
                logger.warning("events: database unavailable; trying again", exc_info=True)
                close_old_connections()
            stop.wait(settings.EVENTS_LEASE_SECONDS / 3)
    finally:
        for _thread, owner_stop in held.values():
            owner_stop.set()
        for thread, _owner_stop in held.values():
            thread.join(timeout=10)
        close_old_connections()


def _step(held: dict[str, tuple[threading.Thread, threading.Event]], holder: str) -> None:
    wanted = {owner.key: owner for owner in owners_wanted()}
    for key, (thread, owner_stop) in list(held.items()):
        if not thread.is_alive():
            del held[key]
            if key not in wanted:
                # It ended on its own first (a signed-out agent's token is gone: the
                # reconnect needed a sign-in): forgotten all the same.
                state.connection_forget(owner=key)
        elif key not in wanted:
            logger.info("events: %s no longer wants a connection", key)
            owner_stop.set()
            thread.join(timeout=10)
            state.connection_forget(owner=key)
            del held[key]
    for key, owner in wanted.items():
        if key in held:
            continue
        lease = Lease(key, holder)
        if not lease.acquire():
            continue  # another process holds it: stand by
        owner_stop = threading.Event()
        thread = threading.Thread(target=owner_hold, args=(owner, lease, owner_stop),
                                  name=f"events-{key}", daemon=True)
        thread.start()
        held[key] = (thread, owner_stop)
        logger.info("events: %s holds %s", holder, key)
