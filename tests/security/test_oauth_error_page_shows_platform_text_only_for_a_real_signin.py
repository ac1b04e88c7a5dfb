"""The OAuth callback's error page repeats RingCentral's ``error_description`` only for a
sign-in this browser started (a valid pending ``state``): a crafted link cannot make our
page say what its author wants."""

from __future__ import annotations

import pytest

from tests.accounts.signin_helpers import start_signin

pytestmark = pytest.mark.django_db

BAIT = "Your account is locked. Call +1 900 555 0199 to unlock it"


@pytest.mark.parametrize("state", ["", "forged-state", None])
def test_a_link_without_a_valid_state_shows_none_of_its_text(client, state):
    query = {"error": "server_error", "error_description": BAIT}
    if state is not None:
        query["state"] = state
    response = client.get("/auth/callback/", query)
    assert response.status_code == 400
    page = response.content.decode()
    assert "This sign-in link is not valid" in page
    assert "900 555 0199" not in page and "server_error" not in page


def test_access_denied_without_a_valid_state_is_just_an_invalid_link(client):
    response = client.get("/auth/callback/", {"error": "access_denied", "state": "nope"})
    assert response.status_code == 400
    assert "This sign-in link is not valid" in response.content.decode()


def test_a_real_pending_signin_shows_the_platforms_words(rc, client):
    authorize = start_signin(client)
    state = dict(p.split("=", 1) for p in authorize.split("?", 1)[1].split("&"))["state"]
    response = client.get("/auth/callback/", {"state": state, "error": "server_error",
                                              "error_description": "Temporary failure"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "RingCentral did not sign you in" in page
    assert "Temporary failure" in page
