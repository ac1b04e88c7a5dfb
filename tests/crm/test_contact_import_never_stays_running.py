"""A CSV import always finishes: a value longer than its column is reported with its row
and column (PostgreSQL refuses it, where SQLite would store it), any other failure ends the
import "failed" with a message, and an import that keeps dying is given up, never left
"running" for good. Runs on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from crm_cti.crm.models import Contact, ContactImport
from crm_cti.crm.tasks import contact_imports_sweep_task

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _postgres(distributed_mode):
    """PostgreSQL enforces the column lengths."""


def _upload(admin_client, text: str, capture) -> ContactImport:
    upload = SimpleUploadedFile("contacts.csv", text.encode(), content_type="text/csv")
    with capture(execute=True):
        response = admin_client.post("/admin/crm/contact/import/", {"file": upload})
    assert response.status_code == 302
    return ContactImport.objects.get()


def test_a_value_longer_than_its_column_is_that_rows_error(
    admin_client, django_capture_on_commit_callbacks, eager_tasks
):
    text = (
        "first_name,last_name,company,title,mobile\n"
        f"Ada,Lovelace,{'C' * 250},Countess,+1 650 200 0001\n"
        "Grace,Hopper,Navy,Rear admiral,+1 650 200 0002\n"
        f"{'F' * 101},Long,,,\n"
        f"Number,Long,,,+1 650 200 0003{' ' * 40}x\n"
    )
    imp = _upload(admin_client, text, django_capture_on_commit_callbacks)
    imp.refresh_from_db()
    assert imp.status == "done", imp.failure
    assert (imp.processed_rows, imp.created_count) == (4, 1)
    errors = {e["row"]: e["errors"] for e in imp.row_errors}
    assert set(errors) == {2, 4, 5}
    assert errors[2] == {"company": ["250 characters: at most 200 fit."]}
    assert errors[4] == {"first_name": ["101 characters: at most 100 fit."]}
    assert "mobile" in errors[5]
    assert list(Contact.objects.values_list("last_name", flat=True)) == ["Hopper"]
    page = admin_client.get(f"/admin/crm/contact/import/{imp.pk}/").content.decode()
    assert "250 characters: at most 200 fit." in page


def test_an_import_that_keeps_dying_is_given_up_with_a_message(
    admin_client, django_capture_on_commit_callbacks, eager_tasks, settings
):
    text = "first_name,last_name\nAda,Lovelace\n"
    upload = SimpleUploadedFile("contacts.csv", text.encode(), content_type="text/csv")
    # The upload's task is lost (not run), as if its worker died each time it started it.
    with django_capture_on_commit_callbacks(execute=False):
        admin_client.post("/admin/crm/contact/import/", {"file": upload})
    ContactImport.objects.update(
        status="running", attempts=settings.CONTACT_IMPORT_MAX_ATTEMPTS,
        updated_at=timezone.now() - timedelta(hours=1),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert contact_imports_sweep_task.delay().get() == 1
    imp = ContactImport.objects.get()
    assert imp.status == "failed"
    assert f"after {settings.CONTACT_IMPORT_MAX_ATTEMPTS} attempts" in imp.failure
    assert not Contact.objects.exists()


def test_a_file_with_nul_characters_is_refused_at_upload(admin_client):
    # What a spreadsheet's own format looks like when uploaded by mistake.
    upload = SimpleUploadedFile("contacts.csv", b"first_name,last_name\nAda\x00,Lovelace\n",
                                content_type="text/csv")
    response = admin_client.post("/admin/crm/contact/import/", {"file": upload})
    assert response.status_code == 200
    assert "NUL characters" in response.content.decode()
    assert not ContactImport.objects.exists()
