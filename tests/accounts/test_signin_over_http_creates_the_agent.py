"""Sign-in with RingCentral over plain HTTP: the sandbox's sign-in form, our callback, the
agent created from the extension, the session logged in, the dashboard as target."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from crm_cti.accounts.models import Agent
from tests.accounts.signin_helpers import sign_in

pytestmark = pytest.mark.django_db


def test_first_signin_creates_user_and_agent_from_the_extension(rc, client):
    response = sign_in(client, username="102")

    assert response.status_code == 302
    assert response["Location"] == "/"
    agent = Agent.objects.get(rc_extension_id="400000102")
    assert agent.extension_number == "102"
    assert agent.name == "Marcus Reed"
    assert agent.email == "marcus.reed@example.com"
    assert agent.rc_account_id == "400000001"
    assert "+16505550102" in agent.direct_numbers
    assert agent.is_admin is False
    assert agent.needs_signin is False
    assert agent.user.first_name == "Marcus"
    assert agent.user.has_usable_password() is False
    assert int(client.session["_auth_user_id"]) == agent.user.pk


def test_admin_flag_comes_from_the_extension_permissions(rc, client):
    sign_in(client, username="101")
    assert Agent.objects.get(rc_extension_id="400000101").is_admin is True


def test_signing_in_again_updates_the_same_agent(rc, client, django_user_model):
    sign_in(client, username="103")
    agent = Agent.objects.get(rc_extension_id="400000103")
    agent.name = "stale name"
    agent.needs_signin = True
    agent.save()
    client.logout()

    response = sign_in(client, username="103")

    assert response.status_code == 302
    assert Agent.objects.filter(rc_extension_id="400000103").count() == 1
    assert get_user_model().objects.filter(username="rc-400000103").count() == 1
    agent.refresh_from_db()
    assert agent.name == "Priya Shah"
    assert agent.needs_signin is False


def test_a_safe_next_is_honoured(rc, client):
    response = sign_in(client, username="104", next_url="/contacts/?q=kim")
    assert response["Location"] == "/contacts/?q=kim"


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/steal", "//evil.example/", "javascript:alert(1)"]
)
def test_an_offsite_next_is_ignored(rc, client, next_url):
    response = sign_in(client, username="105", next_url=next_url)
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_signin_page_offers_the_ringcentral_button(client, settings):
    settings.SECURE_SSL_REDIRECT = False
    response = client.get("/auth/signin/")
    assert response.status_code == 200
    assert b"Sign in with RingCentral" in response.content
