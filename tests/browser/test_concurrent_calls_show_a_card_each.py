"""Concurrent calls: one pop card each, updating independently; the dashboard screenshot
for the README is taken here (test-artifacts/dashboard.png)."""

import pytest
from django.core.management import call_command

from crm_cti.accounts.models import Agent
from crm_cti.telephony.models import CallLogSync
from tests.browser.conftest import sign_in

# serial: beside other tests on two cores a third card showed once; alone never.
pytestmark = pytest.mark.serial


def test_two_calls_two_cards(browser, rc_sandbox, live_app, artifacts):
    call_command("seed_demo", verbosity=0)
    rc_sandbox.inject_call_log("102", 25, seed=3, days=3)
    page = browser.new_page()
    sign_in(page, rc_sandbox, live_app, extension="102")
    agent = Agent.objects.get(extension_number="102")
    rc_sandbox.wait_for(
        lambda: CallLogSync.objects.filter(agent=agent, synced_until__isnull=False).exists(),
        timeout=60,
    )
    page.reload()
    page.wait_for_selector("#conn[data-state='open']")

    known = rc_sandbox.start_call("interactive", extension="102", from_="+16504445567")
    page.wait_for_selector("#cards .card .card-title:text('Phillip Marco')")
    rc_sandbox.call_action(known["sessionId"], "answer")
    page.wait_for_selector("#cards .card[data-state='connected']")
    unknown = rc_sandbox.start_call("interactive", extension="102", from_="+14155550177")
    page.wait_for_selector("#cards .card .card-title:text('Unknown caller')")

    cards = page.locator("#cards .card")
    assert cards.count() == 2
    states = {
        cards.nth(i).locator(".card-title").inner_text(): cards.nth(i).get_attribute("data-state")
        for i in range(2)
    }
    assert states == {"Phillip Marco": "connected", "Unknown caller": "ringing"}
    assert page.locator("#live-count").inner_text() == "2"
    page.locator("#cards .card[data-state='connected'] textarea[name=notes]").fill(
        "Reorder of the spring catalogue; wants delivery before the 15th."
    )
    page.wait_for_function(
        "() => document.querySelector('#cards .card[data-state=connected] [data-f=timer]')"
        ".textContent >= '0:02'"
    )
    page.screenshot(path=str(artifacts / "dashboard.png"))

    rc_sandbox.call_action(unknown["sessionId"], "hangup")
    page.wait_for_selector("#cards .card[data-state='missed']")
    # The other card is untouched.
    assert page.locator("#cards .card[data-state='connected']").count() == 1
    rc_sandbox.call_action(known["sessionId"], "hangup")
    page.wait_for_selector("#cards .card[data-state='ended']")
