"""``RC_EVENTS_TRANSPORT=websocket`` with ``manage.py demo`` (what ``make demo`` runs): an
agent signs in through the sandbox in a real Chromium, and a call pops, is answered and
ends on the dashboard, while the webhook address leads nowhere: the notifications came over
the platform's WebSocket gateway, on the signed-in agent's own connection."""

from __future__ import annotations

import httpx

from tests.accounts.signin_helpers import PASSWORD
from tests.browser.conftest import Browser
from tests.foundation.helpers import demo_with_sandbox
from tests.support.stack import wait_until

# Nothing listens there (the discard port): a webhook could never be delivered.
NOWHERE = "http://127.0.0.1:9"


def test_the_websocket_demo_pops_a_call_with_no_webhook(chromium, tmp_path) -> None:
    with demo_with_sandbox(tmp_path, RC_EVENTS_TRANSPORT="websocket",
                           WEBHOOK_BASE_URL=NOWHERE) as (url, sandbox_url):
        sandbox = httpx.Client(base_url=sandbox_url, timeout=10)
        browser = Browser(chromium, url)
        page = browser.new_page()
        page.goto("/auth/signin/")
        page.click("#signin-ringcentral")
        page.wait_for_url(f"{sandbox_url}/**")
        page.fill("#username", "102")
        page.fill("#password", PASSWORD)
        page.click("#signin")
        page.wait_for_url(f"{url}/")
        page.wait_for_selector("#conn[data-state='open']")

        def subscribed() -> list:
            return [s for s in sandbox.get("/sandbox/subscriptions").json()
                    if s["transport"] == "WebSocket" and s["status"] == "Active"]
        wait_until(subscribed, timeout=45, interval=0.3, what="the agent's gateway connection")

        call = sandbox.post("/sandbox/calls", json={
            "scenario": "interactive", "extension": "102", "from": "+16504445567"}).json()
        card = page.locator("#cards .card").first
        card.wait_for()
        assert card.get_attribute("data-state") == "ringing"
        sandbox.post(f"/sandbox/calls/{call['sessionId']}/answer", json={})
        page.wait_for_selector("#cards .card[data-state='connected']")
        sandbox.post(f"/sandbox/calls/{call['sessionId']}/hangup", json={})
        page.wait_for_selector("#cards .card[data-state='ended']")

        # No webhook subscription was ever made; every notification went to a gateway session.
        assert {s["transport"] for s in sandbox.get("/sandbox/subscriptions").json()} == {
            "WebSocket"}
        deliveries = sandbox.get("/sandbox/deliveries").json()
        assert deliveries and all(d["address"].startswith("wsc:") for d in deliveries)
        browser.close()
        sandbox.close()
    assert not browser.errors, "errors in the browser console:\n" + "\n".join(browser.errors)
