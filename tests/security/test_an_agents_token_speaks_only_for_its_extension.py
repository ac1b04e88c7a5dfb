"""An agent's subscription (extension mode) is about that agent's extension only: with its
verification token, an event whose ``body.extensionId`` or ``event`` path names another
extension is refused (403) and stored nowhere. And a delivery whose timestamp is days old,
or ahead of our clock, is refused (400) whoever sends it: a captured delivery cannot be
replayed later."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from crm_cti.telephony.models import Call, Subscription, TelephonyEvent
from tests.support.people import eager_tasks  # noqa: F401 - fixture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]

WEBHOOK = "/webhooks/ringcentral/"
TOKEN = "agent-102-verification-token-0123456789"


def _path(extension_id: str) -> str:
    return (f"/restapi/v1.0/account/400000001/extension/{extension_id}/presence"
            "?detailedTelephonyState=true")


def _event(*, extension_id: str, event_path: str | None, at: datetime | None = None,
           subscription_id: str = "sub-agent") -> dict[str, Any]:
    at = at or datetime.now(UTC)
    event: dict[str, Any] = {
        "uuid": uuid.uuid4().hex, "subscriptionId": subscription_id,
        "timestamp": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "body": {"extensionId": extension_id, "sequence": 1, "telephonyStatus": "Ringing",
                 "activeCalls": [{"sessionId": "s1", "direction": "Inbound",
                                  "telephonyStatus": "Ringing", "from": "+14155550100",
                                  "to": "+16505550102"}]},
    }
    if event_path is not None:
        event["event"] = event_path
    return event


def _post(client, event: dict[str, Any], token: str = TOKEN):
    return client.generic("POST", WEBHOOK, json.dumps(event).encode(),
                          content_type="application/json", HTTP_VERIFICATION_TOKEN=token)


@pytest.fixture
def agents_subscription(agent, other_agent) -> Subscription:
    return Subscription.objects.create(
        rc_id="sub-agent", mode=Subscription.Mode.EXTENSION, agent=agent,
        verification_token=TOKEN, status="Active",
    )


def _nothing_kept() -> bool:
    return not TelephonyEvent.objects.exists() and not Call.objects.exists()


def test_its_own_extension_is_accepted(client, agent, agents_subscription):
    response = _post(client, _event(extension_id=agent.rc_extension_id,
                                    event_path=_path(agent.rc_extension_id)))
    assert response.status_code == 200, response.content
    assert TelephonyEvent.objects.get().rc_extension_id == agent.rc_extension_id


@pytest.mark.parametrize(
    ("body_is", "path_is"),
    [
        ("other", "other"),   # a forged event for another agent
        ("other", "own"),     # the path says ours, the body is someone else's
        ("own", "other"),     # the body says ours, the path is someone else's
        ("own", None),        # no path at all
        ("own", "garbage"),   # not a presence path
    ],
)
def test_another_extension_is_refused_and_not_kept(
    client, agent, other_agent, agents_subscription, body_is, path_is
):
    ids = {"own": agent.rc_extension_id, "other": other_agent.rc_extension_id}
    path = {None: None, "garbage": "/restapi/v1.0/account/~/telephony/sessions",
            "own": _path(ids["own"]), "other": _path(ids["other"])}[path_is]
    response = _post(client, _event(extension_id=ids[body_is], event_path=path))
    assert response.status_code == 403, response.content
    assert len(response.content) < 1024
    assert _nothing_kept()


def test_the_account_subscription_speaks_for_every_extension(client, agent, other_agent):
    Subscription.objects.create(rc_id="sub-account", mode=Subscription.Mode.ACCOUNT,
                                verification_token="account-token-0123456789", status="")
    for extension in (agent.rc_extension_id, other_agent.rc_extension_id):
        event = _event(extension_id=extension, event_path=_path(extension),
                       subscription_id="sub-account")
        assert _post(client, event, token="account-token-0123456789").status_code == 200
    assert TelephonyEvent.objects.count() == 2


@pytest.mark.parametrize(
    "age",
    [timedelta(days=3), timedelta(days=1, minutes=5), timedelta(hours=-1)],
    ids=["days-old", "just-over-a-day", "an-hour-ahead"],
)
def test_a_stale_or_future_delivery_is_refused(client, agent, agents_subscription, age):
    event = _event(extension_id=agent.rc_extension_id, event_path=_path(agent.rc_extension_id),
                   at=datetime.now(UTC) - age)
    response = _post(client, event)
    assert response.status_code == 400, response.content
    assert b"timestamp" in response.content
    assert _nothing_kept()


@pytest.mark.parametrize("timestamp", [None, "", "yesterday", "9999-12-31T23:59:59Z",
                                       "0001-01-01T00:00:00Z"])
def test_a_missing_or_absurd_timestamp_is_refused(client, agent, agents_subscription,
                                                  timestamp):
    event = _event(extension_id=agent.rc_extension_id, event_path=_path(agent.rc_extension_id))
    if timestamp is None:
        del event["timestamp"]
    else:
        event["timestamp"] = timestamp
    assert _post(client, event).status_code == 400
    assert _nothing_kept()


def test_the_window_is_a_setting(client, agent, agents_subscription, settings):
    settings.WEBHOOK_MAX_EVENT_AGE_SECONDS = 7 * 24 * 3600
    settings.WEBHOOK_MAX_CLOCK_SKEW_SECONDS = 2 * 3600
    for age in (timedelta(days=3), timedelta(hours=-1)):
        event = _event(extension_id=agent.rc_extension_id,
                       event_path=_path(agent.rc_extension_id), at=datetime.now(UTC) - age)
        assert _post(client, event).status_code == 200
