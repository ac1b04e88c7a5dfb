"""Authorization-code-with-PKCE sign-in through real HTTP, as a browser and a backend do."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlparse

import httpx

from tests.support.sandbox import SandboxProcess

REDIRECT = "http://127.0.0.1:8123/auth/callback/"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def authorize(sandbox: SandboxProcess, username: str, password: str, *,
              challenge: str | None = None, state: str = "xyz",
              redirect_uri: str = REDIRECT) -> httpx.Response:
    """Open the sign-in page and submit it; return the response to the form POST."""
    params = {"response_type": "code", "client_id": sandbox.client_id,
              "redirect_uri": redirect_uri, "state": state}
    if challenge:
        params.update({"code_challenge": challenge, "code_challenge_method": "S256"})
    with httpx.Client(base_url=sandbox.url, follow_redirects=False) as browser:
        page = browser.get("/restapi/oauth/authorize", params=params)
        assert page.status_code == 200, page.text
        assert 'name="username"' in page.text and 'name="password"' in page.text
        return browser.post("/restapi/oauth/authorize",
                            data={**params, "username": username, "password": password})


def code_from(response: httpx.Response) -> tuple[str, str]:
    assert response.status_code == 302, response.text
    location = urlparse(response.headers["location"])
    query = parse_qs(location.query)
    return query["code"][0], query["state"][0]


def exchange(sandbox: SandboxProcess, code: str, verifier: str | None,
             redirect_uri: str = REDIRECT) -> httpx.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if verifier is not None:
        data["code_verifier"] = verifier
    return httpx.post(sandbox.url + "/restapi/oauth/token", data=data,
                      auth=(sandbox.client_id, sandbox.client_secret))
