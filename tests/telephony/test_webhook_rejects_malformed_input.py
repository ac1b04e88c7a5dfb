"""Malformed JSON, missing fields and oversized bodies get a 4xx, are logged, keep nothing."""

import copy
import logging

import pytest

from crm_cti.telephony.models import Call, TelephonyEvent
from tests.telephony.conftest import fixture_events


def _event():
    return copy.deepcopy(fixture_events("seed_answered_inbound")[0])


def _assert_nothing_kept():
    assert TelephonyEvent.objects.count() == 0
    assert Call.objects.count() == 0


def test_malformed_json_is_400(webhook, caplog):
    with caplog.at_level(logging.WARNING, logger="crm_cti.telephony.webhook.ingest"):
        response = webhook.post(None, raw=b'{"uuid": "x", "body": {')
    assert response.status_code == 400
    assert "malformed JSON" in caplog.text
    _assert_nothing_kept()


def _without(path: str):
    event = _event()
    node = event
    keys = path.split(".")
    for key in keys[:-1]:
        node = node[int(key)] if key.isdigit() else node[key]
    last = keys[-1]
    del node[int(last) if last.isdigit() else last]
    return event


@pytest.mark.parametrize(
    "path",
    [
        "uuid",
        "body",
        "body.extensionId",
        "body.sequence",
        "body.activeCalls.0.sessionId",
        "body.activeCalls.0.telephonyStatus",
        "body.activeCalls.0.direction",
    ],
)
def test_missing_field_is_400(webhook, caplog, path):
    with caplog.at_level(logging.WARNING, logger="crm_cti.telephony.webhook.ingest"):
        response = webhook.post(_without(path))
    assert response.status_code == 400, path
    assert "webhook rejected (400)" in caplog.text
    _assert_nothing_kept()


def test_no_calls_and_no_status_is_400(webhook):
    event = _event()
    del event["body"]["activeCalls"]
    del event["body"]["telephonyStatus"]
    assert webhook.post(event).status_code == 400
    _assert_nothing_kept()


def test_json_that_is_not_an_object_is_400(webhook):
    assert webhook.post(None, raw=b"[1, 2, 3]").status_code == 400
    _assert_nothing_kept()


def test_one_megabyte_body_is_413(webhook, caplog):
    event = _event()
    event["padding"] = "x" * (1024 * 1024)
    with caplog.at_level(logging.WARNING, logger="crm_cti.telephony.webhook.ingest"):
        response = webhook.post(event)
    assert response.status_code == 413
    assert "webhook rejected (413)" in caplog.text
    _assert_nothing_kept()
