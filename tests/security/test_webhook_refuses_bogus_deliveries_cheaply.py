"""The webhook refuses what is not a notification before it costs anything: the
``Verification-Token`` is looked up (by its hash) before the body is parsed, unknown tokens
and subscription ids are remembered for a few seconds so a flood of them runs no query,
a body not sent as ``application/json`` is 415, and JSON that would overflow the parser's
stack (200,000 times ``[``) or is nested deeper than a notification ever is gets a 400, not
a 500."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm_cti.telephony.models import Subscription, TelephonyEvent
from crm_cti.telephony.notifications import MAX_JSON_DEPTH
from tests.support.people import eager_tasks  # noqa: F401 - fixture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]

WEBHOOK = "/webhooks/ringcentral/"
TOKEN = "bogus-test-verification-token-0123456789"


@pytest.fixture
def subscription(db) -> Subscription:
    return Subscription.objects.create(rc_id="sub-cheap", verification_token=TOKEN,
                                       status="Active")


def _event(**extra) -> bytes:
    return json.dumps({
        "uuid": uuid.uuid4().hex, "subscriptionId": "sub-cheap",
        "event": "/restapi/v1.0/account/~/extension/400000102/presence",
        "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "body": {"extensionId": "400000102", "sequence": 1, "telephonyStatus": "Ringing",
                 "activeCalls": [{"sessionId": "s1", "direction": "Inbound",
                                  "telephonyStatus": "Ringing", "from": "+14155550100",
                                  "to": "+16505550102"}]},
        **extra,
    }).encode()


def _post(client, body: bytes, *, token: str = TOKEN, content_type: str = "application/json"):
    return client.generic("POST", WEBHOOK, body, content_type=content_type,
                          HTTP_VERIFICATION_TOKEN=token)


@pytest.mark.parametrize(
    "body",
    [b"[" * 200_000, b'{"a":' * 50_000, b"[" * 1_000 + b"]" * 1_000, b"1" * 5_000],
    ids=["brackets", "objects", "a-thousand-deep", "a-5000-digit-number"],
)
def test_deep_or_huge_json_is_400(client, subscription, body):
    response = _post(client, body)
    assert response.status_code == 400, response.content
    assert not TelephonyEvent.objects.exists()


def test_nesting_deeper_than_a_notification_is_400_even_when_it_parses(client, subscription):
    deep: object = "x"
    for _ in range(MAX_JSON_DEPTH + 5):
        deep = [deep]
    response = _post(client, _event(extra=deep))
    assert response.status_code == 400
    assert b"nested deeper" in response.content
    assert _post(client, _event(extra=[[["shallow"]]])).status_code == 200


def test_an_unknown_token_is_refused_before_the_body_is_read(client, subscription):
    # Not parsed at all: malformed JSON from a stranger is a 401, not a 400.
    assert _post(client, b'{"not json', token="nobody-knows-this").status_code == 401
    assert _post(client, b"[" * 200_000, token="nobody-knows-this").status_code == 401


def test_a_flood_of_unknown_tokens_runs_no_query_per_delivery(client, subscription):
    assert _post(client, _event(), token="flood-token").status_code == 401
    with CaptureQueriesContext(connection) as queries:
        for _ in range(20):
            assert _post(client, _event(), token="flood-token").status_code == 401
    webhook_queries = [q for q in queries.captured_queries
                       if "telephony_subscription" in q["sql"]]
    assert webhook_queries == []


def test_a_flood_for_an_unknown_subscription_id_runs_no_query_per_delivery(client,
                                                                           subscription):
    assert _post(client, _event(subscriptionId="sub-nobody")).status_code == 403
    with CaptureQueriesContext(connection) as queries:
        for _ in range(20):
            assert _post(client, _event(subscriptionId="sub-nobody")).status_code == 403
    assert [q for q in queries.captured_queries if "telephony_subscription" in q["sql"]] == []
    # The right id is still accepted at once.
    assert _post(client, _event()).status_code == 200


def test_a_delivery_that_beats_the_creation_response_is_adopted(client, db):
    pending = Subscription.objects.create(rc_id="", verification_token="pending-token-01234")
    body = _event(subscriptionId="sub-from-the-platform")
    assert _post(client, body, token="pending-token-01234").status_code == 200
    pending.refresh_from_db()
    assert pending.rc_id == "sub-from-the-platform"
    assert TelephonyEvent.objects.get().subscription == pending


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("application/json", 200),
        ("application/json; charset=UTF-8", 200),   # what the official SDKs send
        ("Application/JSON", 200),
        ("text/plain", 415),
        ("application/x-www-form-urlencoded", 415),
        ("application/jsonp", 415),
        ("", 415),
    ],
)
def test_only_json_is_taken(client, subscription, content_type, expected):
    response = _post(client, _event(), content_type=content_type)
    assert response.status_code == expected, response.content
    assert TelephonyEvent.objects.exists() == (expected == 200)


def test_a_token_that_is_not_ascii_is_refused_not_a_500(client, subscription):
    # hmac.compare_digest refuses str with non-ASCII characters (TypeError): compared as bytes.
    assert _post(client, _event(), token="tök€n-ñot-ascii").status_code == 401
    assert _post(client, _event(), token=TOKEN + "é").status_code == 401
