"""The sandbox console at ``/sandbox/`` in headless Chromium: a person makes a phone ring,
answers, holds and hangs up; the OAuth sign-in page shows a wrong password."""


import pytest

from tests.support.sandbox import SandboxProcess

pytestmark = pytest.mark.browser


@pytest.fixture
def page(chromium):
    context = chromium.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    page.set_default_timeout(20_000)
    yield page
    context.close()
    assert errors == []


def test_ring_answer_hold_hang_up(fresh_sandbox: SandboxProcess, page) -> None:
    page.goto(fresh_sandbox.url + "/sandbox/")
    page.select_option("#extension", "103")
    page.fill("#from", "+14155550142")
    page.select_option("#scenario", "interactive")
    page.click("#ring-button")
    row = page.locator("#calls tbody tr").first
    row.get_by_text("103: Ringing").wait_for()
    row.locator(".action-answer").click()
    row.get_by_text("103: CallConnected").wait_for()
    row.locator(".action-hold").click()
    row.get_by_text("103: OnHold").wait_for()
    row.locator(".action-resume").click()
    row.get_by_text("103: CallConnected").wait_for()
    row.locator(".action-hangup").click()
    row.get_by_text("ended: Accepted").wait_for()
    calls = fresh_sandbox.calls()
    assert calls[0]["legs"][0]["from"] == "+14155550142"
    assert calls[0]["legs"][0]["result"] == "Accepted"


def test_sign_in_page_shows_a_wrong_password(fresh_sandbox: SandboxProcess, page) -> None:
    page.goto(fresh_sandbox.url + "/restapi/oauth/authorize?response_type=code&client_id="
              f"{fresh_sandbox.client_id}&redirect_uri=http://127.0.0.1:8000/auth/callback/"
              "&state=abc")
    page.fill("#username", "102")
    page.fill("#password", "not-it")
    page.click("#signin")
    assert "Invalid username or password" in page.locator("#signin-error").inner_text()


def test_agent_phone_call_control_buttons(fresh_sandbox: SandboxProcess, page) -> None:
    """Answer on the phone, hold and resume, blind-transfer to 103, who parks it; 104 picks
    it up; the call-control scenarios are offered."""
    page.goto(fresh_sandbox.url + "/sandbox/")
    offered = page.locator("#scenario option").all_inner_texts()
    assert {"call_queue", "blind_transfer", "warm_transfer", "park_pickup", "forward",
            "reject_voicemail"} <= set(offered)
    page.select_option("#extension", "102")
    page.select_option("#scenario", "interactive")
    page.click("#ring-button")
    row = page.locator("#calls tbody tr").first
    phone = row.locator('.phone[data-extension="102"]')
    phone.get_by_text("102 (Proceeding)").wait_for()
    phone.locator(".party-answer").click()
    phone.get_by_text("102 (Answered)").wait_for()
    phone.locator(".party-hold").click()
    phone.get_by_text("102 (Hold)").wait_for()
    phone.locator(".party-unhold").click()
    phone.get_by_text("102 (Answered)").wait_for()
    page.fill("#target", "103")
    phone.locator(".party-transfer").click()
    priya = row.locator('.phone[data-extension="103"]')
    priya.get_by_text("103 (Proceeding)").wait_for()
    assert row.locator('.phone[data-extension="102"]').count() == 0
    priya.locator(".party-answer").click()
    priya.get_by_text("103 (Answered)").wait_for()
    priya.locator(".party-park").click()
    priya.get_by_text("103 (Parked)").wait_for()
    page.fill("#target", "104")
    priya.locator(".party-pickup").click()
    daniel = row.locator('.phone[data-extension="104"]')
    daniel.get_by_text("104 (Answered)").wait_for()
    daniel.locator(".party-hangup").click()
    row.get_by_text("ended:").wait_for()
    legs = fresh_sandbox.calls()[0]["legs"]
    assert [(leg["extensionNumber"], leg["partyStatus"]) for leg in legs] == [
        ("102", "Gone"), ("103", "Gone"), ("104", "Disconnected")]


def test_text_an_extension_and_see_the_voicemail(fresh_sandbox: SandboxProcess, page) -> None:
    """A person texts 103 from the console; a voicemail left on 102 shows in the table."""
    fresh_sandbox.config(speed=20, transcription_delay=0)
    page.goto(fresh_sandbox.url + "/sandbox/")
    page.select_option("#text-extension", "103")
    page.fill("#text-from", "+14155550142")
    page.fill("#text-name", "Rose White")
    page.fill("#text-body", "Is the quote ready?")
    page.click("#text-button")
    row = page.locator("#messages tbody tr", has_text="Is the quote ready?")
    row.get_by_text("Rose White +14155550142").wait_for()
    assert "Unread" in row.inner_text()
    (stored,) = fresh_sandbox.http.get("/sandbox/message-store",
                                       params={"extension": "103"}).json()
    assert stored["subject"] == "Is the quote ready?" and stored["direction"] == "Inbound"
    page.select_option("#extension", "102")
    page.select_option("#scenario", "inbound_voicemail")
    page.click("#ring-button")
    voicemail = page.locator("#messages tbody tr", has_text="VoiceMail")
    voicemail.get_by_text("transcription Completed").wait_for()
