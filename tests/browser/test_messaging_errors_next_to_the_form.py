"""Messaging from a contact's page: a sent SMS is confirmed next to its form, and an error
(bad input, or RingCentral's refusal) is shown next to the form that caused it."""

from tests.browser.conftest import sign_in
from tests.support.people import contact_make


def test_sms_and_pager_from_a_contact(browser, rc_sandbox, live_app):
    contact = contact_make("Phillip", "Marco", "+16504445567", company="Marco Imports")
    page = browser.new_page()
    sign_in(page, rc_sandbox, live_app, extension="102")
    page.goto(f"/contacts/{contact.pk}/")

    sms = page.locator("form.sms-form")
    assert sms.get_by_label("To").input_value() == "+16504445567"
    sms.get_by_label("Message").fill("Your order shipped today.")
    sms.get_by_role("button", name="Send SMS").click()
    page.wait_for_selector("form.sms-form [data-ok]:text('SMS sent')")
    assert any("Your order shipped today." in str(m) for m in rc_sandbox.messages())

    sms.get_by_label("To").fill("12")
    sms.get_by_label("Message").fill("hello")
    sms.get_by_role("button", name="Send SMS").click()
    error = sms.locator("[data-error-for=to]")
    error.locator("li").wait_for()
    assert "Bad number" in error.inner_text()

    pager = page.locator("form.pager-form")
    pager.get_by_label("To extension(s)").fill("999")
    pager.get_by_label("Message").fill("Anyone there?")
    pager.get_by_role("button", name="Send pager message").click()
    refusal = pager.locator("[data-error-for=__all__]")
    page.wait_for_function(
        "() => document.querySelector('form.pager-form [data-error-for=__all__]')"
        ".textContent.length > 0"
    )
    assert refusal.inner_text().strip()

    pager.get_by_label("To extension(s)").fill("103")
    pager.get_by_role("button", name="Send pager message").click()
    page.wait_for_selector("form.pager-form [data-ok]:text('ext. 103')")
