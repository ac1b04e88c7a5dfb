"""Only users of ``RC_ACCOUNT_ID`` get in: a RingCentral user of another account (the
sandbox's second seeded account) is refused with a clear page before anything is created,
and the token RingCentral gave us for them is revoked at once."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from crm_cti.accounts.models import Agent, RingCentralToken, SignInSession
from crm_cti.sandbox.seed import OTHER_ACCOUNT_ID
from tests.accounts.signin_helpers import sign_in

pytestmark = pytest.mark.django_db


def _nothing_stored() -> None:
    assert not Agent.objects.exists()
    assert not get_user_model().objects.exists()
    assert not RingCentralToken.objects.exists()
    assert not SignInSession.objects.exists()


def test_a_user_of_another_account_is_refused_with_a_clear_page(rc, client):
    users = {u["extension_number"] for u in rc.users()}
    assert "201" not in users, "the second account stays out of the main account's users"

    response = sign_in(client, username="201")

    assert response.status_code == 403
    page = response.content.decode()
    assert "This RingCentral account cannot use crm_cti" in page
    assert "belongs to another company" in page
    assert "Try again" in page
    _nothing_stored()
    assert "_auth_user_id" not in client.session
    # The token the platform issued for them is dead already.
    theirs = [t for t in rc.tokens() if t["owner_id"] == "500000201"]
    assert theirs and all(t["status"] == "revoked" for t in theirs)


def test_the_other_accounts_admin_is_refused_too(rc, client):
    assert sign_in(client, username="grace.hopper@other.example.com").status_code == 403
    _nothing_stored()


def test_users_of_the_configured_account_still_get_in(rc, client):
    assert sign_in(client, username="102").status_code == 302
    assert Agent.objects.get().rc_account_id == "400000001"


def test_configured_for_the_other_account_our_users_are_the_strangers(rc, client, settings):
    settings.RC_ACCOUNT_ID = OTHER_ACCOUNT_ID
    assert sign_in(client, username="102").status_code == 403
    _nothing_stored()
    assert sign_in(client, username="202").status_code == 302
    assert Agent.objects.get().rc_account_id == OTHER_ACCOUNT_ID


def test_without_an_account_id_nobody_gets_in_unless_debug(rc, client, settings):
    settings.RC_ACCOUNT_ID = ""
    settings.DEBUG = False
    response = sign_in(client, username="102")
    assert response.status_code == 403
    assert "Sign-in is not set up yet" in response.content.decode()
    assert "RC_ACCOUNT_ID" in response.content.decode()
    _nothing_stored()

    # A local trial (DEBUG on) lets any account in, as before.
    settings.DEBUG = True
    assert sign_in(client, username="201").status_code == 302
