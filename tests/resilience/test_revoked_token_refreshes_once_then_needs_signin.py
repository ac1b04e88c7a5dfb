"""An access token revoked at the platform: one refresh attempt, then "needs sign-in" —
never a loop of refreshes or requests, whatever keeps asking (pages, tasks, beat)."""

from __future__ import annotations

import pytest
import requests

from crm_cti.accounts.crypto import decrypt_token
from crm_cti.accounts.models import Agent, RingCentralToken
from crm_cti.accounts.services import client_for_agent
from crm_cti.ringcentral.errors import NeedsSignIn
from crm_cti.telephony.services import activecalls, calllog, subscriptions
from tests.accounts.signin_helpers import sign_in
from tests.support.people import call_make

pytestmark = pytest.mark.django_db


def _platform_requests(rc) -> int:
    return sum(rc.stats()["by_operation"].values())


def _refresh_attempts(rc) -> int:
    stats = rc.stats()
    return stats["token_grants"].get("refresh_token", 0) + stats.get("refresh_failures", 0)


def test_revoked_token(rc, client):
    assert sign_in(client, username="102").status_code == 302
    agent = Agent.objects.get(extension_number="102")
    access = decrypt_token(RingCentralToken.objects.get(agent=agent).access_token_encrypted)
    revoked = requests.post(f"{rc.url}/restapi/oauth/revoke", data={"token": access},
                            auth=(rc.client_id, rc.client_secret), timeout=10)
    assert revoked.status_code == 200
    before = _refresh_attempts(rc)

    with pytest.raises(NeedsSignIn):
        client_for_agent(agent).list_call_log()
    agent.refresh_from_db()
    assert agent.needs_signin
    assert _refresh_attempts(rc) - before == 1  # exactly one refresh attempt, refused
    settled = _platform_requests(rc)

    # Everything that would talk to RingCentral for this agent now waits for a sign-in.
    call_make(agent, enrichment="pending")
    for _ in range(10):
        with pytest.raises(NeedsSignIn):
            client_for_agent(agent)
        assert calllog.call_log_fetch(scope_key=f"agent:{agent.pk}") is None
        subscriptions.subscriptions_maintain()
        activecalls.reconcile_all()
    # Their session ended with the RingCentral one: the page sends them to sign in.
    page = client.get("/", follow=True)
    assert page.status_code == 200
    assert page.redirect_chain[-1][0].startswith("/auth/signin/")
    assert "sign in" in page.content.decode().lower()
    assert _platform_requests(rc) == settled, "no request after the failed refresh"

    # Signing in again brings the agent back.
    client.logout()
    assert sign_in(client, username="102").status_code == 302
    agent.refresh_from_db()
    assert not agent.needs_signin
    assert "records" in client_for_agent(agent).list_call_log()
