"""The service credential (RC_JWT, JWT bearer grant) for account-level work."""

from __future__ import annotations

import pytest

from crm_cti.accounts.models import RingCentralToken
from crm_cti.accounts.services import service_client
from crm_cti.ringcentral.errors import NeedsSignIn

pytestmark = pytest.mark.django_db


def jwt_grants(rc) -> int:
    return int(rc.stats()["token_grants"].get("jwt", 0))


def test_no_jwt_no_service_client(rc, settings):
    settings.RC_JWT = ""
    assert service_client() is None


def test_jwt_grant_once_then_reuse_the_stored_token(rc, settings):
    settings.RC_JWT = rc.user("101")["jwt"]  # the admin: account-level calls are allowed

    client = service_client()
    assert client is not None
    assert "records" in client.list_active_calls(account_level=True)
    assert str(client.get_account()["id"]) == "400000001"
    assert jwt_grants(rc) == 1

    again = service_client()
    again.get_extension()
    assert jwt_grants(rc) == 1  # stored, encrypted, reused: never a token per request
    row = RingCentralToken.objects.get()
    assert row.agent is None and row.owner_id == "400000101"
    assert again.user_key == "ext:400000101"


def test_a_dead_service_session_is_replaced_by_a_new_grant(rc, settings):
    settings.RC_JWT = rc.user("101")["jwt"]
    service_client().get_account()
    rc.reset()  # the platform forgot every token (revoked, restarted...)

    assert str(service_client().get_account()["id"]) == "400000001"
    assert jwt_grants(rc) == 1  # counted since the reset


def test_a_refused_jwt_is_needs_signin(rc, settings):
    settings.RC_JWT = "not-a-jwt"
    with pytest.raises(NeedsSignIn):
        service_client().get_account()
