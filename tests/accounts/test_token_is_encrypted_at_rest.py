"""The stored RingCentral tokens are ciphertext: the row never holds a token in clear."""

from __future__ import annotations

import hashlib

import pytest
from django.db import connection

from crm_cti.accounts.crypto import decrypt_token
from crm_cti.accounts.models import RingCentralToken
from tests.accounts.signin_helpers import sign_in

pytestmark = pytest.mark.django_db


def test_row_holds_ciphertext_of_the_live_tokens(rc, client):
    sign_in(client, username="102")
    table = RingCentralToken._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT access_token_encrypted, refresh_token_encrypted FROM {table}"
        )
        rows = cursor.fetchall()
    assert len(rows) == 1
    access_cipher, refresh_cipher = rows[0]

    access, refresh = decrypt_token(access_cipher), decrypt_token(refresh_cipher)
    live = [t for t in rc.tokens() if t["owner_id"] == "400000102" and t["status"] == "active"]
    assert [t["access_sha256"] for t in live] == [hashlib.sha256(access.encode()).hexdigest()]
    assert [t["refresh_sha256"] for t in live] == [hashlib.sha256(refresh.encode()).hexdigest()]

    raw_row = " ".join(str(v) for v in RingCentralToken.objects.values().get().values())
    assert access not in raw_row
    assert refresh not in raw_row
    assert access[:16] not in raw_row


def test_a_different_key_cannot_read_the_row(rc, client, settings):
    from cryptography.fernet import Fernet, InvalidToken

    sign_in(client, username="102")
    cipher = RingCentralToken.objects.get().access_token_encrypted
    settings.TOKEN_ENCRYPTION_KEY = Fernet.generate_key().decode()
    with pytest.raises(InvalidToken):
        decrypt_token(cipher)
