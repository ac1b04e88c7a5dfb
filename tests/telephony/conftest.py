"""Helpers to replay RingCentral notifications through the real webhook view.

Fixture files in tests/fixtures/events/*.json hold ``{"description", "extension_id",
"events": [...]}``; ``webhook.replay(name)`` posts each event as RingCentral would (with
the subscription id and verification token of a stored subscription). ``fixture_events``
moves the recorded times to the last minutes (the webhook refuses stale deliveries).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
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


def _fixture_times(event: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str]]:
    """(object, key) of every time in a notification: its timestamp, its legs' start."""
    yield event, "timestamp"
    body = event.get("body")
    calls = body.get("activeCalls") if isinstance(body, dict) else None
    for leg in calls if isinstance(calls, list) else []:
        if isinstance(leg, dict):
            yield leg, "startTime"


def _fixture_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    with contextlib.suppress(ValueError):
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


@functools.cache
def fixture_shift(name: str) -> timedelta:
    """How far the fixture's times are moved so its last event happened a minute ago (the
    webhook refuses deliveries older than WEBHOOK_MAX_EVENT_AGE_SECONDS). Whole seconds,
    and the same for the whole test run: a flow replayed twice gives the same rows."""
    events = json.loads((FIXTURES / f"{name}.json").read_text())["events"]
    times = [t for e in events for obj, key in _fixture_times(e)
             if (t := _fixture_time(obj.get(key))) is not None]
    if not times:
        return timedelta(0)
    latest = max(times)
    return timedelta(seconds=int((datetime.now(UTC) - timedelta(minutes=1) - latest)
                                 .total_seconds()))


def fixture_events(name: str, *, fresh: bool = True) -> list[dict[str, Any]]:
    """The notifications of a fixture file, with fresh times unless ``fresh=False`` (times
    keep their order and spacing: ``fixture_shift(name)`` says how far they moved)."""
    data = json.loads((FIXTURES / f"{name}.json").read_text())
    events = data["events"]
    if fresh:
        shift = fixture_shift(name)
        for event in events:
            for obj, key in _fixture_times(event):
                when = _fixture_time(obj.get(key))
                if when is not None:
                    obj[key] = (when + shift).astimezone(UTC).isoformat(
                        timespec="milliseconds").replace("+00:00", "Z")
    return events


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
        user = self.scope["user"]
        if "session" not in self.scope and getattr(user, "is_authenticated", False):
            # The browser's socket carries its stored session; the consumer closes one whose
            # session is gone (a sign-out elsewhere).
            self.scope["session"] = await sync_to_async(signed_in_session)(user)
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


def signed_in_session(user: Any) -> Any:
    """A stored Django session signed in as ``user``, like the one a browser's socket sends."""
    from importlib import import_module

    from django.conf import settings

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store["_auth_user_id"] = str(user.pk)
    store.create()
    return store


from tests.telephony.pipeline import pipeline, pipeline_stack  # noqa: E402,F401 - fixtures
