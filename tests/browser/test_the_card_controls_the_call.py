"""The card's call-control buttons, pressed in Chromium, change the call at RingCentral (the
sandbox); the card follows once the platform's event arrives; a refusal shows next to the
buttons; "My phone" in the click-to-dial menu calls from the agent's chosen phone. The
README's picture of the buttons is taken here (test-artifacts/card-call-control.png)."""

from __future__ import annotations

import re

from crm_cti.ringcentral.budget import budget_reset
from tests.browser.conftest import sign_in
from tests.support.people import contact_make

CARD = "#cards .card"
ACTIONS = "[data-call-actions]"


def _expect_refusals(browser, count: int) -> None:
    """A refused press is a 4xx answer the browser logs; the test says how many it caused
    (each is one HTTP entry and one console entry) and takes exactly those off the list."""
    refused = [e for e in browser.errors if "/control/" in e and " HTTP 4" in e]
    assert len(refused) == count, browser.errors
    console = [e for e in browser.errors
               if "Failed to load resource: the server responded with a status of 4" in e]
    assert len(console) == count, browser.errors
    for entry in refused + console:
        browser.errors.remove(entry)


def _leg(sandbox, session_id: str, extension: str = "102") -> dict:
    return [leg for leg in sandbox.call(session_id)["legs"]
            if leg["extensionNumber"] == extension][-1]


def test_answer_hold_resume_record_a_refusal_and_hang_up(browser, rc_sandbox, live_app,
                                                         artifacts):
    rc_sandbox.config(speed=2, rate_limits={"enabled": False})
    page = browser.new_page()
    sign_in(page, rc_sandbox, live_app, extension="102")
    call = rc_sandbox.start_call("interactive", extension="102", from_="+16504445567",
                                 ring_seconds=600)
    card = page.locator(f"{CARD}[data-state='ringing']")
    card.wait_for()
    actions = card.locator(ACTIONS)
    # Answer on the chosen phone: the softphone.
    phone = actions.get_by_label("Answer on")
    page.wait_for_function("() => document.querySelectorAll("
                           "'[data-call-actions] [data-device] option').length >= 2")
    phone.select_option(label=phone.locator("option").nth(1).inner_text())
    actions.get_by_role("button", name="Answer").click()
    page.wait_for_selector(f"{CARD}[data-state='connected']")
    assert rc_sandbox.call(call["sessionId"])["legs"][0]["telephonyStatus"] == "CallConnected"
    with rc_sandbox.api("102") as api:
        session = api.get(f"/restapi/v1.0/account/~/telephony/sessions/"
                          f"{call['telephonySessionId']}").json()
        phones = api.get("/restapi/v1.0/account/~/extension/~/device").json()["records"]
    softphone = next(d for d in phones if d["type"] == "SoftPhone")
    assert session["parties"][0]["to"]["deviceId"] == softphone["id"]

    card = page.locator(CARD).first
    actions = card.locator(ACTIONS)
    actions.get_by_role("button", name="Hold").click()
    page.wait_for_selector(f"{CARD}[data-state='on_hold']")
    actions.get_by_role("button", name="Resume").click()
    page.wait_for_selector(f"{CARD}[data-state='connected']")
    # The README's picture of the buttons (test-artifacts/card-call-control.png).
    card.screenshot(path=str(artifacts / "card-call-control.png"))

    # A transfer to an extension nobody has: RingCentral's refusal next to the buttons.
    actions.locator("summary", has_text="Transfer…").first.click()
    picker = actions.locator("[data-picker=transfer]")
    picker.get_by_label("Transfer…: number").fill("999")
    picker.get_by_role("button", name="Transfer").click()
    error = actions.locator("[data-cc-error]")
    page.wait_for_function("() => document.querySelector('[data-cc-error]').textContent")
    assert error.inner_text() == "Resource for parameter [extensionNumber] is not found"
    _expect_refusals(browser, 1)
    assert _leg(rc_sandbox, call["sessionId"])["telephonyStatus"] == "CallConnected"

    actions.get_by_role("button", name="Record").click()
    actions.get_by_role("button", name="Pause recording").wait_for()
    assert actions.locator("[data-cc-status]").inner_text() == "Recording."
    actions.get_by_role("button", name="Pause recording").click()
    actions.get_by_role("button", name="Resume recording").wait_for()

    actions.get_by_role("button", name="Hang up").click()
    page.wait_for_selector(f"{CARD}[data-state='ended']")
    assert page.locator(f"{CARD} {ACTIONS} button").count() == 0
    rc_sandbox.wait_for(lambda: rc_sandbox.call(call["sessionId"])["endTime"])


def test_ringing_call_to_voicemail_and_a_reply(browser, rc_sandbox, live_app):
    rc_sandbox.config(speed=2, rate_limits={"enabled": False})
    page = browser.new_page()
    sign_in(page, rc_sandbox, live_app, extension="102")
    first = rc_sandbox.start_call("interactive", extension="102", from_="+16504445567",
                                  ring_seconds=600)
    page.locator(f"{CARD}[data-state='ringing']").wait_for()
    page.locator(ACTIONS).get_by_role("button", name="To voicemail").click()
    page.wait_for_selector(f"{CARD}:not([data-state='ringing'])")
    ended = rc_sandbox.wait_for(lambda: (c := rc_sandbox.call(first["sessionId"]))["endTime"]
                                and c)
    assert ended["legs"][0]["result"] == "Voicemail"

    second = rc_sandbox.start_call("interactive", extension="102", from_="+16504445568",
                                   ring_seconds=600)
    card = page.locator(f"{CARD}[data-state='ringing']")
    card.wait_for()
    actions = card.locator(ACTIONS)
    actions.locator("summary", has_text="Reply…").click()
    page.wait_for_function("() => document.querySelectorAll("
                           "'[data-call-actions] [data-text] option').length > 1")
    actions.get_by_label("Reply text").select_option("I'll call you back in 5 minutes.")
    actions.get_by_role("button", name="Send reply").click()
    ended = rc_sandbox.wait_for(lambda: (c := rc_sandbox.call(second["sessionId"]))["endTime"]
                                and c)
    assert ended["legs"][0]["result"] == "Reply"


def test_a_press_beyond_the_budget_says_when_to_try_again(browser, rc_sandbox, live_app):
    # Sofia: no other browser test signs her in, so the minute her budget stays blocked for
    # (the app's own, which the sandbox's reset does not clear) harms no later test.
    rc_sandbox.config(speed=2)
    page = browser.new_page()
    sign_in(page, rc_sandbox, live_app, extension="105")
    call = rc_sandbox.start_call("interactive", extension="105", from_="+16504445567",
                                 ring_seconds=600)
    card = page.locator(f"{CARD}[data-state='ringing']")
    card.wait_for()
    # The card's phone list (a Light request too) has arrived before the budget runs out.
    page.wait_for_function("() => document.querySelectorAll("
                           "'[data-call-actions] [data-device] option').length >= 2")
    # RingCentral's Light budget is spent from now on (another app of the same user, say).
    rc_sandbox.config(rate_limits={"Light": 1, "window": 60, "penalty": 60})
    button = card.locator(ACTIONS).get_by_role("button", name="To voicemail")
    error = card.locator(f"{ACTIONS} [data-cc-error]")
    for _ in range(2):
        button.click()
        page.wait_for_function("() => /try again in \\d+ s/.test("
                               "document.querySelector('[data-cc-error]').textContent)")
        assert re.fullmatch(r"RingCentral asks us to slow down; try again in \d+ s\.",
                            error.inner_text())
        page.evaluate("document.querySelector('[data-cc-error]').textContent = ''")
    _expect_refusals(browser, 2)
    # The second press was answered by our budget: it never reached RingCentral.
    assert rc_sandbox.stats()["throttled"].get("Light", 0) == 1
    assert rc_sandbox.call(call["sessionId"])["legs"][0]["telephonyStatus"] == "Ringing"
    # In distributed mode the app's budget is in the test run's Redis: forget the block.
    budget_reset()


def test_call_from_my_phone_in_the_dial_menu(browser, rc_sandbox, live_app):
    rc_sandbox.config(speed=2, rate_limits={"enabled": False})
    contact = contact_make("Grace", "Lin", "+16505550110", company="Northwind Traders")
    page = browser.new_page()
    sign_in(page, rc_sandbox, live_app, extension="102")
    page.goto(f"/contacts/{contact.pk}/")
    page.locator(".contact-phone").get_by_role(
        "button", name=re.compile("from my phone")).first.click()
    dialog = page.locator("#callout-dialog")
    dialog.wait_for()
    dialog.get_by_label(re.compile("RingCentral app")).check()
    dialog.get_by_role("button", name="Call").click()
    page.wait_for_selector("#callout-panel [data-co=status]:text('Your phone rings')")
    calls = rc_sandbox.wait_for(lambda: [c for c in rc_sandbox.calls()
                                         if c.get("scenario") == "call_out"])
    softphone = rc_sandbox.wait_for(lambda: [
        d for d in page.evaluate("fetch('/api/callcontrol/devices/').then(r => r.json())")
        ["devices"] if d["type"] == "SoftPhone"])[0]
    with rc_sandbox.api("102") as api:
        session = api.get(f"/restapi/v1.0/account/~/telephony/sessions/"
                          f"{calls[0]['telephonySessionId']}").json()
    assert session["origin"]["type"] == "CallOut"
    assert session["parties"][0]["from"]["deviceId"] == softphone["id"]
    assert session["parties"][0]["to"]["phoneNumber"] == "+16505550110"


def test_hold_a_call_that_already_ended_says_so_next_to_the_button(browser, rc_sandbox,
                                                                   live_app):
    rc_sandbox.config(speed=2, rate_limits={"enabled": False})
    page = browser.new_page()
    sign_in(page, rc_sandbox, live_app, extension="102")
    # The events that end the call are lost (presence #3: Ringing, CallConnected, NoCall;
    # the telephony session's #4: Setup, Proceeding, Answered, Disconnected; a fault without
    # "event" would drop the #3 of both kinds, the session's Answered among them), so the
    # card still shows the call as connected when the caller has hung up.
    call = rc_sandbox.start_call("interactive", extension="102", from_="+16504445567",
                                 ring_seconds=600, faults=[
                                     {"type": "drop", "index": 2, "event": "presence"},
                                     {"type": "drop", "index": 3, "event": "telephony-sessions"},
                                 ])
    page.locator(f"{CARD}[data-state='ringing']").wait_for()
    rc_sandbox.call_action(call["sessionId"], "answer")
    card = page.locator(f"{CARD}[data-state='connected']")
    card.wait_for()
    rc_sandbox.call_action(call["sessionId"], "hangup")
    rc_sandbox.wait_for(lambda: rc_sandbox.call(call["sessionId"])["endTime"])
    card.locator(ACTIONS).get_by_role("button", name="Hold").click()
    page.wait_for_function("() => document.querySelector('[data-cc-error]').textContent")
    assert card.locator(f"{ACTIONS} [data-cc-error]").inner_text() in (
        "The call has already ended.", "Telephony session is already finished")
    _expect_refusals(browser, 1)


def test_a_warm_transfer_called_off_then_park(browser, rc_sandbox, live_app):
    rc_sandbox.config(speed=2, rate_limits={"enabled": False})
    page = browser.new_page()
    sign_in(page, rc_sandbox, live_app, extension="102")
    # The call's telephony-session events come late (as they may): each press's answer is
    # on the card before the event that confirms it, and the confirming redraw keeps it.
    call = rc_sandbox.start_call("interactive", extension="102", from_="+16504445567",
                                 ring_seconds=600, faults=[
                                     {"type": "slow", "delay": 1.0, "event": "telephony-sessions"}])
    page.locator(f"{CARD}[data-state='ringing']").wait_for()
    rc_sandbox.call_action(call["sessionId"], "answer")
    customer = page.locator(f"{CARD}[data-state='connected']").first
    customer.wait_for()
    customer_id = customer.get_attribute("data-call-id")
    customer = page.locator(f"{CARD}[data-call-id='{customer_id}']")
    actions = customer.locator(ACTIONS)
    actions.locator("[data-picker=consult] summary").click()
    actions.get_by_label("Warm transfer…: number").fill("103")
    actions.get_by_role("button", name="Consult").click()
    page.wait_for_selector(f"{CARD}[data-call-id='{customer_id}'][data-state='on_hold']")
    actions.get_by_role("button", name="Cancel transfer").click()
    page.wait_for_selector(f"{CARD}[data-call-id='{customer_id}'][data-state='connected']")
    consults = [c for c in rc_sandbox.calls() if c.get("scenario") == "call_out"]
    assert len(consults) == 1
    rc_sandbox.wait_for(lambda: rc_sandbox.call(consults[0]["sessionId"])["endTime"])

    actions.get_by_role("button", name="Park").click()
    page.wait_for_selector(f"{CARD}[data-call-id='{customer_id}'][data-state='parked']")
    assert actions.locator("[data-cc-status]").inner_text() == "Parked at *801."
    assert _leg(rc_sandbox, call["sessionId"])["telephonyStatus"] == "ParkedCall"
