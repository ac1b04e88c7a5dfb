"""Secrets that embedded mode generates once and keeps under ``var/``, and the checks that
refuse to start a deployment without the secrets it must be given."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from cryptography.fernet import Fernet


def load_or_create_key(path: Path, *, kind: Literal["django", "fernet"]) -> str:
    """Return the key stored at ``path``, creating it (mode 0600) on first use.

    A restart must keep the same keys: a new secret key would sign everybody out and a new
    token key would make every stored RingCentral token unreadable.
    """
    if path.exists():
        return path.read_text().strip()
    key = Fernet.generate_key().decode() if kind == "fernet" else secrets.token_urlsafe(50)
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: if two processes start at once, the loser reads the winner's key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


# The registered app of the bundled sandbox (crm_cti/sandbox/config.py): fine for a trial
# against the sandbox, meaningless (and public) anywhere else.
DEMO_CLIENT_ID = "crm-cti-demo-client"
DEMO_CLIENT_SECRET = "crm-cti-demo-secret"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def is_sandbox_server(server_url: str, *, sandbox_hosts: list[str]) -> bool:
    """Whether ``server_url`` is the bundled sandbox: plain HTTP on loopback or on one of
    ``RC_SANDBOX_HOSTS`` (docker-compose's ``sandbox`` service). RingCentral itself is only
    ever served over HTTPS."""
    parts = urlsplit(server_url)
    host = (parts.hostname or "").lower()
    return parts.scheme == "http" and (
        host in LOOPBACK_HOSTS or host in {h.strip().lower() for h in sandbox_hosts}
    )


def deployment_problems(
    *,
    distributed: bool,
    debug: bool,
    secret_key: str,
    token_encryption_key: str,
    account_id: str,
    server_url: str,
    client_id: str,
    client_secret: str,
    sandbox_hosts: list[str],
) -> list[str]:
    """What keeps these settings from running a real deployment (empty when nothing does).

    In distributed mode every process must be given the same keys: a key generated per
    process signs sessions no other web process accepts and encrypts tokens the worker
    cannot read.
    """
    problems = []
    if distributed:
        if not secret_key:
            problems.append(
                "SECRET_KEY is not set: in distributed mode every web process must share one."
            )
        if not token_encryption_key:
            problems.append(
                "TOKEN_ENCRYPTION_KEY is not set: in distributed mode web, worker and beat "
                "must share one Fernet key (python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())')."
            )
        if not debug and not account_id:
            problems.append(
                "RC_ACCOUNT_ID is not set: the RingCentral account whose users may sign in."
            )
    demo = client_id == DEMO_CLIENT_ID or client_secret == DEMO_CLIENT_SECRET
    if demo and not is_sandbox_server(server_url, sandbox_hosts=sandbox_hosts):
        problems.append(
            f"RC_SERVER_URL is {server_url}, not the bundled sandbox, but RC_CLIENT_ID/"
            "RC_CLIENT_SECRET are the sandbox's demo credentials: set your RingCentral app's."
        )
    return problems
