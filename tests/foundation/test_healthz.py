"""GET /healthz really checks the database, the channel layer and the broker."""

from __future__ import annotations

import pytest
import requests

from tests.support.stack import free_port

from .helpers import clean_env, serve


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
    env = clean_env(VAR_DIR=str(tmp_path), DATABASE_URL=postgres_url, REDIS_URL=redis_url)
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
    env = clean_env(VAR_DIR=str(tmp_path), DATABASE_URL=postgres_url, REDIS_URL=dead_redis)
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
