"""The card says why it shows who it shows, and fixes the match in one click: with the
"ask" policy the agent picks one of the contacts sharing the number (and the next call from
it pops that one); a known contact calling from a new number gets the number added; a
company line shows the company; a colleague's extension never offers to create a contact."""

from crm_cti.accounts.preferences import team_settings_update
from crm_cti.crm.models import NumberChoice
from crm_cti.crm.services import company_line_mark
from tests.browser.conftest import sign_in
from tests.support.people import contact_make

SHARED = "+14155550123"


def _card(page):
    card = page.locator("#cards .card").first
    card.wait_for()
    return card


def test_ask_policy_then_the_pick_is_remembered(browser, rc_sandbox, live_app, artifacts):
    team_settings_update(match_policy="ask")
    ann = contact_make("Ann", "Able", SHARED, company="Acme")
    contact_make("Bob", "Baker", SHARED, company="Acme")
    page = browser.new_page()
    sign_in(page, rc_sandbox, live_app, extension="102")

    call = rc_sandbox.start_call("interactive", extension="102", from_=SHARED)
    card = _card(page)
    assert card.locator(".card-title").inner_text() == "Which contact is calling?"
    assert card.locator("form.create-contact").is_hidden()
    page.screenshot(path=str(artifacts / "card-which-contact.png"))
    card.get_by_role("button", name="Ann Able (Acme)").click()
    page.wait_for_selector("#cards .card .card-title:text('Ann Able')")
    assert "your pick for this number" in card.locator("[data-f=why]").inner_text()
    assert NumberChoice.objects.get(e164=SHARED).contact == ann
    rc_sandbox.call_action(call["sessionId"], "hangup")
    card.get_by_role("button", name="Dismiss").click()
    page.wait_for_selector("#cards .card", state="detached")

    call = rc_sandbox.start_call("interactive", extension="102", from_=SHARED)
    card = _card(page)
    page.wait_for_selector("#cards .card .card-title:text('Ann Able')")
    why = card.locator("[data-f=why]").inner_text()
    assert why == f"Matched the work number stored as {SHARED} · your pick for this number"
    # Someone else after all: the other candidates are one click away.
    assert card.locator("[data-f=candidates]").is_visible()
    page.screenshot(path=str(artifacts / "card-why-this-match.png"))
    rc_sandbox.call_action(call["sessionId"], "hangup")


def test_adding_a_new_number_to_a_known_contact(browser, rc_sandbox, live_app):
    contact_make("Kim", "Known", "+14155550111", company="Known & Co")
    page = browser.new_page()
    sign_in(page, rc_sandbox, live_app, extension="102")

    call = rc_sandbox.start_call(
        "interactive", extension="102", from_="+14155550222", name="KIM KNOWN"
    )
    card = _card(page)
    assert card.locator(".card-title").inner_text() == "Unknown caller"
    card.get_by_text("A known contact on a new number?").click()
    # The caller ID's name is already searched for.
    card.get_by_role("button", name="Add this number to Kim Known (Known & Co)").click()
    page.wait_for_selector("#cards .card .card-title:text('Kim Known')")
    assert card.locator("form.create-contact").is_hidden()
    rc_sandbox.call_action(call["sessionId"], "hangup")
    card.get_by_role("button", name="Dismiss").click()
    page.wait_for_selector("#cards .card", state="detached")

    call = rc_sandbox.start_call("interactive", extension="102", from_="+14155550222")
    card = _card(page)
    page.wait_for_selector("#cards .card .card-title:text('Kim Known')")
    assert card.locator("[data-f=why]").inner_text() == (
        "Matched the other number stored as +14155550222"
    )
    rc_sandbox.call_action(call["sessionId"], "hangup")


def test_company_line_and_colleague(browser, rc_sandbox, live_app):
    contact_make("Ann", "Able", SHARED, company="Acme")
    company_line_mark(raw=SHARED, company="Acme Inc")
    page = browser.new_page()
    sign_in(page, rc_sandbox, live_app, extension="102")

    call = rc_sandbox.start_call("interactive", extension="102", from_=SHARED)
    card = _card(page)
    assert card.locator(".card-title").inner_text() == "Acme Inc"
    assert "Company line" in card.locator("[data-f=company]").inner_text()
    assert card.get_by_role("link", name="Contacts at Acme Inc").is_visible()
    assert card.locator("form.create-contact").is_hidden()
    assert card.locator("[data-f=add-number]").is_hidden()
    rc_sandbox.call_action(call["sessionId"], "hangup")
    card.get_by_role("button", name="Dismiss").click()
    page.wait_for_selector("#cards .card", state="detached")

    rc_sandbox.start_call("internal", extension="102", from_="103", ring_seconds=30)
    card = _card(page)
    assert "Colleague" in card.locator("[data-f=company]").inner_text()
    assert card.locator("form.create-contact").is_hidden()
    assert card.locator("[data-f=add-number]").is_hidden()
