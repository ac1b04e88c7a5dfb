"""Security suite: every promise of issue 8's "Security" list, tested over the real views,
consumers and the sandbox (no mocks of our own code)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.accounts.signin_helpers import rc  # noqa: F401 - fixture
from tests.support.people import (  # noqa: F401 - fixtures
    admin_agent,
    admin_client_agent,
    agent,
    agent_client,
    other_agent,
)
from tests.support.stack import LOG_DIR


def all_routes() -> list[tuple[str, Any]]:
    """Every URL pattern of the product as (route, view), the admin site excepted."""
    found: list[tuple[str, Any]] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if str(pattern.pattern) == "admin/":
                    continue
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                found.append((prefix + str(pattern.pattern), pattern.callback))

    walk(get_resolver().url_patterns, "/")
    return found


@pytest.fixture(autouse=True)
def _plain_http(settings):
    # The test client speaks plain HTTP whatever mode the suite runs in; the TLS behaviour
    # has its own test (test_security_headers.py).
    settings.SECURE_SSL_REDIRECT = False


def pytest_sessionfinish(session):
    """Write how many bad inputs the fuzz tests tried (docs/RELIABILITY.md)."""
    import json
    import sys

    fuzz = sys.modules.get("tests.security.test_fuzz_webhook_and_tracker")
    if fuzz is None or not any(fuzz.TRIED.values()):
        return
    path = LOG_DIR / "security-figures.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"fuzz_examples": fuzz.TRIED}, indent=2))
