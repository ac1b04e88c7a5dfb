"""Who asks RingCentral about a set of calls (one agent, or the account's service
credential), and the enrichment plan the tracker marks the calls it ends with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from crm_cti.accounts.models import Agent
from crm_cti.ringcentral.budget import budget_wait_seconds
from crm_cti.ringcentral.errors import NeedsSignIn
from crm_cti.telephony.models import Call, Subscription
from crm_cti.telephony.tracker import EnrichmentPlan

ACCOUNT_SCOPE = "account"


@dataclass
class Scope:
    """Who asks RingCentral about a set of calls: one agent, or the account (service)."""

    key: str
    client: Any
    user_key: str
    account_level: bool
    agent: Agent | None = None

    def calls(self) -> QuerySet[Call]:
        if self.agent is not None:
            return Call.objects.filter(agent=self.agent)
        return Call.objects.all()


def account_mode_active() -> bool:
    """An active account-level subscription exists and the service credential is set
    (over the WebSocket transport: account mode is configured, ``ACCOUNT_SUBSCRIPTION``)."""
    if not settings.RC_JWT:
        return False
    if settings.RC_EVENTS_TRANSPORT != "webhook":
        return bool(settings.ACCOUNT_SUBSCRIPTION)
    return Subscription.objects.filter(
        mode=Subscription.Mode.ACCOUNT, status="Active"
    ).exists()


def scope_key_for_call(call: Call) -> str | None:
    return scope_key_of(call.agent_id, account_mode_active())


def scope_key_of(agent_id: int | None, account_mode: bool) -> str | None:
    """The scope that fetches for an agent's calls: the account's in account mode."""
    if account_mode:
        return ACCOUNT_SCOPE
    if agent_id is not None:
        return f"agent:{agent_id}"
    return None


def scope_resolve(key: str) -> Scope | None:
    """The client for a scope key, or None when nobody can ask (signed out, no service)."""
    from crm_cti.accounts.services import client_for_agent, service_client

    if key == ACCOUNT_SCOPE:
        client = service_client()
        if client is None:
            return None
        return Scope(key=key, client=client, user_key=client.user_key,
                     account_level=True)
    agent_id = int(key.split(":", 1)[1])
    agent = Agent.objects.filter(pk=agent_id).first()
    if agent is None or agent.needs_signin:
        return None
    try:
        client = client_for_agent(agent)
    except NeedsSignIn:
        return None
    return Scope(key=key, client=client, user_key=client.user_key,
                 account_level=False, agent=agent)


def heavy_wait(scope: Scope) -> float:
    """Seconds until the scope may send a Heavy request (0: now)."""
    return budget_wait_seconds(user_key=scope.user_key, group="Heavy")


def enrichment_plan(account_mode: bool) -> EnrichmentPlan:
    """Calls ended now wait for their call-log record until ``CALL_LOG_DELAY_SECONDS``."""
    due = timezone.now() + timedelta(seconds=settings.CALL_LOG_DELAY_SECONDS)
    return EnrichmentPlan(due_at=due, account_mode=account_mode)

