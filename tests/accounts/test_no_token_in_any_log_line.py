"""No access or refresh token appears in any log line, even at DEBUG, through sign-in,
API calls, a refresh and sign-out."""

from __future__ import annotations

import logging
import time

import pytest

from crm_cti.accounts.crypto import decrypt_token
from crm_cti.accounts.models import Agent, RingCentralToken
from crm_cti.accounts.services import client_for_agent
from tests.accounts.signin_helpers import sign_in

pytestmark = pytest.mark.django_db


def current_tokens() -> list[str]:
    row = RingCentralToken.objects.get()
    return [decrypt_token(row.access_token_encrypted), decrypt_token(row.refresh_token_encrypted)]


def test_tokens_never_logged(rc, client, caplog):
    caplog.set_level(logging.DEBUG)
    rc.config(access_token_ttl=2)
    seen: list[str] = []

    sign_in(client, username="102")
    seen += current_tokens()
    rc.config(access_token_ttl=3600)
    agent = Agent.objects.get(rc_extension_id="400000102")
    client_for_agent(agent).get_extension()
    time.sleep(2.2)
    client_for_agent(agent).list_call_log()  # refreshes first
    seen += current_tokens()
    client.post("/auth/signout/")

    assert len(set(seen)) == 4
    assert "refreshed RingCentral token" in caplog.text  # DEBUG/INFO logging did happen
    text = caplog.text + "\n".join(
        f"{r.getMessage()} {r.exc_text or ''} {r.args!r}" for r in caplog.records
    )
    for token in seen:
        assert token not in text
        assert token[:20] not in text
