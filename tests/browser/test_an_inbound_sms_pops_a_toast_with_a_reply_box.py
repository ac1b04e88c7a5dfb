"""An inbound SMS reaches the agent live over the agent socket: a toast with its text and a
reply box (the reply goes out through RingCentral), the title flashes and a desktop
notification shows while the tab is in the background; the open thread updates in place."""

from tests.browser.conftest import sign_in
from tests.browser.test_background_tab_is_notified import BACKGROUND_TAB
from tests.support.people import contact_make

CUSTOMER = "+16504445567"


def _text_in(sandbox, text: str) -> None:
    response = sandbox.http.post("/sandbox/sms", json={"extension": "102", "from": CUSTOMER,
                                                       "text": text})
    assert response.status_code == 201, response.text


def _store(sandbox) -> list[dict]:
    return sandbox.http.get("/sandbox/message-store", params={"extension": "102"}).json()


def test_an_inbound_sms_pops_a_toast_and_the_reply_reaches_ringcentral(
        browser, rc_sandbox, live_app, artifacts):
    contact_make("Phillip", "Marco", CUSTOMER, company="Marco Imports")
    page = browser.new_page()
    page.add_init_script(BACKGROUND_TAB + "window.__permission = 'granted';")
    sign_in(page, rc_sandbox, live_app, extension="102")

    _text_in(rc_sandbox, "Is my order ready?")
    toast = page.locator(".toast-sms")
    toast.wait_for()
    assert "SMS from Phillip Marco" in toast.inner_text()
    assert "Is my order ready?" in toast.inner_text()
    page.wait_for_function("() => document.title.includes('Phillip Marco')")
    assert page.evaluate("window.__notifications") == [
        {"title": "SMS from Phillip Marco", "body": "Is my order ready?"}]

    toast.get_by_label("Reply").fill("Yes, ready for pickup.")
    toast.screenshot(path=str(artifacts / "toast-inbound-sms.png"))
    toast.get_by_role("button", name="Send").click()
    toast.get_by_text("Reply sent.").wait_for()
    rc_sandbox.wait_for(lambda: any(
        r["direction"] == "Outbound" and r.get("subject") == "Yes, ready for pickup."
        for r in _store(rc_sandbox)), timeout=10)


def test_the_open_thread_shows_a_new_sms_in_place(browser, rc_sandbox, live_app):
    page = browser.new_page()
    sign_in(page, rc_sandbox, live_app, extension="102")
    _text_in(rc_sandbox, "First question")
    page.locator(".toast-sms").wait_for()

    page.goto("/messages/")
    page.wait_for_selector("#conn[data-state='open']")
    _text_in(rc_sandbox, "Another one")
    # The list follows live: the thread's last text and its unread count.
    page.locator("#threads .thread-row", has_text="Another one").locator("[data-unread]",
                                                                        has_text="2").wait_for()
    page.get_by_role("link", name="Another one").click()
    page.wait_for_selector("#thread .bubble-inbound")
    page.wait_for_selector("#conn[data-state='open']")
    _text_in(rc_sandbox, "Second question")
    page.locator("#thread .bubble-inbound", has_text="Second question").wait_for()
    assert page.locator(".toast-sms").count() == 0  # the thread shows it: no toast
    # What the open thread showed is read on RingCentral too, the new one included.
    rc_sandbox.wait_for(lambda: all(
        r["readStatus"] == "Read" for r in _store(rc_sandbox) if r["direction"] == "Inbound"
    ), timeout=10)

    page.get_by_label("Reply").fill("Answering both")
    page.get_by_role("button", name="Send").click()
    page.locator("#thread .bubble-outbound", has_text="Answering both").wait_for()
    rc_sandbox.wait_for(lambda: any(
        r["direction"] == "Outbound" and r.get("subject") == "Answering both"
        for r in _store(rc_sandbox)), timeout=10)


def test_a_reply_template_fills_the_reply_box(browser, rc_sandbox, live_app):
    from crm_cti.messaging.models import ReplyTemplate

    ReplyTemplate.objects.create(name="Ready", text="Your order is ready for pickup.")
    page = browser.new_page()
    sign_in(page, rc_sandbox, live_app, extension="102")
    _text_in(rc_sandbox, "Any news?")
    toast = page.locator(".toast-sms")
    toast.wait_for()
    toast.get_by_label("Template").select_option(label="Ready")
    assert toast.get_by_label("Reply").input_value() == "Your order is ready for pickup."
