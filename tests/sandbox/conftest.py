"""Fixtures for the sandbox's own tests: a webhook receiver, API clients per extension."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.sandbox.receiver import Receiver
from tests.support.sandbox import SandboxProcess

PRESENCE = "/restapi/v1.0/account/~/extension/~/presence?detailedTelephonyState=true"
ACCOUNT_PRESENCE = "/restapi/v1.0/account/~/presence?detailedTelephonyState=true"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    yield running
    running.stop()


@pytest.fixture
def agent(fresh_sandbox: SandboxProcess) -> Iterator[httpx.Client]:
    """API client signed in as agent 102."""
    with fresh_sandbox.api("102") as client:
        yield client


@pytest.fixture
def admin(fresh_sandbox: SandboxProcess) -> Iterator[httpx.Client]:
    """API client signed in as admin 101."""
    with fresh_sandbox.api("101") as client:
        yield client


def subscribe(client: httpx.Client, receiver: Receiver, filters: list[str] | None = None,
              token: str = "verify-me") -> dict:
    response = client.post("/restapi/v1.0/subscription", json={
        "eventFilters": filters or [PRESENCE],
        "deliveryMode": {"transportType": "WebHook", "address": receiver.url,
                         "verificationToken": token},
        "expiresIn": 3600,
    })
    assert response.status_code == 200, response.text
    return response.json()
