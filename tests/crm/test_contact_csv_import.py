"""CSV import in the admin: a Celery task imports the rows, the status page shows progress
and every bad row with its error."""

from django.core.files.uploadedfile import SimpleUploadedFile

from crm_cti.crm.models import Contact, ContactImport

CSV = (
    "First Name,Last Name,Company,Email,Mobile,Work\n"
    "Phillip,Marco,Marco Imports,phillip@marco.example,(650) 444-5567,\n"
    "Grace,Lin,Northwind,grace@northwind.example,,+1 650 555 0110\n"
    "Bad,Number,Nowhere,,12345,\n"
    "No,Mail,Nowhere,not-an-email,,\n"
    ",,,,,\n"
    "Phillip,Marco,Marco Imports,phillip@marco.example,,+1 650 555 0199\n"
)


def test_import_creates_updates_and_reports_bad_rows(
    admin_client, db, django_capture_on_commit_callbacks, eager_tasks
):
    page = admin_client.get("/admin/crm/contact/import/")
    assert page.status_code == 200 and "CSV file" in page.content.decode()

    upload = SimpleUploadedFile("contacts.csv", CSV.encode(), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/admin/crm/contact/import/", {"file": upload})
    imp = ContactImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/admin/crm/contact/import/{imp.pk}/"

    imp.refresh_from_db()  # the task ran (inline) when the upload was committed
    assert imp.status == "done"
    assert (imp.total_rows, imp.processed_rows) == (5, 5)
    assert (imp.created_count, imp.updated_count) == (2, 1)
    assert [e["row"] for e in imp.row_errors] == [4, 5]
    marco = Contact.objects.get(last_name="Marco")
    assert sorted(p.e164 for p in marco.phones.all()) == ["+16504445567", "+16505550199"]

    status = admin_client.get(response["Location"]).content.decode()
    assert "12345" in status and "not-an-email" in status
    progress = admin_client.get(response["Location"], HTTP_ACCEPT="application/json").json()
    assert progress["finished"] and progress["percent"] == 100
    assert len(progress["errors"]) == 2


def test_a_file_without_known_columns_fails_with_a_message(
    admin_client, db, django_capture_on_commit_callbacks, eager_tasks
):
    upload = SimpleUploadedFile("x.csv", b"foo,bar\n1,2\n", content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post("/admin/crm/contact/import/", {"file": upload})
    imp = ContactImport.objects.get()
    assert imp.status == "failed" and "No known column" in imp.failure


def test_agents_cannot_import(agent_client):
    # Agents are not staff: the admin sends them to its login page.
    response = agent_client.get("/admin/crm/contact/import/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
