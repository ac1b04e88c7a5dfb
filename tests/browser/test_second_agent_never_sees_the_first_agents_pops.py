"""Two agents signed in at once: a call to one never pops on the other's dashboard."""

from tests.browser.conftest import sign_in


def test_pops_reach_only_the_called_agent(browser, rc_sandbox, live_app):
    first = browser.new_page()
    sign_in(first, rc_sandbox, live_app, extension="102")
    second = browser.new_page()
    sign_in(second, rc_sandbox, live_app, extension="103")

    call = rc_sandbox.start_call("interactive", extension="102", from_="+16504445567")
    first.locator("#cards .card").first.wait_for()
    rc_sandbox.call_action(call["sessionId"], "answer")
    first.wait_for_selector("#cards .card[data-state='connected']")
    rc_sandbox.call_action(call["sessionId"], "hangup")
    first.wait_for_selector("#cards .card[data-state='ended']")
    first.wait_for_selector("#recent-calls li[data-call-id]")

    # Every message about the call has been pushed by now; none reached the second agent.
    assert second.locator("#cards .card").count() == 0
    assert second.locator("#recent-calls li[data-call-id]").count() == 0
    live = second.evaluate("fetch('/api/calls/live/').then(r => r.json())")
    assert live["calls"] == []
    # Nor does a fresh page (snapshot) or the history show it.
    second.reload()
    second.wait_for_selector("#conn[data-state='open']")
    assert second.locator("#cards .card").count() == 0
    call_id = first.locator("#recent-calls li[data-call-id]").first.get_attribute("data-call-id")
    # (Asked with the context's session outside the page: a 404 page is logged as an error.)
    assert second.request.get(f"/calls/{call_id}/").status == 404
    assert first.request.get(f"/calls/{call_id}/").status == 200
