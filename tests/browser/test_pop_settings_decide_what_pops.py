"""Each pop setting in the browser: pop on ring (the default), on answer, or never (the call
still shows in Recent calls); which calls pop (inbound, outbound, internal, queue); the
contact page opening by itself in a tab of its own; desktop notifications off."""

from crm_cti.accounts.models import Agent, PopPreferences
from crm_cti.accounts.preferences import agent_pop_settings_save
from tests.browser.conftest import sign_in
from tests.browser.test_background_tab_is_notified import BACKGROUND_TAB
from tests.support.people import contact_make

ALL_ON = {
    "pop_on": "ring", "open_contact": False, "desktop_notification": True,
    "pop_inbound": True, "pop_outbound": True, "pop_internal": True, "pop_queue": True,
}
assert set(ALL_ON) == set(PopPreferences.POP_FIELDS)


def _settings(page, **changes) -> None:
    """The agent's own pop settings (saved as the settings page saves them), then a reload:
    the page carries them."""
    agent = Agent.objects.get(extension_number="102")
    agent_pop_settings_save(agent=agent, **{**ALL_ON, **changes})
    page.reload()
    page.wait_for_selector("#conn[data-state='open']")


def _live_in_recent(page):
    """The live call's row in Recent calls (it is there whatever pops)."""
    return page.locator("#recent-calls li").filter(has_text="live").first


def test_pop_on_answer_and_never(browser, rc_sandbox, live_app):
    contact_make("Phillip", "Marco", "+16504445567")
    page = browser.new_page()
    sign_in(page, rc_sandbox, live_app, extension="102")

    _settings(page, pop_on="answer")
    call = rc_sandbox.start_call("interactive", extension="102", from_="+16504445567")
    _live_in_recent(page).wait_for()
    assert page.locator("#cards .card").count() == 0
    rc_sandbox.call_action(call["sessionId"], "answer")
    page.wait_for_selector("#cards .card[data-state='connected'] .card-title:text('Phillip Marco')")
    rc_sandbox.call_action(call["sessionId"], "hangup")
    page.wait_for_selector("#cards .card[data-state='ended']")

    _settings(page, pop_on="off")
    call = rc_sandbox.start_call("interactive", extension="102", from_="+16504445567")
    _live_in_recent(page).wait_for()
    rc_sandbox.call_action(call["sessionId"], "answer")
    page.wait_for_selector("#recent-calls li:has-text('Phillip Marco') .badge-connected")
    assert page.locator("#cards .card").count() == 0
    assert page.locator("#no-calls").is_visible()
    rc_sandbox.call_action(call["sessionId"], "hangup")


def test_which_calls_pop(browser, rc_sandbox, live_app):
    page = browser.new_page()
    sign_in(page, rc_sandbox, live_app, extension="102")

    _settings(page, pop_inbound=False, pop_queue=False)
    direct = rc_sandbox.start_call("interactive", extension="102", from_="+14155550161")
    queued = rc_sandbox.start_call(
        "interactive", extension="102", from_="+14155550162", to="+16505559000"
    )
    rc_sandbox.start_call("internal", extension="102", from_="103", ring_seconds=30)
    card = page.locator("#cards .card").first
    card.wait_for()
    assert "Colleague" in card.locator("[data-f=company]").inner_text()
    page.wait_for_function(
        "() => document.querySelectorAll('#recent-calls li .badge-ringing').length === 3"
    )
    assert page.locator("#cards .card").count() == 1
    for call in (direct, queued):
        rc_sandbox.call_action(call["sessionId"], "hangup")

    # Queue calls on, direct inbound calls still off: only the call to the queue's number.
    _settings(page, pop_inbound=False, pop_queue=True, pop_internal=False)
    direct = rc_sandbox.start_call("interactive", extension="102", from_="+14155550163")
    queued = rc_sandbox.start_call(
        "interactive", extension="102", from_="+14155550164", to="+16505559000"
    )
    page.wait_for_selector("#cards .card:has-text('(415) 555-0164')")
    page.wait_for_selector("#recent-calls li:has-text('(415) 555-0163')")
    assert page.locator("#cards .card:has-text('(415) 555-0163')").count() == 0
    for call in (direct, queued):
        rc_sandbox.call_action(call["sessionId"], "hangup")


def test_the_contact_page_opens_in_its_own_tab(browser, rc_sandbox, live_app):
    contact = contact_make("Phillip", "Marco", "+16504445567")
    page = browser.new_page()
    sign_in(page, rc_sandbox, live_app, extension="102")
    _settings(page, open_contact=True)

    with page.context.expect_page() as opened:
        call = rc_sandbox.start_call("interactive", extension="102", from_="+16504445567")
    tab = opened.value
    tab.wait_for_load_state()
    assert tab.url.endswith(f"/contacts/{contact.pk}/")
    assert "Phillip Marco" in tab.locator("h1").inner_text()
    # The dashboard stays where it was, with its card.
    page.wait_for_selector("#cards .card .card-title:text('Phillip Marco')")
    rc_sandbox.call_action(call["sessionId"], "hangup")


def test_desktop_notifications_off(browser, rc_sandbox, live_app):
    contact_make("Phillip", "Marco", "+16504445567")
    page = browser.new_page()
    page.add_init_script(BACKGROUND_TAB + 'window.__permission = "granted";')
    sign_in(page, rc_sandbox, live_app, extension="102")
    _settings(page, desktop_notification=False)

    call = rc_sandbox.start_call("interactive", extension="102", from_="+16504445567")
    page.wait_for_selector("#cards .card")
    # The title still flashes; no notification is raised.
    page.wait_for_function("() => document.title.includes('Phillip Marco calling')")
    assert page.evaluate("window.__notifications") == []
    rc_sandbox.call_action(call["sessionId"], "hangup")

    _settings(page, desktop_notification=True)
    call = rc_sandbox.start_call("interactive", extension="102", from_="+16504445567")
    page.wait_for_function("() => window.__notifications.length === 1")
    rc_sandbox.call_action(call["sessionId"], "hangup")
