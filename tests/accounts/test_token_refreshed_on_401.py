"""A 401 on a token we believed valid triggers one refresh and one retry."""

from __future__ import annotations

import pytest

from crm_cti.accounts.crypto import decrypt_token
from crm_cti.accounts.models import Agent, RingCentralToken
from crm_cti.accounts.services import client_for_agent
from crm_cti.ringcentral.errors import NeedsSignIn
from tests.accounts.signin_helpers import sign_in

pytestmark = pytest.mark.django_db


def refresh_grants(rc) -> int:
    return int(rc.stats()["token_grants"].get("refresh_token", 0))


def test_401_refreshes_then_succeeds(rc, client):
    sign_in(client, username="102")
    agent = Agent.objects.get(rc_extension_id="400000102")
    old = decrypt_token(RingCentralToken.objects.get().access_token_encrypted)
    once = {"method": "GET", "path_contains": "/extension/~", "status": 401, "times": 1}
    rc.config(faults=[once])

    assert str(client_for_agent(agent).get_extension()["id"]) == "400000102"

    assert refresh_grants(rc) == 1
    assert decrypt_token(RingCentralToken.objects.get().access_token_encrypted) != old
    agent.refresh_from_db()
    assert agent.needs_signin is False


def test_401_after_a_fresh_refresh_is_needs_signin_without_a_loop(rc, client):
    sign_in(client, username="102")
    agent = Agent.objects.get(rc_extension_id="400000102")
    rc.config(faults=[{"method": "GET", "path_contains": "/extension/~", "status": 401}])

    with pytest.raises(NeedsSignIn):
        client_for_agent(agent).get_extension()

    assert refresh_grants(rc) == 1  # one refresh, one retry, then a typed error
