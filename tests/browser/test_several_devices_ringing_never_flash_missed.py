"""Several devices ring for one call and the platform sends no ``terminationType`` (the
``intermediate`` marker is deprecated): the card the agent sees goes ringing → connected →
ended and never shows "Missed", not even for a moment; one card for the call."""

from tests.browser.conftest import sign_in

# Every state any card takes, recorded by the page itself as the DOM changes.
RECORD_STATES = """() => {
  window.__cardStates = [];
  const seen = (card) => window.__cardStates.push(
    [card.dataset.callId || '', card.getAttribute('data-state')]);
  document.querySelectorAll('#cards .card').forEach(seen);
  new MutationObserver((mutations) => {
    for (const m of mutations) {
      if (m.type === 'attributes' && m.target.classList.contains('card')) seen(m.target);
      for (const node of m.addedNodes || []) {
        if (node.nodeType !== 1) continue;
        if (node.classList.contains('card')) seen(node);
        node.querySelectorAll && node.querySelectorAll('.card').forEach(seen);
      }
    }
  }).observe(document.querySelector('#cards'),
             {subtree: true, childList: true, attributes: true, attributeFilter: ['data-state']});
}"""


def test_the_card_never_says_missed(browser, rc_sandbox, live_app):
    page = browser.new_page()
    sign_in(page, rc_sandbox, live_app, extension="102")
    page.evaluate(RECORD_STATES)

    rc_sandbox.start_call("multi_device", extension="102", from_="+16504445567",
                          ring_seconds=3, talk_seconds=2, termination_markers=False)
    page.wait_for_selector("#cards .card[data-state='ended']", timeout=60_000)

    seen = page.evaluate("() => window.__cardStates")
    states = [state for _card, state in seen]
    folded = [s for i, s in enumerate(states) if i == 0 or states[i - 1] != s]
    assert folded == ["ringing", "connected", "ended"], seen
    assert len({card for card, _state in seen}) == 1, seen
    assert page.locator("#cards .card").count() == 1
