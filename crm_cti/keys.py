"""Secrets that embedded mode generates once and keeps under ``var/``."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Literal

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
