"""An admin imports contacts from a CSV file in the Django admin: the status page shows the
progress and every rejected row with its error, and the contacts appear."""

from crm_cti.crm.models import Contact
from tests.browser.conftest import sign_in

ROWS = ["first_name,last_name,company,email,mobile"] + [
    f"Demo{i},Person{i},Import Test Inc,demo{i}@import.example,+1 415 555 {1000 + i:04d}"
    for i in range(60)
] + ["Bad,Number,Import Test Inc,,12345", "Bad,Mail,Import Test Inc,not-an-email,"]


def test_csv_import_with_progress_and_row_errors(browser, rc_sandbox, live_app, tmp_path):
    csv_file = tmp_path / "contacts.csv"
    csv_file.write_text("\n".join(ROWS) + "\n")
    page = browser.new_page()
    sign_in(page, rc_sandbox, live_app, extension="101")
    page.get_by_role("link", name="Admin").click()
    page.goto("/admin/crm/contact/")
    page.get_by_role("link", name="Import CSV").click()
    page.get_by_label("CSV file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Import").click()

    page.wait_for_url("**/admin/crm/contact/import/*/")
    page.wait_for_selector("#imp-status:text('done')", timeout=60_000)
    assert page.locator("#imp-count").inner_text() == "62/62"
    assert page.locator("#imp-created").inner_text() == "60"
    assert page.locator("#imp-progress").get_attribute("value") == "100"
    errors = page.locator("#imp-errors tbody").inner_text()
    assert "12345" in errors and "not-an-email" in errors
    assert Contact.objects.filter(company="Import Test Inc").count() == 60
