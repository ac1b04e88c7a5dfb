"""An unknown caller pops as "Unknown caller" with a prefilled "Create contact" form;
creating the contact updates the card, and the contact exists with the caller's number."""

from crm_cti.crm.models import ContactPhone
from tests.browser.conftest import sign_in


def test_unknown_caller_create_contact_updates_the_card(browser, rc_sandbox, live_app):
    page = browser.new_page()
    sign_in(page, rc_sandbox, live_app, extension="102")
    call = rc_sandbox.start_call("interactive", extension="102", from_="+14155550177")

    card = page.locator("#cards .card").first
    card.wait_for()
    assert card.locator(".card-title").inner_text() == "Unknown caller"
    form = card.locator("form.create-contact")
    assert form.is_visible()
    assert form.get_by_label("Phone").input_value() == "+14155550177"

    form.get_by_label("First name").fill("Nora")
    form.get_by_label("Last name").fill("Quinn")
    form.get_by_label("Company").fill("Quinn & Co")
    form.get_by_role("button", name="Create contact").click()

    page.wait_for_selector("#cards .card .card-title:text('Nora Quinn')")
    assert card.locator("[data-f=company]").inner_text() == "Quinn & Co"
    assert not form.is_visible()
    contact_link = card.get_by_role("link", name="Open contact")
    assert contact_link.is_visible()
    contact = ContactPhone.objects.get(e164="+14155550177").contact
    assert contact.full_name == "Nora Quinn"
    assert contact_link.get_attribute("href") == f"/contacts/{contact.pk}/"

    # A reload keeps the name: the call itself is now linked to the contact.
    page.reload()
    page.wait_for_selector("#cards .card .card-title:text('Nora Quinn')")
    rc_sandbox.call_action(call["sessionId"], "hangup")
