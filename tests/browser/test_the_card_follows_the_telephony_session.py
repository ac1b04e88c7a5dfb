"""With telephony sessions (the app has CallControl) the pop card says what happened to the
call: on hold with a hold timer, parked with the orbit; a queue call a colleague answered
says "Answered by Priya Shah" on the other agent's card (never "Missed"); a call transferred
to a colleague shows the first agent's notes and disposition on the colleague's card. Calls
are driven through the sandbox's control API as the agents' phones would."""

from __future__ import annotations

from crm_cti.crm.models import Disposition
from tests.browser.conftest import sign_in
from tests.browser.test_several_devices_ringing_never_flash_missed import RECORD_STATES

CALLER = "+16504445567"


def _party(sandbox, session_id: str, extension: str, *, live: bool = True) -> str:
    """The party id of ``extension``'s (live) leg of the call."""
    legs = [leg for leg in sandbox.call(session_id)["legs"]
            if leg["extensionNumber"] == extension
            and (not live or leg["telephonyStatus"] != "NoCall")]
    return legs[-1]["partyId"]


def _act(sandbox, session_id: str, party_id: str, action: str, target: str = "") -> None:
    response = sandbox.http.post(f"/sandbox/calls/{session_id}/parties/{party_id}/{action}",
                                 json={"target": target} if target else {})
    assert response.status_code == 200, response.text


def test_hold_runs_a_timer_and_park_shows_the_orbit(browser, rc_sandbox, live_app):
    page = browser.new_page()
    sign_in(page, rc_sandbox, live_app, extension="102")
    call = rc_sandbox.start_call("interactive", extension="102", from_=CALLER)
    session_id = call["sessionId"]
    card = page.locator("#cards .card").first
    card.wait_for()
    rc_sandbox.call_action(session_id, "answer")
    page.wait_for_selector("#cards .card[data-state='connected']")
    party_id = _party(rc_sandbox, session_id, "102")
    # The card carries the hooks the call-control buttons use, and their empty slot.
    page.wait_for_selector(f"#cards .card[data-party-id='{party_id}']")
    assert card.locator("[data-call-actions]").count() == 1
    assert card.get_attribute("data-telephony-session-id") == call["telephonySessionId"]

    _act(rc_sandbox, session_id, party_id, "hold")
    page.wait_for_selector("#cards .card[data-state='on_hold']")
    status = card.locator("[data-call-status]")
    status.wait_for()
    assert status.locator("[data-f='outcome-text']").inner_text() == "On hold"
    timer = card.locator("[data-hold-timer]")
    assert timer.is_visible()
    page.wait_for_function(
        "() => /^\\d+:\\d\\d$/.test(document.querySelector('#cards .card [data-hold-timer]')"
        ".textContent)")

    _act(rc_sandbox, session_id, party_id, "unhold")
    page.wait_for_selector("#cards .card[data-state='connected']")
    assert not status.is_visible() and not timer.is_visible()

    _act(rc_sandbox, session_id, party_id, "park")
    page.wait_for_selector("#cards .card[data-state='parked'][data-outcome='parked']")
    orbit = next(leg for leg in rc_sandbox.call(session_id)["legs"]
                 if leg["partyId"] == party_id)
    assert orbit["partyStatus"] == "Parked"
    text = status.locator("[data-f='outcome-text']").inner_text()
    assert text.startswith("Parked at *")
    assert card.locator("[data-f='state']").inner_text() == "Parked"

    # Picked up by a colleague who is not signed in here: nobody can say who.
    _act(rc_sandbox, session_id, party_id, "pickup", target="103")
    page.wait_for_selector("#cards .card[data-state='ended'][data-outcome='picked_up']")
    assert status.locator("[data-f='outcome-text']").inner_text() == "Picked up from park"


def test_a_queue_call_a_colleague_answered_says_answered_by_them(browser, rc_sandbox,
                                                                   live_app):
    marcus = browser.new_page()
    sign_in(marcus, rc_sandbox, live_app, extension="102")
    priya = browser.new_page()
    sign_in(priya, rc_sandbox, live_app, extension="103")
    marcus.evaluate(RECORD_STATES)

    # The queue rings both; Priya (103, first in the queue) answers.
    rc_sandbox.start_call("call_queue", extension="103", agents=["103", "102"],
                          from_=CALLER, ring_seconds=3, talk_seconds=3)
    marcus.locator("#cards .card").first.wait_for()
    priya.wait_for_selector("#cards .card[data-state='connected']")
    card = marcus.locator("#cards .card").first
    marcus.wait_for_selector("#cards .card[data-outcome='answered_elsewhere']")
    assert card.locator("[data-f='outcome-text']").inner_text() == "Answered by Priya Shah"
    assert card.locator("[data-f='state']").inner_text() == "Answered elsewhere"
    assert card.get_attribute("data-state") == "ended"
    states = [state for _card, state in marcus.evaluate("() => window.__cardStates")]
    assert "missed" not in states, states
    assert marcus.locator("#cards .card").count() == 1
    recent = marcus.locator("#recent-calls li[data-call-id] .badge").first
    recent.wait_for()
    assert recent.inner_text() == "Answered by Priya Shah"


def test_a_transferred_call_shows_the_first_agents_notes_and_disposition(browser, rc_sandbox,
                                                                           live_app):
    Disposition.objects.get_or_create(name="Follow-up needed", defaults={"order": 1})
    marcus = browser.new_page()
    sign_in(marcus, rc_sandbox, live_app, extension="102")
    priya = browser.new_page()
    sign_in(priya, rc_sandbox, live_app, extension="103")

    call = rc_sandbox.start_call("interactive", extension="102", from_=CALLER)
    session_id = call["sessionId"]
    marcus.locator("#cards .card").first.wait_for()
    rc_sandbox.call_action(session_id, "answer")
    marcus.wait_for_selector("#cards .card[data-state='connected']")
    card = marcus.locator("#cards .card").first
    card.locator("textarea[name='notes']").fill("Wants the March invoice resent")
    card.locator("select[name='disposition']").select_option(label="Follow-up needed")
    card.locator("button", has_text="Save notes").click()
    card.locator("[data-f='save-state']", has_text="Saved").wait_for()

    _act(rc_sandbox, session_id, _party(rc_sandbox, session_id, "102"), "transfer",
         target="103")
    marcus.wait_for_selector("#cards .card[data-outcome='transferred']")
    received = priya.locator("#cards .card").first
    received.wait_for()
    handover = received.locator("[data-transferred-from]")
    handover.wait_for()
    assert handover.locator("[data-f='handover-from']").inner_text() == (
        "Transferred from Marcus Reed")
    assert handover.locator("[data-f='handover-notes']").inner_text() == (
        "Wants the March invoice resent")
    assert handover.locator("[data-f='handover-disposition']").inner_text() == (
        "Disposition: Follow-up needed")
    _act(rc_sandbox, session_id, _party(rc_sandbox, session_id, "103"), "answer")
    priya.wait_for_selector("#cards .card[data-state='connected']")
    assert handover.is_visible()
    marcus.wait_for_function(
        "() => document.querySelector('#cards .card [data-f=\"outcome-text\"]')"
        ".textContent === 'Transferred to Priya Shah'")
    # Notes Marcus finishes after the transfer reach Priya's card as he saves them.
    card.locator("textarea[name='notes']").fill("Invoice resent; call back Friday")
    card.locator("button", has_text="Save notes").click()
    received.locator("[data-f='handover-notes']", has_text="call back Friday").wait_for()
