"""Helpers to replay RingCentral notifications through the real webhook view.

Fixture files in tests/fixtures/events/*.json hold ``{"description", "extension_id",
"events": [...]}``; ``webhook.replay(name)`` posts each event as RingCentral would (with
the subscription id and verification token of a stored subscription).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from asgiref.testing import ApplicationCommunicator
from django.test import Client

from crm_cti.telephony.models import Call, Subscription
from tests.support.people import (  # noqa: F401 - fixtures
    admin_agent,
    agent,
    agent_client,
    agent_create,
    contact_make,
    other_agent,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "events"
WEBHOOK_PATH = "/webhooks/ringcentral/"


def fixture_events(name: str) -> list[dict[str, Any]]:
    data = json.loads((FIXTURES / f"{name}.json").read_text())
    return data["events"]


@dataclass
class Webhook:
    client: Client
    subscription: Subscription

    def post(self, payload: Any, *, token: str | None = None, raw: bytes | None = None,
             with_subscription: bool = True):
        if isinstance(payload, dict) and with_subscription:
            payload = {"subscriptionId": self.subscription.rc_id, **payload}
        body = raw if raw is not None else json.dumps(payload).encode()
        headers = {
            "HTTP_VERIFICATION_TOKEN": (
                self.subscription.verification_token if token is None else token
            )
        }
        return self.client.generic(
            "POST", WEBHOOK_PATH, body, content_type="application/json", **headers
        )

    def replay(self, name_or_events: str | list[dict[str, Any]]) -> list[int]:
        events = (
            fixture_events(name_or_events)
            if isinstance(name_or_events, str)
            else name_or_events
        )
        statuses = []
        for event in events:
            statuses.append(self.post(copy.deepcopy(event)).status_code)
        return statuses


@pytest.fixture(autouse=True)
def _plain_http(settings):
    # Distributed mode defaults to HTTPS redirects; the test client speaks plain HTTP.
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture
def subscription(db) -> Subscription:
    return Subscription.objects.create(
        rc_id="sub-test-1",
        verification_token="verify-me-0123456789",
        status="Active",
        event_filters=["/restapi/v1.0/account/~/extension/~/presence?detailedTelephonyState=true"],
    )


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """Run Celery tasks inline, in both modes: replay tests read the result right away."""
    from crm_cti.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def webhook(client, subscription, eager_tasks) -> Webhook:
    return Webhook(client=client, subscription=subscription)


def calls_state() -> list[tuple]:
    """Every call as a comparable tuple (what a replay must reproduce exactly)."""
    return [
        (
            c.rc_extension_id, c.session_id, c.direction, c.state, c.from_number, c.to_number,
            c.started_at, c.answered_at, c.ended_at, c.duration, c.contact_id, c.agent_id,
        )
        for c in Call.objects.order_by("rc_extension_id", "session_id")
    ]


class WebsocketCommunicator(ApplicationCommunicator):
    """Drive an ASGI websocket consumer in-process (channels.testing needs daphne)."""

    def __init__(self, application: Any, path: str, *, user: Any, query: str = "") -> None:
        scope = {
            "type": "websocket",
            "path": path,
            "query_string": query.encode(),
            "headers": [],
            "subprotocols": [],
            "user": user,
        }
        super().__init__(application, scope)

    async def connect(self, timeout: float = 5) -> tuple[bool, int | None]:
        await self.send_input({"type": "websocket.connect"})
        message = await self.receive_output(timeout)
        if message["type"] == "websocket.close":
            return False, message.get("code", 1000)
        return True, None

    async def receive_json_from(self, timeout: float = 5) -> Any:
        message = await self.receive_output(timeout)
        assert message["type"] == "websocket.send", message
        return json.loads(message["text"])

    async def disconnect(self, code: int = 1000, timeout: float = 5) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": code})
        await self.wait(timeout)


from tests.telephony.pipeline import pipeline, pipeline_stack  # noqa: E402,F401 - fixtures
