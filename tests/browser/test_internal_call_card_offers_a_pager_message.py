"""A colleague calling from their extension pops as that colleague (not as an unknown
caller to add to the CRM), and the card sends them a pager message."""

from tests.browser.conftest import sign_in


def test_internal_call_and_pager_message_from_the_card(browser, rc_sandbox, live_app):
    page = browser.new_page()
    sign_in(page, rc_sandbox, live_app, extension="102")
    colleague = rc_sandbox.user("103")["name"]
    rc_sandbox.start_call("internal", extension="102", from_="103", ring_seconds=30)

    card = page.locator("#cards .card").first
    card.wait_for()
    page.wait_for_selector(f"#cards .card .card-title:text('{colleague}')")
    assert "ext. 103" in card.locator("[data-f=company]").inner_text()
    assert not card.locator("form.create-contact").is_visible()

    card.get_by_text("Send pager message").first.click()
    card.get_by_label("Message").fill("Call you right back")
    card.get_by_role("button", name="Send pager message").click()
    card.locator("[data-ok]:text('ext. 103')").wait_for()
    assert any("Call you right back" in str(m) for m in rc_sandbox.messages())
