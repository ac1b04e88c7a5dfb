"""Sign in with RingCentral, take a sandbox inbound call: the dashboard pops a card with
the contact's name, state and timer; notes saved on the card survive a reload."""

from tests.browser.conftest import sign_in
from tests.support.people import contact_make, disposition_make


def test_sign_in_then_a_call_pops_and_notes_persist(browser, rc_sandbox, live_app, artifacts):
    contact_make("Phillip", "Marco", "+16504445567", company="Marco Imports")
    disposition_make("Follow-up needed")
    page = browser.new_page()
    sign_in(page, rc_sandbox, live_app, extension="102")
    assert page.locator(".whoami").inner_text().strip() != ""

    call = rc_sandbox.start_call("interactive", extension="102", from_="+16504445567")
    card = page.locator("#cards .card").first
    card.wait_for()
    assert card.locator(".card-title").inner_text() == "Phillip Marco"
    assert "Marco Imports" in card.locator("[data-f=company]").inner_text()
    assert card.get_attribute("data-state") == "ringing"
    assert "(650) 444-5567" in card.inner_text()

    rc_sandbox.call_action(call["sessionId"], "answer")
    page.wait_for_selector("#cards .card[data-state='connected']")
    # The timer runs.
    page.wait_for_function(
        "() => document.querySelector('#cards .card [data-f=timer]').textContent !== '0:00'"
    )
    page.screenshot(path=str(artifacts / "dashboard-pop.png"), full_page=True)

    card.locator("textarea[name=notes]").fill("Asked for the spring catalogue")
    card.locator("select[name=disposition]").select_option(label="Follow-up needed")
    card.get_by_role("button", name="Save notes").click()
    page.wait_for_selector("#cards .card [data-f=save-state]:text('Saved')")

    page.reload()
    page.wait_for_selector("#conn[data-state='open']")
    restored = page.locator("#cards .card").first
    restored.wait_for()
    assert restored.locator(".card-title").inner_text() == "Phillip Marco"
    notes = restored.locator("textarea[name=notes]").input_value()
    assert notes == "Asked for the spring catalogue"
    assert restored.locator("select[name=disposition] option:checked").inner_text() == (
        "Follow-up needed"
    )

    rc_sandbox.call_action(call["sessionId"], "hangup")
    page.wait_for_selector("#cards .card[data-state='ended']")
    # The recent-calls list shows it too, live.
    page.wait_for_selector("#recent-calls li:has-text('Phillip Marco')")
