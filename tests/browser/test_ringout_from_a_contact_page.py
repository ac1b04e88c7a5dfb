"""RingOut from a contact page: the agent picks their "from" number once, the panel shows
both legs progressing, and the call can be cancelled while the callee rings."""

from crm_cti.accounts.models import Agent
from tests.browser.conftest import CuttableSocket, sign_in
from tests.support.people import contact_make


def test_ringout_shows_legs_and_can_be_cancelled(browser, rc_sandbox, live_app):
    # Half speed: the callee rings for 8 s, time enough to see it and cancel.
    rc_sandbox.config(speed=0.5)
    contact = contact_make("Grace", "Lin", "+16505550110", company="Northwind Traders")
    page = browser.new_page()
    sign_in(page, rc_sandbox, live_app, extension="102")
    page.goto(f"/contacts/{contact.pk}/")

    page.locator(".contact-phone button[data-ringout]").first.click()
    # First time: pick the phone RingOut rings first; it is remembered.
    dialog = page.locator("#ringout-from-dialog")
    dialog.wait_for()
    dialog.get_by_label("(650) 555-0102").check()
    dialog.get_by_role("button", name="Save").click()
    panel = page.locator("#ringout-panel")
    panel.wait_for()
    assert "(650) 555-0110" in panel.locator("[data-ro=to]").inner_text()

    # Leg 1 (the agent's phone) connects, then leg 2 (the callee) rings.
    page.wait_for_selector("#ringout-panel [data-ro=caller]:text('Success')")
    assert panel.locator("[data-ro=callee]").inner_text() in ("InProgress", "—")
    cancel = panel.get_by_role("button", name="Cancel call")
    assert cancel.is_enabled()
    cancel.click()
    page.wait_for_function(
        "() => document.querySelector('#ringout-panel').dataset.final === 'true'"
    )
    assert panel.locator("[data-ro=call]").inner_text() != "Success"
    # Cancelled at RingCentral too: the sandbox forgets a cancelled RingOut.
    rc_sandbox.wait_for(lambda: rc_sandbox.http.get("/sandbox/ringouts").json() == [])
    assert Agent.objects.get(extension_number="102").ringout_from_number == "+16505550102"

    # Remembered: the next click calls at once, without asking.
    page.reload()
    page.locator(".contact-phone button[data-ringout]").first.click()
    panel.wait_for()
    assert not dialog.is_visible()
    page.wait_for_selector("#ringout-panel [data-ro=caller]:text('InProgress')")
    panel.get_by_role("button", name="Cancel call").click()
    page.wait_for_function(
        "() => document.querySelector('#ringout-panel').dataset.final === 'true'"
    )


def test_ringout_status_is_polled_while_the_socket_is_down(browser, rc_sandbox, live_app):
    rc_sandbox.config(speed=0.5)
    contact = contact_make("Grace", "Lin", "+16505550110", company="Northwind Traders")
    page = browser.new_page()
    network = CuttableSocket(page)
    sign_in(page, rc_sandbox, live_app, extension="102")
    Agent.objects.filter(extension_number="102").update(ringout_from_number="+16505550102")
    page.goto(f"/contacts/{contact.pk}/")
    page.wait_for_selector("#conn[data-state='open']")
    network.cut()
    page.wait_for_selector("#conn[data-state='connecting']")

    page.locator(".contact-phone button[data-ringout]").first.click()
    # Without websocket messages, GET /api/ringout/<id>/ every 3 s carries the legs along.
    page.wait_for_selector("#ringout-panel [data-ro=caller]:text('Success')")
    page.wait_for_selector("#ringout-panel [data-ro=callee]:text('Success')")
    page.wait_for_function(
        "() => document.querySelector('#ringout-panel').dataset.final === 'true'"
    )
