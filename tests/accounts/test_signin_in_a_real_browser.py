"""Sign-in with RingCentral end to end in headless Chromium: our page, the sandbox's
RingCentral sign-in page, back to the dashboard as the agent; the banner's sign-in link
after the session died; sign-out."""

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


def test_banner_link_signs_the_agent_back_in_where_they_were(page, live_app, rc):
    page.goto("/auth/signin/?next=/contacts/")
    page.click("#signin-ringcentral")
    ringcentral_signin(page, rc, extension="104")
    page.wait_for_url(f"{live_app.url}/contacts/")
    assert page.locator(".signin-banner").count() == 0

    Agent.objects.filter(rc_extension_id="400000104").update(needs_signin=True)
    page.reload()
    banner = page.locator(".signin-banner")
    assert banner.is_visible()
    banner.get_by_role("link", name="Sign in with RingCentral").click()
    ringcentral_signin(page, rc, extension="104")

    page.wait_for_url(f"{live_app.url}/contacts/")
    assert page.locator(".signin-banner").count() == 0
    assert Agent.objects.get(rc_extension_id="400000104").needs_signin is False
