"""Nothing set gives embedded mode; DATABASE_URL + REDIS_URL give distributed mode."""

from __future__ import annotations

import subprocess
import sys

from .helpers import ROOT, clean_env, settings_in_subprocess

NAMES = (
    "RUN_MODE", "DATABASES", "CHANNEL_LAYERS", "CELERY_BROKER_URL",
    "CELERY_TASK_ALWAYS_EAGER", "SECRET_KEY", "TOKEN_ENCRYPTION_KEY", "DEBUG",
    "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE",
)


def test_nothing_set_is_embedded_mode_with_sqlite_under_var(tmp_path):
    s = settings_in_subprocess(clean_env(VAR_DIR=str(tmp_path)), *NAMES)
    assert s["RUN_MODE"] == "embedded"
    assert "sqlite3" in s["DATABASES"] and str(tmp_path / "crm_cti.sqlite3") in s["DATABASES"]
    assert "InMemoryChannelLayer" in s["CHANNEL_LAYERS"]
    assert s["CELERY_BROKER_URL"] == "memory://"
    assert s["CELERY_TASK_ALWAYS_EAGER"] == "True"
    # DEBUG is off unless asked for (the demo asks); a local run still works over plain
    # HTTP on 127.0.0.1: no redirect to HTTPS, no Secure-only session cookie.
    assert s["DEBUG"] == "False"
    assert s["SECURE_SSL_REDIRECT"] == "False" and s["SESSION_COOKIE_SECURE"] == "False"


def test_embedded_mode_served_to_other_hosts_expects_tls(tmp_path):
    s = settings_in_subprocess(
        clean_env(VAR_DIR=str(tmp_path), ALLOWED_HOSTS="crm.example.com"), *NAMES
    )
    assert s["DEBUG"] == "False" and s["SECURE_SSL_REDIRECT"] == "True"


def test_embedded_mode_generates_keys_once_and_keeps_them(tmp_path):
    first = settings_in_subprocess(clean_env(VAR_DIR=str(tmp_path)), *NAMES)
    second = settings_in_subprocess(clean_env(VAR_DIR=str(tmp_path)), *NAMES)
    assert len(first["SECRET_KEY"]) >= 50
    assert first["SECRET_KEY"] == second["SECRET_KEY"]
    assert first["TOKEN_ENCRYPTION_KEY"] == second["TOKEN_ENCRYPTION_KEY"]
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0, "key files are private"


# Distributed mode refuses to start without these (tests/security/
# test_distributed_mode_refuses_to_start_without_shared_keys.py).
DEPLOYMENT = {
    "SECRET_KEY": "a-shared-secret-key-for-these-tests-only-0123456789-xyz",
    "TOKEN_ENCRYPTION_KEY": "kR6Yt2h0mVZ0o8uZ1oJ6f2nQ3p0cL9bq4vX5sYw7aE8=",
    "RC_ACCOUNT_ID": "400000001",
}


def test_database_and_redis_urls_give_distributed_mode(tmp_path):
    env = clean_env(
        VAR_DIR=str(tmp_path),
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/crm_cti",
        REDIS_URL="redis://127.0.0.1:6379/0",
        **DEPLOYMENT,
    )
    s = settings_in_subprocess(env, *NAMES)
    assert s["RUN_MODE"] == "distributed"
    # Django's PostgreSQL backend, with the pool's check of crm_cti/db_pool.py.
    assert "'ENGINE': 'crm_cti.postgres'" in s["DATABASES"]
    assert "RedisChannelLayer" in s["CHANNEL_LAYERS"]
    assert s["CELERY_BROKER_URL"] == "redis://127.0.0.1:6379/0"
    assert s["CELERY_TASK_ALWAYS_EAGER"] == "False"
    assert s["DEBUG"] == "False"
    assert s["SECURE_SSL_REDIRECT"] == "True" and s["SESSION_COOKIE_SECURE"] == "True"


def test_check_deploy_is_clean_in_distributed_mode_with_debug_off(tmp_path):
    env = clean_env(
        VAR_DIR=str(tmp_path),
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/crm_cti",
        REDIS_URL="redis://127.0.0.1:6379/0",
        DJANGO_SETTINGS_MODULE="crm_cti.settings",
        **DEPLOYMENT,
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
