"""Sign-in with RingCentral end to end in headless Chromium: our page, the sandbox's
RingCentral sign-in page, back to the dashboard as the agent; back to the sign-in page
after the RingCentral session died, and where they were once signed in again; sign-out."""

from __future__ import annotations

import pytest

from crm_cti.accounts.models import Agent, RingCentralToken
from tests.accounts.signin_helpers import PASSWORD

pytestmark = pytest.mark.browser

@pytest.fixture
def page(chromium, live_app, rc):
    context = chromium.new_context(base_url=live_app.url)
    context.set_default_timeout(20_000)
    yield context.new_page()
    context.close()


def ringcentral_signin(page, rc, *, extension: str) -> None:
    page.wait_for_url(f"{rc.url}/restapi/oauth/authorize**")
    page.fill("#username", extension)
    page.fill("#password", PASSWORD)
    page.click("#signin")


def test_sign_in_lands_on_the_dashboard_as_the_agent(page, live_app, rc):
    page.goto("/auth/signin/")
    page.click("#signin-ringcentral")
    ringcentral_signin(page, rc, extension="103")

    page.wait_for_url(f"{live_app.url}/")
    assert "Priya Shah" in page.locator(".whoami").inner_text()
    agent = Agent.objects.get(rc_extension_id="400000103")
    assert agent.extension_number == "103"
    assert RingCentralToken.objects.filter(agent=agent).exists()

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live_app.url}/auth/signin/")
    assert page.locator("#signin-ringcentral").is_visible()
    assert [t["status"] for t in rc.tokens() if t["owner_id"] == "400000103"] == ["revoked"]
    assert not RingCentralToken.objects.filter(agent=agent).exists()


def test_a_dead_session_sends_the_agent_to_sign_in_and_back_where_they_were(page, live_app, rc):
    page.goto("/auth/signin/?next=/contacts/")
    page.click("#signin-ringcentral")
    ringcentral_signin(page, rc, extension="104")
    page.wait_for_url(f"{live_app.url}/contacts/")

    # The RingCentral session died: no data page until they sign in again.
    Agent.objects.filter(rc_extension_id="400000104").update(needs_signin=True)
    page.reload()
    page.wait_for_url(f"{live_app.url}/auth/signin/?next=%2Fcontacts%2F")
    assert "Your RingCentral session has ended" in page.locator("main").inner_text()
    page.click("#signin-ringcentral")
    ringcentral_signin(page, rc, extension="104")

    page.wait_for_url(f"{live_app.url}/contacts/")
    assert Agent.objects.get(rc_extension_id="400000104").needs_signin is False
