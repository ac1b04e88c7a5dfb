"""Security headers: a Content-Security-Policy on every page (no inline script or style in
the templates, so nothing needs 'unsafe-inline'), no framing, secure cookies and HSTS when
served over TLS, and ``manage.py check --deploy`` clean in distributed mode."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.support.people import call_make, contact_make

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def _csp(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def test_dashboard_pages_carry_the_policy(admin_client_agent, admin_agent, settings):
    call = call_make(admin_agent)
    contact = contact_make("Ada", "Lovelace", "+14155550100")
    pages = ["/", "/calls/", f"/calls/{call.pk}/", "/contacts/", f"/contacts/{contact.pk}/",
             "/contacts/new/", "/ops/"]
    for path in pages:
        response = admin_client_agent.get(path)
        assert response.status_code == 200, path
        csp = _csp(response)
        assert csp["default-src"] == ["'self'"], path
        assert csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"]
        assert set(csp["connect-src"]) == {"'self'", "ws:", "wss:"}
        assert csp["form-action"] == ["'self'", settings.RC_SERVER_URL.rstrip("/")]
        assert csp["frame-ancestors"] == ["'none'"]
        assert "'unsafe-inline'" not in response["Content-Security-Policy"]
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        html = response.content.decode()
        # What the policy would block: inline scripts, <style> blocks, style="" attributes,
        # inline event handlers.
        # (A JSON data block, <script type="application/json">, is not run: allowed.)
        assert not re.search(r"<script(?![^>]*\b(src=|type=\"application/json\"))[^>]*>",
                             html), path
        assert "<style" not in html and ' style="' not in html, path
        assert not re.search(r"\son[a-z]+=\"", html), path


def test_signin_page_policy_lets_the_form_reach_ringcentral(client, settings):
    settings.SECURE_SSL_REDIRECT = False
    response = client.get("/auth/signin/")
    assert response.status_code == 200
    assert settings.RC_SERVER_URL.rstrip("/") in _csp(response)["form-action"]


def test_over_tls_cookies_are_secure_and_hsts_is_sent(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Plain HTTP is sent to HTTPS (the webhook and /healthz stay reachable for the LB).
    plain = client.get("/auth/signin/")
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    # Behind the TLS-terminating proxy (X-Forwarded-Proto: https).
    page = client.get("/auth/signin/", HTTP_X_FORWARDED_PROTO="https")
    assert page.status_code == 200
    assert page["Strict-Transport-Security"].startswith("max-age=31536000")
    start = client.post("/auth/start/", {"next": "/"}, HTTP_X_FORWARDED_PROTO="https")
    assert start.status_code == 302
    session_cookie = start.cookies[settings.SESSION_COOKIE_NAME]
    assert session_cookie["secure"] and session_cookie["httponly"]
    assert session_cookie["samesite"].lower() == "lax"
    csrf_cookie = page.cookies.get(settings.CSRF_COOKIE_NAME)
    if csrf_cookie is not None:
        assert csrf_cookie["secure"]


def test_check_deploy_is_clean_in_distributed_mode():
    # Distributed mode as docker-compose runs it; the deploy checks need no connection.
    env = {
        **os.environ,
        "DATABASE_URL": os.environ.get("DATABASE_URL")
        or "postgres://postgres@127.0.0.1:5432/crm_cti",
        "REDIS_URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "RC_ACCOUNT_ID": "400000001",
        "ALLOWED_HOSTS": "crm.example.com",
    }
    for name in ("DEBUG", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
                 "SECURE_HSTS_SECONDS"):
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
