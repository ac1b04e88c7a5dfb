"""Webhook subscriptions: one per signed-in agent, or one for the account (account mode),
created, renewed before expiry and recreated when the platform lost or blacklisted them
(``subscription_ensure``; beat's ``subscriptions_maintain`` for those nobody asked for).
"""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from crm_cti.accounts.locks import shared_lock
from crm_cti.accounts.models import Agent
from crm_cti.accounts.permissions import CALL_CONTROL, agent_has_permission, service_has_permission
from crm_cti.ringcentral.errors import NotFound, RingCentralError
from crm_cti.telephony.models import Subscription
from crm_cti.telephony.notifications import parse_time

logger = logging.getLogger(__name__)

EXTENSION_EVENT_FILTER = "/restapi/v1.0/account/~/extension/~/presence?detailedTelephonyState=true"

ACCOUNT_EVENT_FILTER = "/restapi/v1.0/account/~/presence?detailedTelephonyState=true"

# Telephony sessions, where the token's scope has CallControl (presence stays beside them:
# apps without it, and everything presence tells that sessions do not).
EXTENSION_SESSIONS_FILTER = "/restapi/v1.0/account/~/extension/~/telephony/sessions"
ACCOUNT_SESSIONS_FILTER = "/restapi/v1.0/account/~/telephony/sessions"

# Inbound SMS as they arrive, and every change to the agent's message store (new voicemail,
# read state): for an agent whose token has ReadMessages (messaging applies them).
MESSAGE_EVENT_FILTERS = (
    "/restapi/v1.0/account/~/extension/~/message-store/instant?type=SMS",
    "/restapi/v1.0/account/~/extension/~/message-store",
)
_FILTER_IDS = re.compile(r"/(account|extension)/[^/?]+")

# A subscription whose re-creation failed keeps its row with this status until a
# replacement exists (Subscription.status is free text: the platform's own, and this).
SUBSCRIPTION_RECREATING = "Recreating"

# Longest a subscription check holds its owner's lock (a few platform requests).
SUBSCRIPTION_LOCK_SECONDS = 120.0


class WebhookTransportOff(Exception):
    """A webhook subscription was asked for while notifications come over the WebSocket."""


def webhook_address() -> str:
    """Where the platform delivers our notifications."""
    return settings.WEBHOOK_BASE_URL + reverse("telephony:ringcentral_webhook")


def event_filters_wanted(*, agent: Agent | None, client: Any) -> list[str]:
    """The filters the owner's subscription should have: presence, telephony sessions
    when its token's scope has ``CallControl``, and (an agent's) message store when it has
    ``ReadMessages``. The webhook and the WebSocket transport both ask here."""
    # The service credential's token (and its scope) exists once it was first fetched.
    if agent is None and not service_has_permission(CALL_CONTROL):
        with contextlib.suppress(Exception):
            client.token_source.access_token()
    if agent is not None:
        filters = [EXTENSION_EVENT_FILTER]
        if agent_has_permission(agent, CALL_CONTROL):
            filters.append(EXTENSION_SESSIONS_FILTER)
        if agent_has_permission(agent, "ReadMessages"):
            filters.extend(MESSAGE_EVENT_FILTERS)
        return filters
    filters = [ACCOUNT_EVENT_FILTER]
    if service_has_permission(CALL_CONTROL):
        filters.append(ACCOUNT_SESSIONS_FILTER)
    return filters


def _filters_differ(current: list[str], wanted: list[str]) -> bool:
    """Whether the subscription's filters differ from the wanted ones, whichever way their
    ids are spelt (the platform answers with ``~`` resolved to ids)."""
    return {filter_key(f) for f in current or []} != {filter_key(f) for f in wanted}


def _subscription_update(sub: Subscription, info: dict[str, Any]) -> None:
    sub.status = str(info.get("status") or sub.status)
    sub.expires_at = parse_time(info.get("expirationTime")) or sub.expires_at
    if info.get("eventFilters"):
        sub.event_filters = info["eventFilters"]
    sub.last_error = ""


def _subscription_client(agent: Agent | None) -> Any:
    from crm_cti.accounts.services import client_for_agent, service_client

    if agent is not None:
        return client_for_agent(agent)
    client = service_client()
    if client is None:
        raise RingCentralError("account mode needs the service credential: set RC_JWT")
    return client


def _subscription_owner(agent: Agent | None) -> Q:
    return Q(agent=agent) if agent is not None else Q(mode=Subscription.Mode.ACCOUNT)


def subscription_ensure(*, agent: Agent | None = None) -> Subscription:
    """Make sure the agent's (or the account's) subscription exists, is Active and not
    about to expire: renew it before expiry, recreate it when missing, expired or
    Blacklisted.

    The row outlives a failed re-creation (status ``Recreating``, with the error): beat
    (``subscriptions_maintain``) tries again until a replacement exists, and the operations
    page shows the agent as without a working subscription meanwhile. One caller at a time
    per owner (a lock shared by every process): the sign-in task and beat never create two.
    """
    if not webhook_transport():
        raise WebhookTransportOff(
            "RC_EVENTS_TRANSPORT is websocket: notifications come over the events process's "
            "gateway connections, and no webhook subscription is made")
    client = _subscription_client(agent)
    name = f"subscription:agent:{agent.pk}" if agent is not None else "subscription:account"
    with shared_lock(name, hold_seconds=SUBSCRIPTION_LOCK_SECONDS,
                     wait_seconds=SUBSCRIPTION_LOCK_SECONDS):
        return _subscription_ensure_locked(client=client, agent=agent)


def _subscription_ensure_locked(*, client: Any, agent: Agent | None) -> Subscription:
    mode = Subscription.Mode.EXTENSION if agent is not None else Subscription.Mode.ACCOUNT
    sub = Subscription.objects.filter(_subscription_owner(agent)).first()
    now = timezone.now()
    renew_before = timedelta(seconds=settings.SUBSCRIPTION_RENEW_BEFORE_SECONDS)
    if sub is not None and sub.rc_id:
        try:
            info = client.get_subscription(sub.rc_id)
        except NotFound:
            info = None
        if info is not None:
            _subscription_update(sub, info)
            alive = sub.status == "Active" and sub.expires_at is not None and sub.expires_at > now
            wanted = event_filters_wanted(agent=agent, client=client)
            if alive and _filters_differ(info.get("eventFilters") or sub.event_filters, wanted):
                # The token's scope changed (CallControl or ReadMessages granted or taken
                # away): the same subscription gets the filters it now may have, renewed.
                try:
                    _subscription_update(sub, client.update_subscription(
                        sub.rc_id, event_filters=wanted,
                        expires_in=settings.SUBSCRIPTION_EXPIRES_IN,
                    ))
                    sub.event_filters = wanted
                    sub.save()
                    logger.info("subscription %s now has %s", sub.rc_id, wanted)
                    return sub
                except NotFound:
                    alive = False
            if alive and sub.expires_at - now > renew_before:
                sub.save()
                return sub
            if alive:
                try:
                    _subscription_update(sub, client.renew_subscription(sub.rc_id))
                    sub.save()
                    logger.info("subscription %s renewed until %s", sub.rc_id, sub.expires_at)
                    return sub
                except NotFound:
                    pass
            else:
                with contextlib.suppress(NotFound):
                    client.delete_subscription(sub.rc_id)
        logger.info("subscription %s is %s; recreating", sub.rc_id, sub.status or "missing")
    return _subscription_create(client=client, agent=agent, mode=mode, sub=sub)


def _subscription_create(
    *, client: Any, agent: Agent | None, mode: str, sub: Subscription | None = None
) -> Subscription:
    event_filters = event_filters_wanted(agent=agent, client=client)
    if sub is None:
        try:
            # Saved before the request: a delivery can arrive before the response does, and
            # the webhook view adopts it by this token.
            sub = Subscription.objects.create(
                agent=agent,
                mode=mode,
                verification_token=secrets.token_urlsafe(32),
                event_filters=event_filters,
                address=webhook_address(),
            )
        except IntegrityError:
            # Someone else is creating it right now.
            return Subscription.objects.get(_subscription_owner(agent))
    else:
        # The same row carries the replacement (one per owner), with a fresh token; until
        # the platform made it, the row says so, and keeps saying so if that fails.
        sub.rc_id = ""
        sub.verification_token = secrets.token_urlsafe(32)
        sub.event_filters = event_filters
        sub.address = webhook_address()
        sub.status = SUBSCRIPTION_RECREATING
        sub.expires_at = None
        sub.save()
    try:
        info = client.create_subscription(
            event_filters=event_filters,
            address=sub.address,
            verification_token=sub.verification_token,
            expires_in=settings.SUBSCRIPTION_EXPIRES_IN,
        )
    except Exception as exc:
        # Kept, never deleted: nothing else would ever bring this subscription back.
        sub.status = SUBSCRIPTION_RECREATING
        sub.last_error = str(exc)[:500] or type(exc).__name__
        sub.save(update_fields=["status", "last_error", "updated_at"])
        logger.warning("subscription for %s could not be created: %s", agent or "the account",
                       exc)
        raise
    sub.rc_id = str(info.get("id") or "")
    _subscription_update(sub, info)
    sub.save()
    logger.info("subscription %s created for %s", sub.rc_id, agent or "the account")
    return sub


def filter_key(event_filter: str) -> str:
    """A filter as we ask for it: the platform answers with ``~`` replaced by the ids."""
    return _FILTER_IDS.sub(r"/\1/~", event_filter)


def subscription_delete(*, agent: Agent | None = None) -> None:
    """Delete the agent's (or the account's) subscription on RingCentral and here."""
    sub = Subscription.objects.filter(_subscription_owner(agent)).first()
    if sub is None:
        return
    if sub.rc_id:
        with contextlib.suppress(NotFound):
            _subscription_client(agent).delete_subscription(sub.rc_id)
    sub.delete()


def webhook_transport() -> bool:
    """Notifications come by webhook (``RC_EVENTS_TRANSPORT``): only then does anything here
    create webhook subscriptions. Over the WebSocket transport the events process subscribes
    on its own connections (telephony/websocket/)."""
    return settings.RC_EVENTS_TRANSPORT == "webhook"


def account_mode_wanted() -> bool:
    """Account mode is configured (``ACCOUNT_SUBSCRIPTION``) or an admin created the account
    subscription: it is kept, and sign-ins create no per-extension ones. Over the WebSocket
    transport only the configuration says (there is no webhook subscription to look at)."""
    if not webhook_transport():
        return settings.ACCOUNT_SUBSCRIPTION
    return settings.ACCOUNT_SUBSCRIPTION or Subscription.objects.filter(
        mode=Subscription.Mode.ACCOUNT
    ).exists()


def agents_signed_in() -> QuerySet[Agent]:
    """Agents with a RingCentral token that works (or refreshes): background work may act
    for them."""
    return Agent.objects.filter(needs_signin=False, rc_token__isnull=False)


def subscriptions_maintain() -> dict[str, int]:
    """Beat: renew or recreate every subscription we keep, and create those that should
    exist and do not: a signed-in agent's whose creation task was lost (it lives only in the
    broker) or failed for good, the account's in account mode. Errors are recorded per row
    (``last_error``)."""
    counts = {"ok": 0, "failed": 0, "created": 0}
    if not webhook_transport():
        return counts
    owners: list[tuple[Agent | None, bool]] = [
        (sub.agent, True)
        for sub in Subscription.objects.select_related("agent")
        if sub.agent is None or not sub.agent.needs_signin
    ]
    account_mode = account_mode_wanted()
    if account_mode and not any(agent is None for agent, _kept in owners):
        owners.append((None, False))
    if settings.SUBSCRIBE_ON_SIGNIN and not account_mode:
        owners += [
            (agent, False)
            for agent in agents_signed_in().filter(subscriptions__isnull=True).distinct()
        ]
    for agent, kept in owners:
        try:
            subscription_ensure(agent=agent)
            counts["ok" if kept else "created"] += 1
        except Exception as exc:
            counts["failed"] += 1
            logger.warning("subscription of %s: %s", agent or "the account", exc)
            Subscription.objects.filter(_subscription_owner(agent)).update(
                last_error=str(exc)[:500] or type(exc).__name__
            )
    return counts


def subscription_wanted_for(agent: Agent) -> bool:
    """Whether signing in creates the agent's own webhook subscription."""
    return webhook_transport() and settings.SUBSCRIBE_ON_SIGNIN and not account_mode_wanted()
