"""PKCE (S256): the authorize URL carries the challenge of a verifier kept server-side, the
token request sends that verifier, and the platform refuses a code with the wrong one."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest

from crm_cti.accounts.models import Agent
from crm_cti.accounts.views import PENDING_KEY
from tests.accounts.signin_helpers import authorize_in_sandbox, callback_path, start_signin

pytestmark = pytest.mark.django_db


def test_authorize_url_carries_the_s256_challenge_of_the_session_verifier(rc, client, settings):
    query = parse_qs(urlsplit(start_signin(client)).query)

    assert query["response_type"] == ["code"]
    assert query["client_id"] == [settings.RC_CLIENT_ID]
    assert query["redirect_uri"] == [settings.RC_REDIRECT_URI]
    assert query["code_challenge_method"] == ["S256"]
    state = query["state"][0]
    assert len(state) >= 20
    verifier = client.session[PENDING_KEY][state]["v"]
    digest = hashlib.sha256(verifier.encode()).digest()
    assert query["code_challenge"] == [base64.urlsafe_b64encode(digest).rstrip(b"=").decode()]
    # The verifier itself never leaves the server before the token request.
    assert verifier not in start_signin(client)


def test_each_signin_gets_its_own_state_and_verifier(rc, client):
    first = parse_qs(urlsplit(start_signin(client)).query)
    second = parse_qs(urlsplit(start_signin(client)).query)
    assert first["state"] != second["state"]
    assert first["code_challenge"] != second["code_challenge"]


def test_a_code_exchanged_with_the_wrong_verifier_is_refused(rc, client):
    authorize_url = start_signin(client)
    state = parse_qs(urlsplit(authorize_url).query)["state"][0]
    callback = authorize_in_sandbox(authorize_url, username="102")
    session = client.session
    pending = session[PENDING_KEY]
    pending[state]["v"] = "x" * 64  # not the verifier whose challenge RingCentral holds
    session[PENDING_KEY] = pending
    session.save()

    response = client.get(callback_path(callback))

    assert response.status_code == 400
    assert b"Try again" in response.content
    assert b"verifier" in response.content.lower()
    assert not Agent.objects.exists()
