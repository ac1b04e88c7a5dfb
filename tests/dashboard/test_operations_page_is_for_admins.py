"""The operations page: admins only; it shows subscriptions, tokens, budget, queues, chart."""

from datetime import timedelta

from django.utils import timezone

from crm_cti.telephony.models import Subscription, TelephonyEvent
from tests.support.people import call_make


def test_agent_gets_403(agent_client):
    assert agent_client.get("/ops/").status_code == 403


def test_anonymous_is_sent_to_sign_in(client, db):
    assert client.get("/ops/")["Location"].startswith("/auth/signin/")


def test_admin_sees_every_section(admin_client_agent, admin_agent, agent):
    Subscription.objects.create(
        rc_id="sub-1", agent=agent, verification_token="x", status="Blacklisted",
        expires_at=timezone.now() + timedelta(days=1), last_error="delivery failed 10 minutes",
    )
    TelephonyEvent.objects.create(
        uuid="u-1", rc_extension_id=agent.rc_extension_id, sequence=1, payload={},
        outcome="failed", error="tracker blew up",
    )
    call_make(agent, last_sequence=3)  # popped by presence events
    call_make(agent)  # imported from the call log: not a pop
    response = admin_client_agent.get("/ops/")
    assert response.status_code == 200
    html = response.content.decode()
    for heading in ("Webhook subscriptions", "Agents and tokens", "Rate budget per group",
                    "Recent errors", "Events and pops per minute"):
        assert heading in html
    assert "Blacklisted" in html and "status Blacklisted" in html
    assert "tracker blew up" in html
    assert "no token" in html  # the agents have not signed in with RingCentral
    assert "Events not yet applied" in html
    # One event and one pop in the last hour.
    assert "1 events, 1 pops" in html


def test_budget_panel_shows_requests_used_of_the_limit(admin_client_agent, agent):
    from crm_cti.accounts.tokens import agent_user_key
    from crm_cti.ringcentral.budget import budget_reset, budget_take

    budget_reset()
    for _ in range(3):
        budget_take(user_key=agent_user_key(agent), group="Heavy")
    html = admin_client_agent.get("/ops/").content.decode()
    assert '<span class="budget-used">3 / 10</span>' in html
    assert '<span class="budget-used">0 / 50</span>' in html  # Light, untouched
