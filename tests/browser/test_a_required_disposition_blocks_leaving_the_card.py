"""When the team requires a disposition, an answered call's card cannot be dismissed until
one is set (with a note, for a disposition that requires one): the card says what is
missing, leaving the page asks first, and the card is back after a reload."""

from crm_cti.accounts.preferences import team_settings_update
from tests.browser.conftest import sign_in
from tests.support.people import contact_make, disposition_make


def test_the_card_stays_until_the_disposition_is_set(browser, rc_sandbox, live_app):
    team_settings_update(require_disposition=True)
    disposition_make("Call back", order=1, requires_note=True)
    contact_make("Phillip", "Marco", "+16504445567")
    page = browser.new_page()
    dialogs: list[str] = []

    def on_dialog(dialog) -> None:
        dialogs.append(dialog.type)
        dialog.accept()

    page.on("dialog", on_dialog)
    sign_in(page, rc_sandbox, live_app, extension="102")

    call = rc_sandbox.start_call("interactive", extension="102", from_="+16504445567")
    card = page.locator("#cards .card").first
    card.wait_for()
    rc_sandbox.call_action(call["sessionId"], "answer")
    page.wait_for_selector("#cards .card[data-state='connected']")
    rc_sandbox.call_action(call["sessionId"], "hangup")
    page.wait_for_selector("#cards .card[data-state='ended']")

    card.get_by_role("button", name="Dismiss").click()
    page.wait_for_selector(
        "#cards .card [data-f=dismiss-error]:text('Set a disposition before you dismiss')"
    )
    assert page.locator("#cards .card").count() == 1

    # Leaving asks first; back on the dashboard, the card is there again.
    page.reload()
    assert dialogs == ["beforeunload"]
    page.wait_for_selector("#conn[data-state='open']")
    card = page.locator("#cards .card").first
    card.wait_for()
    assert card.locator(".card-title").inner_text() == "Phillip Marco"

    card.locator("select[name=disposition]").select_option(label="Call back")
    card.get_by_role("button", name="Save notes").click()
    page.wait_for_selector("#cards .card [data-error-for=__all__]:text('needs a note')")
    card.locator("textarea[name=notes]").fill("Call him back on Monday")
    card.get_by_role("button", name="Save notes").click()
    page.wait_for_selector("#cards .card [data-f=save-state]:text('Saved')")

    card.get_by_role("button", name="Dismiss").click()
    page.wait_for_selector("#cards .card", state="detached")
    page.reload()
    page.wait_for_selector("#conn[data-state='open']")
    assert page.locator("#cards .card").count() == 0
    assert dialogs == ["beforeunload"]
