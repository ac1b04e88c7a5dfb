"""A callback whose state this browser did not start is refused, and changes nothing."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.contrib.auth import get_user_model

from crm_cti.accounts.models import Agent
from tests.accounts.signin_helpers import authorize_in_sandbox, start_signin

pytestmark = pytest.mark.django_db


def _code(callback_url: str) -> str:
    return parse_qs(urlsplit(callback_url).query)["code"][0]


def test_tampered_state_is_refused(rc, client):
    callback = authorize_in_sandbox(start_signin(client), username="102")

    forged = urlencode({"code": _code(callback), "state": "forged"})
    response = client.get("/auth/callback/?" + forged)

    assert response.status_code == 400
    assert b"Try again" in response.content
    assert not Agent.objects.exists()
    assert not get_user_model().objects.exists()
    assert "_auth_user_id" not in client.session


def test_callback_in_a_browser_that_never_started_is_refused(rc, client, django_app_client):
    callback = authorize_in_sandbox(start_signin(client), username="102")
    parts = urlsplit(callback)

    # An attacker's code and state, replayed in the victim's browser (login CSRF).
    response = django_app_client.get(f"{parts.path}?{parts.query}")

    assert response.status_code == 400
    assert not Agent.objects.exists()


def test_a_callback_cannot_be_used_twice(rc, client):
    callback = authorize_in_sandbox(start_signin(client), username="102")
    parts = urlsplit(callback)
    assert client.get(f"{parts.path}?{parts.query}").status_code == 302

    again = client.get(f"{parts.path}?{parts.query}")

    assert again.status_code == 400
    assert b"Try again" in again.content


@pytest.fixture
def django_app_client():
    from django.test import Client

    return Client()
