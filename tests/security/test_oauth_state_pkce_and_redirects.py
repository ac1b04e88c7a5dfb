"""Sign-in: the OAuth ``state`` must be the one this browser started with, once; the PKCE
verifier must match the challenge sent to RingCentral; ``next`` never leads off-site.
Tokens are encrypted at rest and absent from every log line captured during the flow."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test import Client

from crm_cti.accounts.crypto import decrypt_token
from crm_cti.accounts.models import Agent, RingCentralToken
from crm_cti.accounts.views import PENDING_KEY
from tests.accounts.signin_helpers import (
    authorize_in_sandbox,
    callback_path,
    sign_in,
    start_signin,
)

pytestmark = pytest.mark.django_db

OFFSITE = [
    "https://evil.example/", "//evil.example/", "http://evil.example", "https:evil.example",
    "/\\evil.example", "\\\\evil.example", "javascript:alert(1)", " https://evil.example",
]


def test_callback_with_a_state_from_another_browser_is_refused(rc, client):
    attacker = Client()
    callback = authorize_in_sandbox(start_signin(attacker), username="103")
    # The victim's browser is sent to the attacker's callback URL (login CSRF).
    response = client.get(callback_path(callback))
    assert response.status_code == 400
    assert not Agent.objects.exists() and not RingCentralToken.objects.exists()
    assert "_auth_user_id" not in client.session


def test_a_state_is_good_once(rc, client):
    authorize_url = start_signin(client)
    callback = callback_path(authorize_in_sandbox(authorize_url, username="102"))
    assert client.get(callback).status_code == 302
    client.logout()
    assert client.get(callback).status_code == 400


def test_callback_without_state_or_with_a_forged_one_is_refused(rc, client):
    authorize_url = start_signin(client)
    callback = callback_path(authorize_in_sandbox(authorize_url, username="102"))
    path, query = callback.split("?", 1)
    code = parse_qs(query)["code"][0]
    assert client.get(f"{path}?code={code}").status_code == 400
    assert client.get(f"{path}?code={code}&state=forged").status_code == 400
    assert not RingCentralToken.objects.exists()


def test_the_authorize_request_carries_pkce_and_a_wrong_verifier_fails(rc, client):
    authorize_url = start_signin(client)
    query = parse_qs(urlsplit(authorize_url).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
    state = query["state"][0]
    assert len(state) >= 20
    # Swap the verifier kept in the session: the platform must refuse the code.
    session = client.session
    pending = session[PENDING_KEY]
    pending[state]["v"] = "x" * 64
    session[PENDING_KEY] = pending
    session.save()
    response = client.get(callback_path(authorize_in_sandbox(authorize_url, username="102")))
    assert response.status_code in (400, 502)
    assert not RingCentralToken.objects.exists() and "_auth_user_id" not in client.session


@pytest.mark.parametrize("target", OFFSITE)
def test_next_never_redirects_off_site(rc, client, target):
    response = client.get("/auth/signin/", {"next": target})
    assert response.status_code == 200
    assert "evil.example" not in response.content.decode().split("<form", 1)[-1].split(
        "</form>", 1)[0]
    authorize_url = start_signin(client, next_url=target)
    landing = client.get(callback_path(authorize_in_sandbox(authorize_url, username="102")))
    assert landing.status_code == 302
    location = landing["Location"]
    assert urlsplit(location).netloc in ("", "testserver") and "evil" not in location
    client.logout()


@pytest.mark.parametrize("target", OFFSITE[:4])
def test_dashboard_forms_never_bounce_off_site(agent_client, target):
    response = agent_client.post("/calls/ringout-from/", {"number": "+16505550102",
                                                          "next": target})
    assert response.status_code == 302
    assert "evil" not in response["Location"]


def test_tokens_are_encrypted_at_rest_and_never_logged(rc, client, caplog):
    # What LOG_LEVEL=DEBUG does (the root logger at DEBUG): an operator who turns debugging
    # on must not find a token in the log, whatever library logs it.
    caplog.set_level(logging.DEBUG)
    for name in ("requests_oauthlib", "oauthlib", "urllib3"):
        # Third-party loggers keep the level the product's LOGGING gives them.
        assert logging.getLogger(name).getEffectiveLevel() >= logging.WARNING, name
    assert sign_in(client, username="102").status_code == 302
    row = RingCentralToken.objects.get()
    access = decrypt_token(row.access_token_encrypted)
    refresh = decrypt_token(row.refresh_token_encrypted)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {RingCentralToken._meta.db_table}")
        raw = " ".join(str(value) for row_ in cursor.fetchall() for value in row_)
    for secret in (access, refresh):
        assert len(secret) > 20
        assert secret not in raw and secret[:16] not in raw
    client.post("/auth/signout/")
    logged = caplog.text + "\n".join(
        f"{r.getMessage()} {r.exc_text or ''} {r.args!r}" for r in caplog.records)
    assert caplog.records  # logging did run through sign-in and sign-out
    for secret in (access, refresh):
        assert secret not in logged and secret[:16] not in logged
