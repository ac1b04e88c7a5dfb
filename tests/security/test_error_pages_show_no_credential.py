"""A server error shows no credential: with DEBUG on (the demo) Django's debug page masks
RC_JWT, the database password and every other secret; with DEBUG off (the default) the
visitor gets the plain error page.

The server is real (uvicorn in a subprocess) and so is the error: its database does not
exist, so the session lookup of a request with a session cookie fails.
"""

from __future__ import annotations

import secrets

import pytest
import requests

from tests.foundation.helpers import clean_env, demo_running, newcomer_env, serve

JWT = "eyJhbGciOiJSUzI1NiJ9." + secrets.token_urlsafe(40)
DB_PASSWORD = "Pw-" + secrets.token_urlsafe(16)
CLIENT_SECRET = "cs-" + secrets.token_urlsafe(16)


def _env(tmp_path, **extra: str) -> dict[str, str]:
    return clean_env(
        VAR_DIR=str(tmp_path),
        DATABASE_URL=f"postgres://postgres:{DB_PASSWORD}@127.0.0.1:5432/no_such_db_{secrets.token_hex(4)}",
        RC_JWT=JWT,
        RC_CLIENT_SECRET=CLIENT_SECRET,
        DB_POOL_TIMEOUT_SECONDS="0.5",
        **extra,
    )


def _error_page(tmp_path, name: str, **extra: str) -> requests.Response:
    proc, url = serve(_env(tmp_path, **extra), name)
    try:
        return requests.get(url + "/contacts/", cookies={"sessionid": "x" * 32}, timeout=30)
    finally:
        proc.stop()


@pytest.mark.integration
def test_the_debug_page_masks_every_credential(tmp_path, postgres_url):
    response = _error_page(tmp_path, "debug_on_app", DEBUG="true")
    assert response.status_code == 500
    page = response.text
    # It is Django's debug page, with the settings listed...
    assert "Traceback" in page and "RC_JWT" in page and "DATABASES" in page
    # ...and not one secret in it.
    assert JWT not in page and JWT[:30] not in page
    assert DB_PASSWORD not in page
    assert CLIENT_SECRET not in page
    assert "********" in page


@pytest.mark.integration
def test_with_debug_off_a_server_error_is_the_plain_page(tmp_path, postgres_url):
    response = _error_page(tmp_path, "debug_off_app")
    assert response.status_code == 500
    assert "Server Error (500)" in response.text
    assert "Traceback" not in response.text and "RC_JWT" not in response.text


def test_only_the_demo_turns_debug_on(tmp_path):
    """``manage.py demo`` (a trial on this machine) serves Django's debug 404 page; the same
    app started without it serves the plain one."""
    with demo_running(tmp_path) as url:
        page = requests.get(url + "/no-such-page/", timeout=10)
        assert page.status_code == 404
        assert "Using the URLconf defined in" in page.text  # Django's debug 404

    proc, url = serve(newcomer_env(tmp_path), "plain_app")
    try:
        page = requests.get(url + "/no-such-page/", timeout=10)
        assert page.status_code == 404 and "URLconf" not in page.text
    finally:
        proc.stop()
