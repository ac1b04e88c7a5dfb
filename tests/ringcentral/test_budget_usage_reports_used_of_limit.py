"""The operations page reads each budget: requests used of the limit, and the wait."""

from __future__ import annotations

import time
import uuid

import pytest

from crm_cti.ringcentral.budget import budget_observe, budget_take, budget_usage


@pytest.fixture(params=["memory", "redis"])
def store_mode(request, settings):
    settings.REDIS_URL = request.getfixturevalue("redis_url") if request.param == "redis" else ""
    return request.param


def test_usage_counts_requests_in_the_window_against_the_limit(store_mode):
    user = f"usage-{uuid.uuid4().hex[:10]}"
    assert budget_usage(user_key=user, group="Heavy").used == 0
    for _ in range(3):
        assert budget_take(user_key=user, group="Heavy") == 0
    usage = budget_usage(user_key=user, group="Heavy")
    assert (usage.used, usage.limit, usage.wait_seconds) == (3, 10, 0)
    # Reading does not spend anything.
    assert budget_usage(user_key=user, group="Heavy").used == 3


def test_usage_follows_the_limit_the_platform_announces_and_its_penalty(store_mode):
    user = f"usage-{uuid.uuid4().hex[:10]}"
    sent = time.time()
    budget_observe(
        user_key=user,
        group="Light",
        status=200,
        headers={"X-Rate-Limit-Group": "Light", "X-Rate-Limit-Limit": "20",
                 "X-Rate-Limit-Remaining": "15", "X-Rate-Limit-Window": "60"},
        sent_at=sent,
    )
    usage = budget_usage(user_key=user, group="Light")
    assert (usage.used, usage.limit) == (5, 20)
    budget_observe(
        user_key=user, group="Light", status=429,
        headers={"Retry-After": "30", "X-Rate-Limit-Group": "Light"}, sent_at=time.time(),
    )
    assert 25 < budget_usage(user_key=user, group="Light").wait_seconds <= 30
