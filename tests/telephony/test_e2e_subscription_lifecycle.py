"""Webhook subscriptions: created at sign-in, renewed before expiry, recreated when missing,
expired or blacklisted, deleted at sign-out."""

from datetime import timedelta

import pytest
from django.utils import timezone

from crm_cti.accounts.models import Agent
from crm_cti.accounts.signals import agent_signed_in, agent_signing_out
from crm_cti.telephony.models import Call, Subscription
from crm_cti.telephony.services import subscriptions
from tests.support.stack import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def _remote(pipeline, rc_id):
    return next((s for s in pipeline.sandbox.subscriptions() if s["id"] == rc_id), None)


def test_sign_in_creates_the_subscription_and_imports_history(pipeline):
    pipeline.sandbox.inject_call_log("102", 12)
    agent = pipeline.sign_in("102")
    agent_signed_in.send(sender=Agent, agent=agent, first_time=True)
    sub = wait_until(
        lambda: Subscription.objects.filter(agent=agent, status="Active").exclude(rc_id="").first(),
        timeout=30, what="the subscription",
    )
    remote = _remote(pipeline, sub.rc_id)
    assert remote["status"] == "Active"
    assert remote["address"] == pipeline.url + "/webhooks/ringcentral/"
    assert remote["eventFilters"][0].endswith("/presence?detailedTelephonyState=true")
    assert sub.expires_at > timezone.now()
    wait_until(lambda: Call.objects.filter(agent=agent).count() >= 12, timeout=30,
               what="the call-log history import")
    assert not Call.objects.filter(agent=agent, result="").exists()


def test_renewed_before_expiry(pipeline, settings):
    settings.SUBSCRIPTION_EXPIRES_IN = 3600
    settings.SUBSCRIPTION_RENEW_BEFORE_SECONDS = 7200
    agent = pipeline.sign_in("102")
    sub = pipeline.subscribe(agent)
    first_expiry = sub.expires_at
    rc_id = sub.rc_id
    subscriptions.subscriptions_maintain()
    sub.refresh_from_db()
    assert sub.rc_id == rc_id
    assert sub.expires_at >= first_expiry
    assert sub.status == "Active"


def test_recreated_when_missing(pipeline):
    agent = pipeline.sign_in("102")
    sub = pipeline.subscribe(agent)
    with pipeline.sandbox.api("102") as api:
        assert api.delete(f"/restapi/v1.0/subscription/{sub.rc_id}").status_code == 204
    subscriptions.subscriptions_maintain()
    fresh = Subscription.objects.get(agent=agent)
    assert fresh.rc_id != sub.rc_id
    assert _remote(pipeline, fresh.rc_id)["status"] == "Active"


def test_recreated_when_expired(pipeline, settings):
    settings.SUBSCRIPTION_EXPIRES_IN = 1
    agent = pipeline.sign_in("102")
    sub = pipeline.subscribe(agent)
    settings.SUBSCRIPTION_EXPIRES_IN = 3600
    wait_until(lambda: _remote(pipeline, sub.rc_id)["expired"], timeout=10, what="expiry")
    subscriptions.subscriptions_maintain()
    fresh = Subscription.objects.get(agent=agent)
    assert fresh.rc_id != sub.rc_id
    assert fresh.expires_at > timezone.now() + timedelta(minutes=30)


def test_recreated_when_blacklisted_and_pops_again(pipeline):
    pipeline.sandbox.config(blacklist_after=2, delivery_attempts=1)
    agent = pipeline.sign_in("102")
    sub = pipeline.subscribe(agent)
    # Our side forgets the token: every delivery is refused until the platform gives up.
    Subscription.objects.filter(pk=sub.pk).update(verification_token="forgotten")
    pipeline.sandbox.start_call("inbound_missed", extension="102")
    wait_until(lambda: _remote(pipeline, sub.rc_id)["status"] == "Blacklisted", timeout=30,
               what="the platform to blacklist the subscription")
    assert Call.objects.count() == 0
    subscriptions.subscriptions_maintain()
    fresh = Subscription.objects.get(agent=agent)
    assert fresh.rc_id != sub.rc_id
    assert fresh.status == "Active"
    sock = pipeline.socket(agent)
    started = pipeline.sandbox.start_call("inbound_answered", extension="102")
    sock.wait_for(lambda _h: sock.calls(started["sessionId"]), timeout=30,
                  what="a pop after the subscription was recreated")


def test_sign_out_deletes_the_subscription(pipeline):
    agent = pipeline.sign_in("102")
    sub = pipeline.subscribe(agent)
    agent_signing_out.send(sender=Agent, agent=agent)
    assert not Subscription.objects.filter(agent=agent).exists()
    assert _remote(pipeline, sub.rc_id) is None
