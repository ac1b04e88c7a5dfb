"""A notification without a ``Verification-Token``, with a wrong one, with another
subscription's, or for a subscription we do not know is refused, and nothing of it is kept
as a valid event."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from crm_cti.telephony.models import Call, Subscription, TelephonyEvent

pytestmark = pytest.mark.django_db

WEBHOOK = "/webhooks/ringcentral/"


@pytest.fixture
def subscriptions(db):
    ours = Subscription.objects.create(rc_id="sub-a", verification_token="token-a" * 4,
                                       status="Active")
    other = Subscription.objects.create(rc_id="sub-b", verification_token="token-b" * 4,
                                        status="Active")
    return ours, other


def _event(subscription_id: str) -> bytes:
    return json.dumps({
        "uuid": f"evt-{subscription_id}", "subscriptionId": subscription_id,
        "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "body": {"extensionId": "400000102", "sequence": 1, "telephonyStatus": "Ringing",
                 "activeCalls": [{"sessionId": "s1", "direction": "Inbound",
                                  "telephonyStatus": "Ringing", "from": "+14155550100",
                                  "to": "+16505550102"}]},
    }).encode()


@pytest.mark.parametrize(
    ("subscription_id", "token", "expected"),
    [
        ("sub-a", None, 401),                    # no Verification-Token at all
        ("sub-a", "", 401),                      # empty
        ("sub-a", "token-a", 401),               # a prefix of the right one
        ("sub-a", "token-b" * 4, 403),           # another subscription's token
        ("sub-zzz", "token-a" * 4, 403),         # a subscription we never created
        ("", "wrong", 401),                      # no subscription id, unknown token
    ],
)
def test_refused_and_nothing_kept(client, subscriptions, subscription_id, token, expected):
    headers = {} if token is None else {"HTTP_VERIFICATION_TOKEN": token}
    response = client.generic("POST", WEBHOOK, _event(subscription_id),
                              content_type="application/json", **headers)
    assert response.status_code == expected
    assert len(response.content) < 1024  # small answers, no error page
    assert not TelephonyEvent.objects.exists() and not Call.objects.exists()


def test_the_right_token_is_accepted(client, subscriptions):
    response = client.generic("POST", WEBHOOK, _event("sub-a"), content_type="application/json",
                              HTTP_VERIFICATION_TOKEN="token-a" * 4)
    assert response.status_code == 200
    assert TelephonyEvent.objects.get().subscription.rc_id == "sub-a"
