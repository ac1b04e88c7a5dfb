"""A call ringing while the tab is not in front flashes the title and raises a browser
notification (once the agent allowed notifications with a click)."""

from tests.browser.conftest import sign_in
from tests.support.people import contact_make

# The browser's own APIs are replaced, not ours: a headless page is always "in front" and
# has no notification centre to look at.
BACKGROUND_TAB = """
window.__notifications = [];
window.__permission = "default";
Object.defineProperty(Document.prototype, "hasFocus", { value: () => false });
window.Notification = class {
  constructor(title, options) { window.__notifications.push({ title, body: options.body }); }
  close() {}
  static get permission() { return window.__permission; }
  static requestPermission() { window.__permission = "granted"; return Promise.resolve("granted"); }
};
"""


def test_background_tab_flashes_title_and_notifies(browser, rc_sandbox, live_app):
    contact_make("Phillip", "Marco", "+16504445567", company="Marco Imports")
    page = browser.new_page()
    page.add_init_script(BACKGROUND_TAB)
    sign_in(page, rc_sandbox, live_app, extension="102")

    button = page.get_by_role("button", name="Enable call notifications")
    button.click()
    page.wait_for_function("() => window.__permission === 'granted'")
    assert not button.is_visible()

    call = rc_sandbox.start_call("interactive", extension="102", from_="+16504445567")
    page.wait_for_selector("#cards .card")
    page.wait_for_function("() => document.title.includes('Phillip Marco calling')")
    notes = page.evaluate("window.__notifications")
    assert notes == [{"title": "Incoming call: Phillip Marco", "body": "(650) 444-5567"}]
    # The title keeps flashing: it alternates with the page's own title.
    page.wait_for_function("() => !document.title.includes('calling')")
    rc_sandbox.call_action(call["sessionId"], "hangup")
