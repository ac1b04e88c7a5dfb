"""Bad webhook input over real HTTP (uvicorn): the right status, nothing processed, logged."""

import json

import pytest
import requests

from crm_cti.telephony.models import Call, Subscription, TelephonyEvent
from tests.telephony.conftest import fixture_events

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def _post(pipeline, body: bytes, token: str | None):
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Verification-Token"] = token
    return requests.post(pipeline.url + "/webhooks/ringcentral/", data=body, headers=headers,
                         timeout=10)


def test_bad_input_is_refused_and_logged(pipeline):
    sub = Subscription.objects.create(rc_id="sub-e2e", verification_token="tok-e2e",
                                      status="Active")
    event = {"subscriptionId": sub.rc_id, **fixture_events("seed_answered_inbound")[0]}
    good = json.dumps(event).encode()
    missing = dict(event, body={k: v for k, v in event["body"].items() if k != "sequence"})
    huge = json.dumps(dict(event, padding="x" * (1024 * 1024))).encode()
    unknown = json.dumps(dict(event, subscriptionId="sub-nobody")).encode()
    cases = [
        (good, "wrong-token", 401),
        (good, None, 401),
        (unknown, "tok-e2e", 403),
        (b'{"uuid": ', "tok-e2e", 400),
        (json.dumps(missing).encode(), "tok-e2e", 400),
        (huge, "tok-e2e", 413),
    ]
    for body, token, status in cases:
        assert _post(pipeline, body, token).status_code == status, (status, body[:80])
    assert TelephonyEvent.objects.count() == 0
    assert Call.objects.count() == 0
    log = pipeline.stack.app.process.log_path.read_text(errors="replace")
    for status in (401, 403, 400, 413):
        assert f"webhook rejected ({status})" in log
    # And the same delivery with the right token is accepted.
    assert _post(pipeline, good, "tok-e2e").status_code == 200
