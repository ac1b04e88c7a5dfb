"""OAuth authorization code flow with PKCE S256, through real HTTP."""

import time

import httpx

from tests.sandbox.oauth_helpers import REDIRECT, authorize, code_from, exchange, pkce_pair
from tests.support.sandbox import SandboxProcess


def test_sign_in_redirects_with_code_and_state_then_code_gives_tokens(
    fresh_sandbox: SandboxProcess,
) -> None:
    verifier, challenge = pkce_pair()
    code, state = code_from(authorize(fresh_sandbox, "102", "ringcentral",
                                      challenge=challenge, state="st-1"))
    assert state == "st-1"
    response = exchange(fresh_sandbox, code, verifier)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["owner_id"] == "400000102"
    assert body["expires_in"] == 3600 and body["refresh_token_expires_in"] == 604800
    me = httpx.get(fresh_sandbox.url + "/restapi/v1.0/account/~/extension/~",
                   headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["extensionNumber"] == "102"


def test_sign_in_accepts_email_and_direct_number(fresh_sandbox: SandboxProcess) -> None:
    for username, owner in (("priya.shah@example.com", "400000103"),
                            ("+16505550104", "400000104"), ("6505550105", "400000105")):
        verifier, challenge = pkce_pair()
        code, _ = code_from(authorize(fresh_sandbox, username, "ringcentral",
                                      challenge=challenge))
        assert exchange(fresh_sandbox, code, verifier).json()["owner_id"] == owner


def test_wrong_password_shows_an_error_on_the_page(fresh_sandbox: SandboxProcess) -> None:
    response = authorize(fresh_sandbox, "102", "wrong")
    assert response.status_code == 200
    assert "Invalid username or password" in response.text
    assert 'name="username"' in response.text


def test_wrong_verifier_is_refused(fresh_sandbox: SandboxProcess) -> None:
    _, challenge = pkce_pair()
    code, _ = code_from(authorize(fresh_sandbox, "102", "ringcentral", challenge=challenge))
    response = exchange(fresh_sandbox, code, "not-the-verifier-" + "x" * 40)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    missing = exchange(fresh_sandbox, code_from(authorize(
        fresh_sandbox, "102", "ringcentral", challenge=challenge))[0], None)
    assert missing.json()["error"] == "invalid_grant"


def test_code_is_single_use(fresh_sandbox: SandboxProcess) -> None:
    verifier, challenge = pkce_pair()
    code, _ = code_from(authorize(fresh_sandbox, "102", "ringcentral", challenge=challenge))
    assert exchange(fresh_sandbox, code, verifier).status_code == 200
    again = exchange(fresh_sandbox, code, verifier)
    assert again.status_code == 400
    body = again.json()
    assert body["error"] == "invalid_grant" and body["errors"][0]["errorCode"].startswith("OAU-")


def test_code_expires(fresh_sandbox: SandboxProcess) -> None:
    fresh_sandbox.config(auth_code_ttl=0.3)
    verifier, challenge = pkce_pair()
    code, _ = code_from(authorize(fresh_sandbox, "102", "ringcentral", challenge=challenge))
    time.sleep(0.5)
    assert exchange(fresh_sandbox, code, verifier).json()["error"] == "invalid_grant"


def test_redirect_uri_must_be_registered_and_match(fresh_sandbox: SandboxProcess) -> None:
    page = httpx.get(fresh_sandbox.url + "/restapi/oauth/authorize", params={
        "response_type": "code", "client_id": fresh_sandbox.client_id,
        "redirect_uri": "https://evil.example.com/cb"})
    assert page.status_code == 400 and "redirect_uri" in page.text
    verifier, challenge = pkce_pair()
    code, _ = code_from(authorize(fresh_sandbox, "102", "ringcentral", challenge=challenge))
    other = "http://localhost:9999/auth/callback/"
    assert exchange(fresh_sandbox, code, verifier, redirect_uri=other).status_code == 400


def test_unknown_client_is_refused(fresh_sandbox: SandboxProcess) -> None:
    page = httpx.get(fresh_sandbox.url + "/restapi/oauth/authorize", params={
        "response_type": "code", "client_id": "nobody", "redirect_uri": REDIRECT})
    assert page.status_code == 400
    token = httpx.post(fresh_sandbox.url + "/restapi/oauth/token",
                       data={"grant_type": "password", "username": "102",
                             "password": "ringcentral"}, auth=("nobody", "nothing"))
    assert token.status_code == 400 and token.json()["error"] == "invalid_client"
    no_auth = httpx.post(fresh_sandbox.url + "/restapi/oauth/token",
                         data={"grant_type": "password", "username": "102",
                               "password": "ringcentral"})
    assert no_auth.json()["errors"][0]["errorCode"] == "OAU-123"


def test_unsupported_response_type_redirects_with_an_error(
    fresh_sandbox: SandboxProcess,
) -> None:
    response = httpx.get(fresh_sandbox.url + "/restapi/oauth/authorize", params={
        "response_type": "token", "client_id": fresh_sandbox.client_id,
        "redirect_uri": REDIRECT, "state": "s"}, follow_redirects=False)
    assert response.status_code == 302
    assert "error=unsupported_response_type" in response.headers["location"]
    assert "state=s" in response.headers["location"]
