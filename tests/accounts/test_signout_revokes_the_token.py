"""Sign-out revokes the token at RingCentral, deletes it here and ends the session."""

from __future__ import annotations

import pytest

from crm_cti.accounts.models import Agent, RingCentralToken
from crm_cti.accounts.signals import agent_signing_out
from tests.accounts.signin_helpers import sign_in

pytestmark = pytest.mark.django_db


def test_signout_revokes_deletes_and_logs_out(rc, client):
    sign_in(client, username="102")
    agent = Agent.objects.get(rc_extension_id="400000102")
    token_present_when_signalled = []

    def receiver(sender, agent, **kwargs):
        token_present_when_signalled.append(RingCentralToken.objects.filter(agent=agent).exists())

    agent_signing_out.connect(receiver, weak=False)
    try:
        response = client.post("/auth/signout/")
    finally:
        agent_signing_out.disconnect(receiver)

    assert response.status_code == 302
    assert response["Location"] == "/auth/signin/"
    assert [t["status"] for t in rc.tokens() if t["owner_id"] == "400000102"] == ["revoked"]
    assert not RingCentralToken.objects.exists()
    assert "_auth_user_id" not in client.session
    assert token_present_when_signalled == [True]  # sent BEFORE the revocation
    # The agent stays (their calls and notes are history); only the credential is gone.
    assert Agent.objects.filter(pk=agent.pk).exists()


def test_signout_is_post_only(rc, client):
    sign_in(client, username="102")
    assert client.get("/auth/signout/").status_code == 405
    assert RingCentralToken.objects.exists()


def test_signout_when_ringcentral_is_down_still_signs_out_locally(rc, client, settings):
    from tests.support.stack import free_port

    sign_in(client, username="103")
    settings.RC_SERVER_URL = f"http://127.0.0.1:{free_port()}"

    response = client.post("/auth/signout/")

    assert response.status_code == 302
    assert not RingCentralToken.objects.exists()
    assert "_auth_user_id" not in client.session
