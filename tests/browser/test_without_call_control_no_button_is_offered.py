"""crm_cti registered as the sandbox's second app, which lacks the CallControl permission: the
agent's cards and click-to-dial menus offer no call-control button and no "My phone", and
an endpoint asked anyway says why."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from crm_cti.accounts.models import Agent
from crm_cti.telephony.models import Call
from tests.accounts.signin_helpers import PASSWORD
from tests.support.people import call_make, contact_make
from tests.support.stack import LiveApp, start_live_app

LIMITED_APP = {"RC_CLIENT_ID": "crm-cti-no-callcontrol-client",
               "RC_CLIENT_SECRET": "crm-cti-no-callcontrol-secret"}


@pytest.fixture(scope="module")
def limited_app(django_db_setup, sandbox) -> Iterator[LiveApp]:
    app = start_live_app(name="limited_app", extra_env={
        "RC_SERVER_URL": sandbox.url, "CELERY_QUEUE": f"limited-{os.getpid()}", **LIMITED_APP})
    yield app
    app.process.stop()


@pytest.fixture
def live_app(limited_app: LiveApp, transactional_db) -> LiveApp:
    """This module's app (the ``browser`` fixture opens its pages)."""
    limited_app.process.assert_alive()
    return limited_app


def test_no_call_control_button_anywhere_and_the_api_says_why(browser, rc_sandbox, live_app):
    page = browser.new_page()
    page.goto("/auth/signin/")
    page.click("#signin-ringcentral")
    page.wait_for_url(f"{rc_sandbox.url}/**")
    page.fill("#username", "102")
    page.fill("#password", PASSWORD)
    page.click("#signin")
    page.wait_for_url(f"{live_app.url}/")
    assert page.evaluate("document.body.dataset.callControl") is None
    # A live call on the dashboard: its card, with no call-control button.
    agent = Agent.objects.get(extension_number="102")
    call_make(agent, state=Call.State.CONNECTED, telephony_session_id="s-1", ended_at=None,
              duration=None)
    page.reload()
    card = page.locator("#cards .card[data-state='connected']")
    card.wait_for()
    assert card.locator("[data-call-actions]").is_hidden()
    assert card.locator("[data-call-actions] button").count() == 0
    assert card.get_by_role("button", name="Call back").is_visible()
    # Click-to-dial offers RingOut and the links, not "My phone".
    contact = contact_make("Grace", "Lin", "+16505550110")
    page.goto(f"/contacts/{contact.pk}/")
    phone = page.locator(".contact-phone").first
    assert phone.get_by_role("button", name="Call (650) 555-0110 with RingOut").is_visible()
    assert phone.locator("[data-callout]").is_hidden()
    answer = page.evaluate("""fetch('/api/callcontrol/devices/').then(r => r.json())""")
    assert answer["error"] == ("This app was not granted the CallControl permission in "
                               "RingCentral: calls can be watched but not controlled from "
                               "crm_cti.")
    # The refusal the page asked for is the only error the browser logged (its 403 and the
    # console's line about it).
    assert len(browser.errors) == 2, browser.errors
    assert any("HTTP 403 for" in e and "/api/callcontrol/devices/" in e for e in browser.errors)
    assert any("status of 403" in e for e in browser.errors)
    browser.errors.clear()
