"""An admin sets the team's rules on Team settings and fixes data on the data-quality page
in the browser: the switchboard three contacts share becomes a company line in one click,
and the next call from it pops the company."""

from crm_cti.accounts.models import TeamSettings
from tests.browser.conftest import sign_in
from tests.support.people import contact_make

SWITCHBOARD = "+16505550119"


def test_team_settings_and_a_company_line_from_data_quality(browser, rc_sandbox, live_app):
    for first in ("Grace", "Samuel", "Maria"):
        contact_make(first, "Northwind", SWITCHBOARD, company="Northwind Traders")
    page = browser.new_page()
    sign_in(page, rc_sandbox, live_app, extension="101")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Team settings").click()
    page.get_by_label("Ask the agent to choose").check()
    page.get_by_label("Require a disposition").check()
    page.get_by_role("button", name="Save team settings").click()
    page.wait_for_selector(".message-success:text('Team settings saved.')")
    team = TeamSettings.objects.get()
    assert (team.match_policy, team.require_disposition) == ("ask", True)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Data quality").click()
    row = page.locator(f"#shared-numbers li[data-number='{SWITCHBOARD}']")
    assert "3 contacts" in row.inner_text()
    assert row.get_by_label("Company").input_value() == "Northwind Traders"
    row.get_by_role("button", name="Mark as company line").click()
    page.wait_for_selector(".message-success:text('company line of Northwind Traders')")
    assert page.locator(f"#shared-numbers li[data-number='{SWITCHBOARD}']").count() == 0
    assert "Northwind Traders" in page.locator("#company-lines").inner_text()

    page.goto("/")
    page.wait_for_selector("#conn[data-state='open']")
    call = rc_sandbox.start_call("interactive", extension="101", from_=SWITCHBOARD)
    card = page.locator("#cards .card").first
    card.wait_for()
    assert card.locator(".card-title").inner_text() == "Northwind Traders"
    assert "Company line" in card.locator("[data-f=company]").inner_text()
    rc_sandbox.call_action(call["sessionId"], "hangup")
