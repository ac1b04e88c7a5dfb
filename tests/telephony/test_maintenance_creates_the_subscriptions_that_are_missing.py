"""Beat's subscription maintenance does not only renew the rows it has: it creates the
subscription of a signed-in agent who has none (the sign-in's task was lost, or gave up),
never one for an agent who must sign in again or never signed in, and in account mode
(``ACCOUNT_SUBSCRIPTION``) the account's. Real sandbox, real web process for the webhook
validation."""

from __future__ import annotations

import pytest

from crm_cti.accounts.models import Agent
from crm_cti.telephony.models import Subscription
from crm_cti.telephony.services import subscriptions
from tests.support.agents import agent_sign_in
from tests.support.people import agent_create

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


@pytest.fixture
def platform(fresh_sandbox, live_app, settings):
    settings.RC_SERVER_URL = fresh_sandbox.url
    settings.WEBHOOK_BASE_URL = live_app.url
    return fresh_sandbox


def _active_at_platform(sandbox) -> list[dict]:
    return [s for s in sandbox.subscriptions() if s["status"] == "Active" and not s["expired"]]


def test_a_signed_in_agent_without_a_subscription_gets_one(platform):
    signed_in = agent_sign_in(platform, "102")
    must_sign_in = agent_sign_in(platform, "103")
    Agent.objects.filter(pk=must_sign_in.pk).update(needs_signin=True)
    agent_create(extension="104")  # never signed in with RingCentral: no token

    assert subscriptions.subscriptions_maintain() == {"ok": 0, "failed": 0, "created": 1}
    sub = Subscription.objects.get()
    assert sub.agent == signed_in and sub.status == "Active"
    assert [s["id"] for s in _active_at_platform(platform)] == [sub.rc_id]
    # Next round: it is kept (renewal check), nothing more is created.
    assert subscriptions.subscriptions_maintain() == {"ok": 1, "failed": 0, "created": 0}


def test_account_mode_gets_its_account_subscription(platform, settings):
    settings.ACCOUNT_SUBSCRIPTION = True
    settings.RC_JWT = platform.user("101")["jwt"]
    agent_sign_in(platform, "102")

    assert subscriptions.subscriptions_maintain() == {"ok": 0, "failed": 0, "created": 1}
    sub = Subscription.objects.get()
    assert sub.mode == Subscription.Mode.ACCOUNT and sub.agent is None
    assert sub.status == "Active"
    assert "/extension/" not in sub.event_filters[0]
    # The account subscription covers every agent: sign-ins create none of their own.
    assert not subscriptions.subscription_wanted_for(Agent.objects.get(extension_number="102"))


def test_over_the_websocket_transport_no_webhook_subscription_is_made(platform, settings):
    settings.RC_EVENTS_TRANSPORT = "websocket"
    agent = agent_sign_in(platform, "102")
    settings.ACCOUNT_SUBSCRIPTION = True
    settings.RC_JWT = platform.user("101")["jwt"]
    # Neither beat nor a sign-in subscribes by webhook: the events process subscribes on its
    # own connections.
    assert subscriptions.subscriptions_maintain() == {"ok": 0, "failed": 0, "created": 0}
    assert not subscriptions.subscription_wanted_for(agent)
    assert not Subscription.objects.exists() and platform.subscriptions() == []


def test_asking_for_a_webhook_subscription_over_the_websocket_transport_says_why_not(
        platform, settings):
    settings.RC_EVENTS_TRANSPORT = "websocket"
    agent = agent_sign_in(platform, "102")
    with pytest.raises(subscriptions.WebhookTransportOff, match="RC_EVENTS_TRANSPORT"):
        subscriptions.subscription_ensure(agent=agent)
    assert not Subscription.objects.exists() and platform.subscriptions() == []
