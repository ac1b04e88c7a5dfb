"""A webhook subscription that expired, or that the platform blacklisted after failed
deliveries, is recreated by beat without anyone acting, and calls pop again."""

from __future__ import annotations

import pytest

from crm_cti.ringcentral.budget import budget_reset
from crm_cti.telephony.models import Subscription, TelephonyEvent
from crm_cti.telephony.services import subscriptions
from tests.support.agents import agent_sign_in
from tests.support.stack import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


def _active_at_platform(sandbox) -> list[dict]:
    return [s for s in sandbox.subscriptions() if s["status"] == "Active" and not s["expired"]]


def test_expired_and_blacklisted_subscriptions_come_back(stack_factory, fresh_sandbox, settings,
                                                        record_property):
    sandbox = fresh_sandbox
    sandbox.config(speed=10, rate_limits={"enabled": False})
    stack = stack_factory({
        "RC_SERVER_URL": sandbox.url,
        "SUBSCRIPTION_CHECK_INTERVAL_SECONDS": "2",
        "SUBSCRIPTION_RENEW_BEFORE_SECONDS": "60",
        "SUBSCRIPTION_EXPIRES_IN": "3600",
    }, beat=False)
    settings.RC_SERVER_URL = sandbox.url
    settings.WEBHOOK_BASE_URL = stack.url
    budget_reset()
    agent = agent_sign_in(sandbox, "102")

    # 1. Expired: created for 2 seconds only, and nothing renewed it in time (beat was down).
    settings.SUBSCRIPTION_EXPIRES_IN = 2
    first = subscriptions.subscription_ensure(agent=agent)
    wait_until(lambda: not _active_at_platform(sandbox), timeout=10, what="the expiry")
    stack.start_beat()
    wait_until(
        lambda: Subscription.objects.filter(agent=agent).exclude(rc_id=first.rc_id)
        .exclude(rc_id="").exists() and _active_at_platform(sandbox),
        timeout=60, interval=0.5, what=f"the expired subscription to be recreated\n{stack.logs()}",
    )
    second = Subscription.objects.get(agent=agent)
    assert [s["id"] for s in _active_at_platform(sandbox)] == [second.rc_id]

    # 2. Blacklisted: our side stops accepting its deliveries (as a receiver that keeps
    # failing), the platform blacklists it after two failed notifications.
    sandbox.config(delivery_attempts=1, delivery_retry_delay=0.1, blacklist_after=2)
    Subscription.objects.filter(pk=second.pk).update(verification_token="lost-token")
    sandbox.start_call("inbound_missed", extension="102", from_="+14155550100")
    wait_until(
        lambda: any(s["id"] == second.rc_id and s["status"] == "Blacklisted"
                    for s in sandbox.subscriptions()),
        timeout=60, interval=0.5, what="the platform to blacklist the subscription",
    )
    wait_until(
        lambda: Subscription.objects.filter(agent=agent).exclude(rc_id=second.rc_id)
        .exclude(rc_id="").filter(status="Active").exists(),
        timeout=60, interval=0.5,
        what=f"the blacklisted subscription to be recreated\n{stack.logs()}",
    )
    third = Subscription.objects.get(agent=agent)

    # Calls pop again through the new subscription.
    before = TelephonyEvent.objects.filter(subscription=third).count()
    started = sandbox.start_call("inbound_answered", extension="102", from_="+14155550100")
    wait_until(
        lambda: TelephonyEvent.objects.filter(subscription=third).count() > before
        and TelephonyEvent.objects.filter(payload__body__activeCalls__0__sessionId=started[
            "sessionId"]).exists(),
        timeout=60, interval=0.5, what="events through the recreated subscription",
    )
    record_property("subscriptions_recreated", 2)
