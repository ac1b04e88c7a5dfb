"""A 429 from RingCentral becomes ``RateLimited`` with ``retry_after``, and no request of
that group is sent until it passes; other groups carry on."""

from __future__ import annotations

import time

import pytest

from crm_cti.ringcentral.budget import WINDOW_MARGIN_SECONDS, budget_wait_seconds
from crm_cti.ringcentral.errors import RateLimited


def heavy_sent(rc) -> int:
    return int(rc.stats()["requests"].get("Heavy", 0))


def test_the_budget_stops_before_the_platform_would_throttle(rc, rc_client):
    rc.config(rate_limits={"Heavy": 3, "window": 3, "penalty": 3})
    sent_before = heavy_sent(rc)
    with pytest.raises(RateLimited) as refused:
        for _ in range(10):
            rc_client.list_call_log()
    # Learnt from X-Rate-Limit-* headers: refused unsent, before any 429.
    assert refused.value.sent is False
    assert refused.value.group == "Heavy"
    # The window the platform announced plus the margin for the request's travel time.
    assert 0 < refused.value.retry_after <= 3 + WINDOW_MARGIN_SECONDS
    assert heavy_sent(rc) - sent_before <= 3
    assert rc.stats()["throttled"].get("Heavy", 0) == 0


def test_a_429_from_the_platform_is_typed_and_honoured(rc, rc_client):
    rc.config(rate_limits={"Heavy": 3, "penalty": 60})
    # Someone else acting as the same user of the same app spends the Heavy budget.
    with rc.api("102") as other:
        remaining = None
        while remaining != "0":
            answer = other.get("/restapi/v1.0/account/~/extension/~/call-log")
            assert answer.status_code == 200
            remaining = answer.headers["X-Rate-Limit-Remaining"]
    with pytest.raises(RateLimited) as throttled:
        rc_client.list_call_log()
    assert throttled.value.sent is True
    assert throttled.value.status == 429
    assert throttled.value.error_code == "CMN-301"
    assert 55 < throttled.value.retry_after <= 60
    sent = heavy_sent(rc)

    with pytest.raises(RateLimited) as again:
        rc_client.list_active_calls()  # another Heavy operation
    assert again.value.sent is False
    assert 55 < again.value.retry_after <= 60
    assert heavy_sent(rc) == sent
    assert budget_wait_seconds(user_key=rc_client.user_key, group="Heavy") > 55

    # Light requests are not held back by a Heavy penalty.
    assert str(rc_client.get_extension()["id"]) == "400000102"


def test_requests_resume_when_the_wait_is_over(rc, rc_client):
    rc.config(rate_limits={"Heavy": 1, "window": 2, "penalty": 2})
    with pytest.raises(RateLimited) as refused:
        for _ in range(5):
            rc_client.list_call_log()
    time.sleep(refused.value.retry_after + 0.1)
    assert budget_wait_seconds(user_key=rc_client.user_key, group="Heavy") == 0
    assert "records" in rc_client.list_call_log()
