"""Denied consent, an expired or reused code, and an unreachable platform each end on a
clear page with "Try again", and nothing half-created (no user, no agent, no token)."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.contrib.auth import get_user_model

from crm_cti.accounts.models import Agent, RingCentralToken
from tests.accounts.signin_helpers import authorize_in_sandbox, callback_path, start_signin
from tests.support.stack import free_port

pytestmark = pytest.mark.django_db


def assert_nothing_created(client) -> None:
    assert not get_user_model().objects.exists()
    assert not Agent.objects.exists()
    assert not RingCentralToken.objects.exists()
    assert "_auth_user_id" not in client.session


def assert_try_again(response) -> None:
    assert b"Try again" in response.content
    assert b'href="/auth/start/?next=' in response.content


def test_denied_consent(rc, client):
    state = parse_qs(urlsplit(start_signin(client)).query)["state"][0]
    query = urlencode(
        {"error": "access_denied", "error_description": "User denied access", "state": state}
    )

    response = client.get("/auth/callback/?" + query)

    assert response.status_code == 403
    assert b"declined" in response.content
    assert_try_again(response)
    assert_nothing_created(client)


def test_expired_code(rc, client):
    rc.config(auth_code_ttl=1)
    callback = authorize_in_sandbox(start_signin(client), username="102")
    time.sleep(1.5)

    response = client.get(callback_path(callback))

    assert response.status_code == 400
    assert b"expired or was already" in response.content
    assert_try_again(response)
    assert_nothing_created(client)


def test_reused_code(rc, client, django_app_client):
    # Someone's code, already exchanged once, presented again with a valid state.
    used = authorize_in_sandbox(start_signin(django_app_client), username="103")
    assert django_app_client.get(callback_path(used)).status_code == 302
    agents_before = Agent.objects.count()
    code = parse_qs(urlsplit(used).query)["code"][0]
    state = parse_qs(urlsplit(start_signin(client)).query)["state"][0]

    response = client.get("/auth/callback/?" + urlencode({"code": code, "state": state}))

    assert response.status_code == 400
    assert_try_again(response)
    assert Agent.objects.count() == agents_before
    assert "_auth_user_id" not in client.session


def test_unreachable_platform(rc, client, settings):
    callback = authorize_in_sandbox(start_signin(client), username="102")
    settings.RC_SERVER_URL = f"http://127.0.0.1:{free_port()}"  # nothing listens there

    response = client.get(callback_path(callback))

    assert response.status_code == 502
    assert b"cannot be reached" in response.content
    assert_try_again(response)
    assert_nothing_created(client)


def test_failure_after_the_code_exchange_revokes_the_new_token(rc, client):
    callback = authorize_in_sandbox(start_signin(client), username="102")
    rc.config(faults=[{"method": "GET", "path_contains": "/extension/~", "status": 500}])

    response = client.get(callback_path(callback))

    assert response.status_code == 502
    assert_try_again(response)
    assert_nothing_created(client)
    statuses = [t["status"] for t in rc.tokens() if t["owner_id"] == "400000102"]
    assert statuses == ["revoked"]


@pytest.fixture
def django_app_client():
    from django.test import Client

    return Client()
