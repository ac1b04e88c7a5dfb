"""The connection indicator shows a dropped /ws/agent/ connection; the page reconnects by
itself and the snapshot restores a call that started while it was down."""

from crm_cti.accounts.models import Agent
from crm_cti.telephony.models import Call
from tests.browser.conftest import CuttableSocket, sign_in
from tests.support.people import contact_make


def test_reconnects_and_the_snapshot_restores_the_card(browser, rc_sandbox, live_app):
    contact_make("Phillip", "Marco", "+16504445567", company="Marco Imports")
    page = browser.new_page()
    network = CuttableSocket(page)
    sign_in(page, rc_sandbox, live_app, extension="102")

    network.cut()
    page.wait_for_selector("#conn[data-state='connecting']")
    assert "Reconnecting" in page.locator("#conn").inner_text()

    call = rc_sandbox.start_call("interactive", extension="102", from_="+16504445567")
    agent = Agent.objects.get(extension_number="102")
    rc_sandbox.wait_for(lambda: Call.objects.filter(agent=agent, state="ringing").exists())
    assert page.locator("#cards .card").count() == 0

    network.restore()
    page.wait_for_selector("#conn[data-state='open']", timeout=40_000)
    page.wait_for_selector("#cards .card .card-title:text('Phillip Marco')")
    rc_sandbox.call_action(call["sessionId"], "hangup")
    page.wait_for_selector("#cards .card[data-state='missed']")
