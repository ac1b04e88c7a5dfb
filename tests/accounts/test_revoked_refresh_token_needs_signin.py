"""When the refresh token is dead, the agent is marked "needs sign-in": their sessions end,
no data page answers them until they sign in again, and work for them stops without
touching the network."""

from __future__ import annotations

import time

import pytest

from crm_cti.accounts.crypto import decrypt_token
from crm_cti.accounts.models import Agent, RingCentralToken
from crm_cti.accounts.services import client_for_agent
from crm_cti.accounts.signals import agent_needs_signin
from crm_cti.ringcentral.errors import NeedsSignIn
from crm_cti.ringcentral.oauth import revoke_token
from tests.accounts.signin_helpers import sign_in

pytestmark = pytest.mark.django_db


def total_requests(rc) -> int:
    return sum(rc.stats()["requests"].values())


def test_revoked_session_marks_the_agent_and_ends_their_session(rc, client):
    sign_in(client, username="102")
    agent = Agent.objects.get(rc_extension_id="400000102")
    refresh = decrypt_token(RingCentralToken.objects.get().refresh_token_encrypted)
    # The session is revoked behind our back (an admin in RingCentral, another app...).
    revoke_token(token=refresh, user_key=None)
    seen = []

    def receiver(sender, agent, **kwargs):
        seen.append(agent.pk)

    agent_needs_signin.connect(receiver)
    try:
        with pytest.raises(NeedsSignIn):
            client_for_agent(agent).get_extension()
    finally:
        agent_needs_signin.disconnect(receiver)

    agent.refresh_from_db()
    assert agent.needs_signin is True
    assert not RingCentralToken.objects.exists()
    assert seen == [agent.pk]

    before = total_requests(rc)
    with pytest.raises(NeedsSignIn):
        client_for_agent(agent)
    assert total_requests(rc) == before  # paused: nothing sent

    # Their session ended with the RingCentral one: the next page asks them to sign in.
    page = client.get("/contacts/")
    assert page.status_code == 302
    assert page["Location"] == "/auth/signin/?next=/contacts/"
    assert b"Sign in with RingCentral" in client.get(page["Location"]).content


def test_expired_refresh_token_marks_the_agent(rc, client):
    rc.config(access_token_ttl=1, refresh_token_ttl=1)
    sign_in(client, username="103")
    agent = Agent.objects.get(rc_extension_id="400000103")
    time.sleep(1.3)
    failures = rc.stats().get("refresh_failures", 0)

    with pytest.raises(NeedsSignIn):
        client_for_agent(agent).get_extension()

    agent.refresh_from_db()
    assert agent.needs_signin is True
    # Our stored expiry says the refresh token is dead: no hopeless refresh was even sent.
    assert rc.stats().get("refresh_failures", 0) == failures


def test_a_needs_signin_agent_reaches_no_data_page_until_signed_in_again(rc, client):
    sign_in(client, username="104")
    # Flagged behind the session's back (no sign-out ran): the pages still refuse.
    Agent.objects.filter(rc_extension_id="400000104").update(needs_signin=True)
    for path in ("/contacts/", "/calls/", "/"):
        page = client.get(path)
        assert page.status_code == 302, path
        assert page["Location"].startswith("/auth/signin/?next="), path
    assert client.get("/api/calls/live/").status_code != 200
    signin_page = client.get("/auth/signin/?next=/contacts/", follow=True)
    assert b"Your RingCentral session has ended" in signin_page.content

    assert sign_in(client, username="104").status_code == 302

    assert client.get("/contacts/").status_code == 200
    assert Agent.objects.get(rc_extension_id="400000104").needs_signin is False


def test_the_json_api_answers_401_to_a_needs_signin_agent(rc, client):
    sign_in(client, username="105")
    assert client.get("/api/calls/live/").status_code == 200
    Agent.objects.filter(rc_extension_id="400000105").update(needs_signin=True)

    response = client.get("/api/calls/live/")

    assert response.status_code == 401
    assert response.json()["error"] == "needs_signin"
    assert "_auth_user_id" not in client.session
