"""Encryption at rest of RingCentral tokens (Fernet from ``cryptography``).

``TOKEN_ENCRYPTION_KEY`` may list several keys separated by commas: the first encrypts,
all decrypt, so a key can be rotated without signing everybody out.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

__all__ = ["InvalidToken", "decrypt_token", "encrypt_token"]


@lru_cache(maxsize=4)
def _fernet(keys: str) -> MultiFernet:
    return MultiFernet([Fernet(k.strip().encode()) for k in keys.split(",") if k.strip()])


def encrypt_token(value: str) -> str:
    return _fernet(settings.TOKEN_ENCRYPTION_KEY).encrypt(value.encode()).decode()


def decrypt_token(value: str) -> str:
    """Raises ``InvalidToken`` when no configured key opens ``value`` (the key changed)."""
    return _fernet(settings.TOKEN_ENCRYPTION_KEY).decrypt(value.encode()).decode()
