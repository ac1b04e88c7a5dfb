"""Account mode: one subscription for every extension, created from the admin with the
service credential (RC_JWT); enrichment uses account-level requests."""

from collections.abc import Iterator

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from crm_cti.telephony.models import Call, Subscription
from tests.support.people import agent_create
from tests.support.stack import wait_until
from tests.telephony.pipeline import Stack, call_enriched, module_stack, states_in_order

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def pipeline_stack(django_db_setup, sandbox) -> Iterator[Stack]:
    """This module's stack holds the service credential: the admin extension's JWT."""
    jwt = sandbox.user("101")["jwt"]
    with module_stack(sandbox.url, name="account", env={"RC_JWT": jwt}) as stack:
        yield stack


def test_account_subscription_pops_every_agent_and_enriches(pipeline, settings):
    settings.RC_JWT = pipeline.sandbox.user("101")["jwt"]
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    browser = Client()
    browser.force_login(admin)
    response = browser.post("/admin/telephony/subscription/create-account/", secure=True)
    assert response.status_code == 302
    sub = Subscription.objects.get(mode="account")
    assert sub.status == "Active"
    assert sub.agent is None
    # The platform answers with the canonical filter (account id instead of "~").
    assert sub.event_filters[0].endswith("/presence?detailedTelephonyState=true")
    assert "/extension/" not in sub.event_filters[0]

    # Agents need no token of their own in account mode.
    marcus = agent_create(extension="102")
    priya = agent_create(extension="103")
    socks = {marcus.pk: pipeline.socket(marcus), priya.pk: pipeline.socket(priya)}
    first = pipeline.sandbox.start_call("inbound_answered", extension="102")["sessionId"]
    second = pipeline.sandbox.start_call("inbound_missed", extension="103")["sessionId"]
    nobody = pipeline.sandbox.start_call("inbound_answered", extension="104")["sessionId"]
    socks[marcus.pk].wait_for(call_enriched(socks[marcus.pk], first), timeout=60, what="102's call")
    socks[priya.pk].wait_for(call_enriched(socks[priya.pk], second), timeout=60, what="103's call")
    assert states_in_order(socks[marcus.pk].calls(first)) == ["ringing", "connected", "ended"]
    assert socks[priya.pk].calls(second)[-1]["result"] == "Missed"
    assert not socks[marcus.pk].calls(second)
    # An extension without an agent is tracked (and enriched) for the account view.
    orphan = wait_until(
        lambda: Call.objects.filter(session_id=nobody, result="Accepted").first(),
        timeout=60, what="the call of an extension without an agent",
    )
    assert orphan.agent is None
    stats = pipeline.sandbox.stats()["by_operation"]
    assert any(op.startswith("GET /restapi/v1.0/account/{accountId}/call-log") for op in stats)
