"""A task goes through Redis to a real worker process and its result comes back."""

from __future__ import annotations

import uuid

import pytest
from django.core.cache import cache

from crm_cti.ops.tasks import HEARTBEAT_CACHE_KEY, worker_heartbeat

pytestmark = pytest.mark.integration


def test_task_round_trip_through_a_real_worker_on_redis(celery_worker):
    token = uuid.uuid4().hex
    result = worker_heartbeat.delay(token).get(timeout=30)
    assert result["token"] == token
    # The worker wrote to the shared cache (Redis), which this process reads back.
    assert cache.get(HEARTBEAT_CACHE_KEY)["token"] == token
