"""Messaging tests: agents signed in against the sandbox, message events posted through the
real webhook view as the platform posts them."""

from __future__ import annotations

import json
import uuid as uuidlib
from datetime import UTC, datetime
from typing import Any

import pytest

from crm_cti.accounts.models import Agent
from crm_cti.telephony.models import Subscription
from tests.accounts.signin_helpers import rc, sign_in  # noqa: F401 - fixture
from tests.support.people import eager_tasks, plain_http  # noqa: F401 - fixtures

WEBHOOK_PATH = "/webhooks/ringcentral/"
CUSTOMER = "+16504445567"


def signed_in(client, username: str = "102") -> Agent:
    response = sign_in(client, username=username)
    assert response.status_code == 302, response.content[:300]
    return Agent.objects.get(extension_number=username)


def inbound_sms(sandbox, extension: str, text: str, sender: str = CUSTOMER) -> dict[str, Any]:
    """A person texts the extension (the sandbox's control API); the stored record."""
    response = sandbox.http.post("/sandbox/sms", json={"extension": extension, "from": sender,
                                                       "text": text})
    assert response.status_code == 201, response.text
    return response.json()


def sandbox_store(sandbox, extension: str) -> list[dict[str, Any]]:
    response = sandbox.http.get("/sandbox/message-store", params={"extension": extension})
    assert response.status_code == 200, response.text
    return response.json()


def subscription_for(agent: Agent) -> Subscription:
    sub, _ = Subscription.objects.update_or_create(
        agent=agent,
        defaults={"rc_id": f"sub-msg-{agent.pk}", "status": "Active",
                  "verification_token": f"verify-messages-{agent.pk}-0123456789",
                  "event_filters": ["/restapi/v1.0/account/~/extension/~/message-store"]},
    )
    return sub


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def instant_event(agent: Agent, record: dict[str, Any], *, uuid: str | None = None) -> dict:
    """The instant SMS notification the platform sends for ``record``."""
    body = {k: v for k, v in record.items() if k not in ("uri", "extensionId", "call")}
    body["ownerId"] = agent.rc_extension_id
    return {
        "uuid": uuid or str(uuidlib.uuid4()),
        "event": f"/restapi/v1.0/account/~/extension/{agent.rc_extension_id}"
                 "/message-store/instant?type=SMS",
        "timestamp": _now(),
        "body": body,
    }


def change_event(agent: Agent, *, kind: str = "SMS", new_ids: list[str] | None = None,
                 uuid: str | None = None) -> dict:
    """A message-store change notification."""
    change: dict[str, Any] = {"type": kind, "newCount": len(new_ids or []),
                              "updatedCount": 0 if new_ids else 1}
    if new_ids:
        change["newMessageIds"] = [int(i) for i in new_ids]
    return {
        "uuid": uuid or str(uuidlib.uuid4()),
        "event": f"/restapi/v1.0/account/~/extension/{agent.rc_extension_id}/message-store",
        "timestamp": _now(),
        "body": {"extensionId": agent.rc_extension_id, "lastUpdated": _now(),
                 "changes": [change]},
    }


def webhook_post(client, sub: Subscription, payload: dict[str, Any]):
    body = json.dumps({"subscriptionId": sub.rc_id, **payload}).encode()
    return client.generic("POST", WEBHOOK_PATH, body, content_type="application/json",
                          HTTP_VERIFICATION_TOKEN=sub.verification_token)


@pytest.fixture
def settings_messaging(settings):
    # Sign-in must not try to create a webhook subscription the sandbox cannot reach.
    settings.SUBSCRIBE_ON_SIGNIN = False
    return settings


# The telephony suite's webhook replay (an account-level subscription, tasks inline).
from tests.telephony.conftest import subscription, webhook  # noqa: E402, F401 - fixtures
from tests.telephony.pipeline import pipeline, pipeline_stack  # noqa: E402, F401 - fixtures


def voicemail_audio_streams(client, voicemail) -> None:
    """The voicemail's audio as a browser asks for it: whole (audio/mpeg, a real file) and
    from byte 100 on (206, exactly the rest, its Content-Range said)."""
    url = f"/voicemail/{voicemail.pk}/audio/"
    audio = client.get(url)
    assert audio.status_code == 200 and audio["Content-Type"] == "audio/mpeg"
    whole = b"".join(audio.streaming_content)
    assert len(whole) > 1000
    part = client.get(url, HTTP_RANGE="bytes=100-")
    assert part.status_code == 206
    assert b"".join(part.streaming_content) == whole[100:]
    assert part["Content-Range"].startswith("bytes 100-")
