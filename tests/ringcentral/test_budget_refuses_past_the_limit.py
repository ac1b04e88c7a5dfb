"""The shared budget: per user and group, fed by X-Rate-Limit-* headers and 429 penalties,
the same in one process (embedded) and across processes (Redis)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import pytest

from crm_cti.ringcentral import budget
from crm_cti.ringcentral.budget import (
    budget_observe,
    budget_take,
    budget_wait_seconds,
)


@pytest.fixture(params=["memory", "redis"])
def store_mode(request, settings):
    if request.param == "redis":
        settings.REDIS_URL = request.getfixturevalue("redis_url")
    else:
        settings.REDIS_URL = ""
    return request.param


def user() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"


def test_heavy_budget_refuses_the_eleventh_request_in_a_minute(store_mode):
    u = user()
    for _ in range(10):
        assert budget_take(user_key=u, group="Heavy") == 0
    wait = budget_take(user_key=u, group="Heavy")
    assert 0 < wait <= 60
    assert budget_wait_seconds(user_key=u, group="Heavy") > 0
    # Other groups and other users have their own budgets.
    assert budget_take(user_key=u, group="Light") == 0
    assert budget_take(user_key=user(), group="Heavy") == 0


def test_a_429_blocks_the_group_for_retry_after(store_mode):
    u = user()
    sent = time.time()
    budget_observe(
        user_key=u,
        group="Medium",
        status=429,
        headers={"Retry-After": "42", "X-Rate-Limit-Group": "Medium"},
        sent_at=sent,
    )
    wait = budget_wait_seconds(user_key=u, group="Medium")
    assert 40 < wait <= 42
    assert budget_take(user_key=u, group="Medium") > 40
    assert budget_wait_seconds(user_key=u, group="Light") == 0


def test_headers_teach_the_limit_and_remaining(store_mode):
    u = user()
    sent = time.time()
    assert budget_take(user_key=u, group="Light") == 0
    # The platform says this user has a Light limit of 3 and has used all of it.
    budget_observe(
        user_key=u,
        group="Light",
        status=200,
        headers={
            "X-Rate-Limit-Group": "Light",
            "X-Rate-Limit-Limit": "3",
            "X-Rate-Limit-Remaining": "0",
            "X-Rate-Limit-Window": "60",
        },
        sent_at=sent,
    )
    assert budget_take(user_key=u, group="Light") > 0


def test_remaining_from_the_platform_frees_a_budget_it_forgot(store_mode):
    u = user()
    for _ in range(10):
        budget_take(user_key=u, group="Heavy")
    assert budget_wait_seconds(user_key=u, group="Heavy") > 0
    # The platform says only one request of the window is counted (its window moved on).
    budget_observe(
        user_key=u,
        group="Heavy",
        status=200,
        headers={"X-Rate-Limit-Limit": "10", "X-Rate-Limit-Remaining": "9"},
        sent_at=time.time(),
    )
    assert budget_wait_seconds(user_key=u, group="Heavy") == 0


def test_a_penalty_seen_by_one_process_stops_another(redis_url, settings):
    settings.REDIS_URL = redis_url
    u = user()
    budget_observe(
        user_key=u, group="Heavy", status=429, headers={"Retry-After": "30"}, sent_at=time.time()
    )
    code = (
        "import django, os; django.setup();"
        "from crm_cti.ringcentral.budget import budget_wait_seconds;"
        f"print(budget_wait_seconds(user_key={u!r}, group='Heavy'))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crm_cti.settings",
        "REDIS_URL": redis_url,
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/unused",
        # Distributed mode refuses to start without its shared keys and account.
        "SECRET_KEY": settings.SECRET_KEY,
        "TOKEN_ENCRYPTION_KEY": settings.TOKEN_ENCRYPTION_KEY,
        "RC_ACCOUNT_ID": settings.RC_ACCOUNT_ID or "400000001",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert 25 < float(out.stdout.strip().splitlines()[-1]) <= 30


def test_budget_reset_forgets_everything(store_mode):
    u = user()
    budget_observe(
        user_key=u, group="Auth", status=429, headers={"Retry-After": "60"}, sent_at=time.time()
    )
    budget.budget_reset()
    assert budget_wait_seconds(user_key=u, group="Auth") == 0
