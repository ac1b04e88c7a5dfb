"""Distributed mode refuses to start without the secrets every process must share.

Before, each process generated its own ``SECRET_KEY`` and ``TOKEN_ENCRYPTION_KEY`` under
its own ``var/``: a token the web encrypted could not be read by the worker (which then
deleted it). Now web, worker and beat stop at start-up with ``ImproperlyConfigured`` saying
what is missing, and so does any process given the sandbox's demo client credentials for
a server that is not the sandbox."""

from __future__ import annotations

import subprocess
import sys

import pytest
from cryptography.fernet import Fernet

from tests.foundation.helpers import ROOT, clean_env

SETUP = "import django; django.setup(); print('started')"
DISTRIBUTED = {
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/crm_cti",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}
COMPLETE = {
    "SECRET_KEY": "a-shared-secret-key-for-these-tests-only-0123456789-xyz",
    "TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    "RC_ACCOUNT_ID": "400000001",
}


def start(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        list(args) or [sys.executable, "-c", SETUP],
        cwd=ROOT,
        env=clean_env(VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="crm_cti.settings",
                      **env),
        capture_output=True, text=True, timeout=120,
    )


@pytest.mark.parametrize("missing", sorted(COMPLETE))
def test_distributed_mode_without_a_shared_setting_refuses_to_start(tmp_path, missing):
    env = {**DISTRIBUTED, **COMPLETE}
    del env[missing]
    result = start(tmp_path, **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and f"{missing} is not set" in result.stderr
    assert "started" not in result.stdout
    assert not (tmp_path / "secret_key").exists() and not (tmp_path / "token_key").exists()


def test_with_them_it_starts_and_generates_nothing(tmp_path):
    result = start(tmp_path, **DISTRIBUTED, **COMPLETE)
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "secret_key").exists() and not (tmp_path / "token_key").exists()


def test_the_web_process_itself_refuses(tmp_path):
    result = start(tmp_path, sys.executable, "-m", "uvicorn", "crm_cti.asgi:application",
                   "--port", "0", **DISTRIBUTED)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_embedded_mode_still_generates_its_keys(tmp_path):
    assert start(tmp_path).returncode == 0
    assert (tmp_path / "secret_key").exists() and (tmp_path / "token_key").exists()


@pytest.mark.parametrize("server", ["https://platform.ringcentral.com",
                                    "https://platform.devtest.ringcentral.com",
                                    "http://sandbox:8900"])
def test_demo_client_credentials_are_refused_for_any_other_server(tmp_path, server):
    result = start(tmp_path, RC_SERVER_URL=server)
    assert result.returncode != 0
    assert "demo credentials" in result.stderr
    own = start(tmp_path, RC_SERVER_URL=server, RC_CLIENT_ID="my-app",
                RC_CLIENT_SECRET="my-secret")
    assert own.returncode == 0, own.stderr


@pytest.mark.parametrize("server,hosts", [("http://127.0.0.1:8900", ""),
                                          ("http://localhost:8900", ""),
                                          ("http://sandbox:8900", "sandbox")])
def test_demo_client_credentials_work_against_the_sandbox(tmp_path, server, hosts):
    result = start(tmp_path, RC_SERVER_URL=server, RC_SANDBOX_HOSTS=hosts)
    assert result.returncode == 0, result.stderr
