"""GET /healthz really checks the database, the channel layer and the broker."""

from __future__ import annotations

import pytest
import requests
from django.test import Client

from tests.support.people import agent_create
from tests.support.stack import free_port, process_env

from .helpers import clean_env, serve


def _shared_keys() -> dict[str, str]:
    # Distributed mode refuses to start without the keys its processes share.
    from django.conf import settings

    return {"SECRET_KEY": settings.SECRET_KEY,
            "TOKEN_ENCRYPTION_KEY": settings.TOKEN_ENCRYPTION_KEY,
            "RC_ACCOUNT_ID": settings.RC_ACCOUNT_ID or "400000001"}


def test_healthz_ok_in_embedded_mode(tmp_path):
    proc, base = serve(clean_env(VAR_DIR=str(tmp_path)), "healthz-embedded")
    try:
        response = requests.get(base + "/healthz", timeout=10)
    finally:
        proc.stop()
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok" and body["mode"] == "embedded"
    # The web process serves the in-memory broker with its own worker thread.
    assert body["checks"]["broker"]["detail"] == "in-process worker"
    assert body["checks"]["channel_layer"]["detail"] == "InMemoryChannelLayer"
    assert body["checks"]["database"]["detail"] == "sqlite"


@pytest.mark.integration
def test_healthz_ok_in_distributed_mode_against_real_postgres_and_redis(
    tmp_path, postgres_url, redis_url
):
    env = clean_env(VAR_DIR=str(tmp_path), DATABASE_URL=postgres_url, REDIS_URL=redis_url,
                    **_shared_keys())
    proc, base = serve(env, "healthz-distributed")
    try:
        response = requests.get(base + "/healthz", timeout=10)
    finally:
        proc.stop()
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["mode"] == "distributed"
    assert body["checks"]["database"]["detail"] == "postgresql"
    assert body["checks"]["channel_layer"]["detail"] == "RedisChannelLayer"
    assert body["checks"]["broker"] == {"ok": True, "detail": "redis"}


@pytest.mark.integration
def test_healthz_503_names_what_failed_when_redis_is_unreachable(tmp_path, postgres_url):
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    env = clean_env(VAR_DIR=str(tmp_path), DATABASE_URL=postgres_url, REDIS_URL=dead_redis,
                    **_shared_keys())
    proc, base = serve(env, "healthz-no-redis")
    try:
        response = requests.get(base + "/healthz", timeout=30)
    finally:
        proc.stop()
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["failed"] == ["broker", "channel_layer"]
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.integration
def test_a_failing_check_tells_the_public_only_that_it_failed(transactional_db, settings):
    """Exception text names hosts, ports and users: /healthz says "failed", the operations
    page (admins) says why."""
    if not settings.DISTRIBUTED:
        pytest.skip("needs distributed mode (DATABASE_URL and REDIS_URL): Redis is cut here")
    dead_port = free_port()
    # This test's database and keys (a session made here is valid there), Redis unreachable.
    proc, base = serve(process_env(REDIS_URL=f"redis://127.0.0.1:{dead_port}/0"),
                       "healthz-private")
    try:
        response = requests.get(base + "/healthz", timeout=30)
        admin = agent_create(extension="101", admin=True)
        client = Client()
        client.force_login(admin.user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        ops = requests.get(base + "/ops/", cookies={settings.SESSION_COOKIE_NAME: cookie},
                           timeout=30)
    finally:
        proc.stop()
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["broker"] == {"ok": False, "detail": "failed"}
    assert body["checks"]["channel_layer"] == {"ok": False, "detail": "failed"}
    assert str(dead_port) not in response.text and "Error" not in response.text
    assert ops.status_code == 200, ops.text[:500]
    assert str(dead_port) in ops.text  # the reason, for admins
