"""Two agents in two browsers hand a call over from the card: a blind transfer to a colleague
picked from the list (with their live state), a warm transfer (consult, then complete), a
forward while ringing, and a queue call that rings both where one answers."""

from __future__ import annotations

from tests.browser.conftest import sign_in

CARD = "#cards .card"
ACTIONS = "[data-call-actions]"


def _pick_colleague(page, actions, picker: str, label: str) -> None:
    actions.locator(f"[data-picker={picker}] summary").click()
    select = actions.locator(f"[data-picker={picker}] [data-colleague]")
    page.wait_for_function(
        "(p) => document.querySelectorAll(`[data-picker=${p}] [data-colleague] option`)"
        ".length > 1", arg=picker)
    option = select.locator("option", has_text="Priya Shah")
    # The colleague list tells whether Priya is free before she is picked.
    assert option.inner_text() == "Priya Shah (ext. 103) — Available"
    select.select_option(label=option.inner_text())
    actions.locator(f"[data-picker={picker}]").get_by_role("button", name=label).click()


def _two_agents(browser, rc_sandbox, live_app):
    rc_sandbox.config(speed=2, rate_limits={"enabled": False})
    marcus = browser.new_page()
    sign_in(marcus, rc_sandbox, live_app, extension="102")
    priya = browser.new_page()
    sign_in(priya, rc_sandbox, live_app, extension="103")
    return marcus, priya


def _answer(page) -> None:
    card = page.locator(f"{CARD}[data-state='ringing']").first
    card.wait_for()
    page.wait_for_function("() => document.querySelector("
                           "'[data-call-actions] [data-device] option')")
    card.locator(ACTIONS).get_by_role("button", name="Answer").click()
    page.wait_for_selector(f"{CARD}[data-state='connected']")


def test_blind_transfer_to_a_colleague_picked_from_the_list(browser, rc_sandbox, live_app):
    marcus, priya = _two_agents(browser, rc_sandbox, live_app)
    call = rc_sandbox.start_call("interactive", extension="102", from_="+16504445567",
                                 ring_seconds=600)
    _answer(marcus)
    _pick_colleague(marcus, marcus.locator(f"{CARD} {ACTIONS}").first, "transfer", "Transfer")
    # Marcus is off the call; Priya's phone rings with the caller, and she answers there.
    marcus.wait_for_selector(f"{CARD}[data-state='ended']")
    priya.locator(f"{CARD}[data-state='ringing']").wait_for()
    _answer(priya)
    legs = rc_sandbox.call(call["sessionId"])["legs"]
    assert [(leg["extensionNumber"], leg["telephonyStatus"]) for leg in legs][-1] == (
        "103", "CallConnected")


def test_warm_transfer_consults_then_completes(browser, rc_sandbox, live_app):
    marcus, priya = _two_agents(browser, rc_sandbox, live_app)
    call = rc_sandbox.start_call("interactive", extension="102", from_="+16504445567",
                                 ring_seconds=600)
    _answer(marcus)
    customer = marcus.locator(f"{CARD}[data-state='connected']").first
    customer_id = customer.get_attribute("data-call-id")
    _pick_colleague(marcus, customer.locator(ACTIONS), "consult", "Consult")
    # The caller waits on hold while Marcus talks to Priya, who answers the consultation.
    marcus.wait_for_selector(f"{CARD}[data-call-id='{customer_id}'][data-state='on_hold']")
    _answer(priya)
    complete = marcus.locator(f"{CARD}[data-call-id='{customer_id}'] {ACTIONS}").get_by_role(
        "button", name="Complete transfer")
    complete.click()
    marcus.wait_for_selector(f"{CARD}[data-call-id='{customer_id}'][data-state='ended']")
    rc_sandbox.wait_for(lambda: [leg["telephonyStatus"] for leg in
                                 rc_sandbox.call(call["sessionId"])["legs"]][-1]
                        == "CallConnected")
    legs = rc_sandbox.call(call["sessionId"])["legs"]
    assert legs[-1]["extensionNumber"] == "103"
    # Priya now talks to the caller: the customer's call shows on her dashboard.
    priya.wait_for_selector(
        f"{CARD}[data-state='connected'] [data-f=number]:has-text('(650) 444-5567')")


def test_forward_a_ringing_call_to_a_colleague(browser, rc_sandbox, live_app):
    marcus, priya = _two_agents(browser, rc_sandbox, live_app)
    rc_sandbox.start_call("interactive", extension="102", from_="+16504445567",
                          ring_seconds=600)
    card = marcus.locator(f"{CARD}[data-state='ringing']")
    card.wait_for()
    _pick_colleague(marcus, card.locator(ACTIONS), "forward", "Forward")
    marcus.wait_for_selector(f"{CARD}:not([data-state='ringing'])")
    _answer(priya)


def test_a_queue_call_rings_both_and_one_answers(browser, rc_sandbox, live_app):
    marcus, priya = _two_agents(browser, rc_sandbox, live_app)
    call = rc_sandbox.start_call("call_queue", extension="102", ring_seconds=600)
    marcus.locator(f"{CARD}[data-state='ringing']").wait_for()
    priya.locator(f"{CARD}[data-state='ringing']").wait_for()
    _answer(priya)
    # Marcus's card stops ringing and offers nothing to press any more.
    marcus.wait_for_selector(f"{CARD}:not([data-state='ringing'])")
    assert marcus.locator(f"{CARD} {ACTIONS} button").count() == 0
    legs = {leg["extensionNumber"]: leg for leg in rc_sandbox.call(call["sessionId"])["legs"]}
    assert legs["103"]["partyStatus"] == "Answered"
    assert legs["102"]["result"] == "Answered Elsewhere"
