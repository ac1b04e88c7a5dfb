"""A stored token that this process's ``TOKEN_ENCRYPTION_KEY`` cannot open (a worker started
with another key than the web that stored it) is a configuration error: logged loudly,
raised as ``TokenUnreadable``, and the token is kept and the agent is not sent to sign in
again. A process with the right key goes on using it."""

from __future__ import annotations

import logging

import pytest
from cryptography.fernet import Fernet

from crm_cti.accounts.models import Agent, RingCentralToken
from crm_cti.accounts.services import client_for_agent
from crm_cti.accounts.tokens import TokenUnreadable
from crm_cti.ringcentral.errors import NeedsSignIn, RingCentralError
from tests.accounts.signin_helpers import sign_in

pytestmark = pytest.mark.django_db


def test_a_token_under_another_key_is_a_loud_configuration_error(rc, client, settings, caplog):
    sign_in(client, username="102")
    agent = Agent.objects.get(rc_extension_id="400000102")
    stored = RingCentralToken.objects.get(agent=agent)
    web_key = settings.TOKEN_ENCRYPTION_KEY

    # The "worker": same database, a key of its own.
    settings.TOKEN_ENCRYPTION_KEY = Fernet.generate_key().decode()
    with (
        caplog.at_level(logging.ERROR, logger="crm_cti.accounts.tokens"),
        pytest.raises(TokenUnreadable) as raised,
    ):
        client_for_agent(agent).get_extension()
    assert isinstance(raised.value, RingCentralError)
    assert not isinstance(raised.value, NeedsSignIn)
    assert any(
        "TOKEN_ENCRYPTION_KEY differs" in r.getMessage() and r.levelno >= logging.ERROR
        for r in caplog.records
    )
    # Nothing lost: the row is as it was and the agent is not told to sign in again.
    kept = RingCentralToken.objects.get(agent=agent)
    assert kept.access_token_encrypted == stored.access_token_encrypted
    assert kept.refresh_token_encrypted == stored.refresh_token_encrypted
    assert Agent.objects.get(pk=agent.pk).needs_signin is False
    # Again and again: still kept (the old code deleted it on the first refresh attempt).
    with pytest.raises(TokenUnreadable):
        client_for_agent(agent).get_extension()
    assert RingCentralToken.objects.filter(agent=agent).exists()

    # With the right key the same token works.
    settings.TOKEN_ENCRYPTION_KEY = web_key
    assert client_for_agent(agent).get_extension()["extensionNumber"] == "102"
