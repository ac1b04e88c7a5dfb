"""A wrong Verification-Token or an unknown subscription is refused and nothing is kept."""

import logging

from crm_cti.telephony.models import Call, TelephonyEvent
from tests.telephony.conftest import fixture_events


def test_wrong_token_is_401_and_processes_nothing(webhook, caplog):
    event = fixture_events("seed_missed_inbound")[0]
    with caplog.at_level(logging.WARNING, logger="crm_cti.telephony.webhook.ingest"):
        response = webhook.post(event, token="not-the-token")
    assert response.status_code == 401
    assert TelephonyEvent.objects.count() == 0
    assert Call.objects.count() == 0
    assert "wrong Verification-Token" in caplog.text


def test_missing_token_is_401(webhook):
    event = fixture_events("seed_missed_inbound")[0]
    response = webhook.post(event, token="")
    assert response.status_code == 401
    assert TelephonyEvent.objects.count() == 0


def test_unknown_subscription_is_403(webhook, caplog):
    event = {"subscriptionId": "sub-nobody-knows", **fixture_events("seed_missed_inbound")[0]}
    with caplog.at_level(logging.WARNING, logger="crm_cti.telephony.webhook.ingest"):
        response = webhook.post(event, with_subscription=False)
    assert response.status_code == 403
    assert TelephonyEvent.objects.count() == 0
    assert Call.objects.count() == 0
    assert "unknown subscription" in caplog.text


def test_right_token_is_200_with_a_tiny_body(webhook):
    response = webhook.post(fixture_events("seed_missed_inbound")[0])
    assert response.status_code == 200
    assert len(response.content) < 100
    assert TelephonyEvent.objects.count() == 1
