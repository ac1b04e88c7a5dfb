"""Pop receipts in the browser: the dashboard that drew a call's cards acknowledges each
one over its socket, and an admin's operations page then counts them in its event → render
figures (distributed mode: receipts live in Redis)."""

import pytest

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.usefixtures("distributed_mode")


def test_the_pops_a_dashboard_drew_are_counted_on_the_operations_page(
    browser, rc_sandbox, live_app
):
    admin = browser.new_page()
    sign_in(admin, rc_sandbox, live_app, extension="101")

    def acknowledged() -> int:
        admin.goto("/ops/")
        cell = admin.locator("#pop-receipts tr[data-period='last hour'] td").first
        return int(cell.inner_text())

    # The stack is shared with the other browser tests: count from what they left.
    before = acknowledged()
    agent = browser.new_page()
    sign_in(agent, rc_sandbox, live_app, extension="102")
    call = rc_sandbox.start_call("interactive", extension="102", from_="+16504445567")
    agent.wait_for_selector("#cards .card[data-state='ringing']")
    rc_sandbox.call_action(call["sessionId"], "answer")
    agent.wait_for_selector("#cards .card[data-state='connected']")

    # Ringing and connected, each drawn once and acknowledged once.
    rc_sandbox.wait_for(lambda: acknowledged() >= before + 2, timeout=20)
    row = admin.locator("#pop-receipts tr[data-period='last hour'] td")
    assert row.nth(1).inner_text() != "—"  # a p50 in ms
    # (Pops never acknowledged are counted after a grace: tests/telephony's receipts test.)
