"""Signing in against the sandbox over plain HTTP, as a browser would (no mocks).

``authorize_in_sandbox`` fills in the sandbox's RingCentral sign-in form with ``requests``;
``sign_in`` drives our own /auth/start/ and /auth/callback/ with Django's test client.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from crm_cti.ringcentral.budget import budget_reset

PASSWORD = "ringcentral"


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.action = a.get("action") or ""
        elif tag == "input" and a.get("type") == "hidden" and a.get("name"):
            self.fields[a["name"] or ""] = a.get("value") or ""


def authorize_in_sandbox(authorize_url: str, *, username: str, password: str = PASSWORD) -> str:
    """Sign in on the sandbox's page; return the redirect (our callback URL with code/state)."""
    with requests.Session() as http:
        page = http.get(authorize_url, timeout=10)
        assert page.status_code == 200, page.text[:500]
        form = _FormParser()
        form.feed(page.text)
        data = {**form.fields, "username": username, "password": password}
        answer = http.post(
            urljoin(authorize_url, form.action), data=data, allow_redirects=False, timeout=10
        )
    assert answer.status_code == 302, answer.text[:500]
    return answer.headers["Location"]


def start_signin(client, *, next_url: str | None = None) -> str:
    """POST /auth/start/; return the authorize URL our app redirected to."""
    response = client.post("/auth/start/", {"next": next_url} if next_url else {})
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


def callback_path(callback_url: str) -> str:
    parts = urlsplit(callback_url)
    return f"{parts.path}?{parts.query}"


def sign_in(client, *, username: str = "102", next_url: str | None = None):
    """The whole flow; returns our callback's response (a redirect on success)."""
    authorize_url = start_signin(client, next_url=next_url)
    return client.get(callback_path(authorize_in_sandbox(authorize_url, username=username)))


@pytest.fixture
def rc(sandbox, settings):
    """A reset sandbox that the product under test points at, with forgotten budgets."""
    sandbox.reset()
    settings.RC_SERVER_URL = sandbox.url
    settings.RC_REDIRECT_URI = "http://127.0.0.1:8000/auth/callback/"
    # Plain-HTTP test client whatever mode the suite runs in.
    settings.SECURE_SSL_REDIRECT = False
    budget_reset()
    yield sandbox
    budget_reset()
