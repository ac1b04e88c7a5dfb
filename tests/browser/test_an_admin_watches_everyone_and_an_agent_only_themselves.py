"""Watching in the browser: an admin's dashboard at ``/?agent=all`` says so and pops every
agent's calls; an agent asking for someone else's dashboard is refused (403, as the socket
would close with 4403), and an SMS RingCentral refuses shows the one refusal message."""

from crm_cti.accounts.models import Agent
from tests.browser.conftest import sign_in
from tests.support.people import contact_make


def test_an_admin_watches_every_agent(browser, rc_sandbox, live_app):
    admin = browser.new_page()
    sign_in(admin, rc_sandbox, live_app, extension="101")
    agent = browser.new_page()
    sign_in(agent, rc_sandbox, live_app, extension="102")

    admin.goto("/?agent=all")
    assert "Watching the calls of every agent" in admin.locator("#watching").inner_text()
    admin.wait_for_selector("#conn[data-state='open']")
    call = rc_sandbox.start_call("interactive", extension="102", from_="+16504445567")
    admin.locator("#cards .card").first.wait_for()
    agent.locator("#cards .card").first.wait_for()
    rc_sandbox.call_action(call["sessionId"], "hangup")
    admin.wait_for_selector("#cards .card[data-state='missed'], #cards .card[data-state='ended']")

    admin_id = Agent.objects.get(extension_number="101").pk
    # (Asked with the context's session outside the page: a 403 page is logged as an error.)
    assert agent.request.get(f"/?agent={admin_id}").status == 403
    assert agent.request.get("/?agent=all").status == 403
    assert agent.request.get(f"/api/calls/live/?agent={admin_id}").status == 403


def test_a_refused_sms_shows_the_one_message(browser, rc_sandbox, live_app):
    contact = contact_make("Phillip", "Marco", "+16504445567")
    page = browser.new_page()
    sign_in(page, rc_sandbox, live_app, extension="102")
    rc_sandbox.config(faults=[{"method": "POST", "path_contains": "/sms", "status": 503}])
    page.goto(f"/contacts/{contact.pk}/")
    sms = page.locator("form.sms-form")
    sms.get_by_label("Message").fill("Your order shipped today.")
    sms.get_by_role("button", name="Send SMS").click()
    page.wait_for_function(
        "() => document.querySelector('form.sms-form [data-error-for=__all__]')"
        ".textContent.length > 0"
    )
    refusal = sms.locator("[data-error-for=__all__]").inner_text().strip()
    assert refusal == "RingCentral is not answering; try again."
    assert rc_sandbox.messages() == []
