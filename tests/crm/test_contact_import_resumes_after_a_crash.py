"""A contact import survives losing its task: a worker killed in the middle of an import
(SIGKILL, so nothing is cleaned up) leaves it "running"; the sweep starts it again and it
carries on where the last committed batch left off, so every row becomes exactly one
contact. An upload whose task never reached a worker (Redis restarted) is picked up too.

Real Celery worker on Redis, real PostgreSQL.
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from crm_cti.crm.importing import contact_import_create
from crm_cti.crm.models import Contact, ContactImport
from crm_cti.crm.tasks import contact_import_process, contact_imports_sweep_task
from tests.support.stack import ManagedProcess, process_env, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROWS = 3000


def _csv() -> str:
    # Rows without a name or an e-mail: only the resume point (or the number) can tell a
    # row imported before the crash from a new one.
    lines = ["company,mobile"]
    lines += [f"Shop {i},+1 650 {2000000 + i:07d}" for i in range(ROWS)]
    return "\n".join(lines) + "\n"


@pytest.fixture
def own_worker(distributed_mode, transactional_db):
    queue = f"crm-import-crash-{os.getpid()}"
    worker = ManagedProcess(
        name="crm_import_worker",
        args=[
            sys.executable, "-m", "celery", "-A", "crm_cti", "worker", "--loglevel", "INFO",
            "--concurrency", "1", "--pool", "threads", "--hostname", f"crm-{os.getpid()}@%h",
            "--without-gossip", "--without-mingle",
        ],
        env=process_env(CELERY_QUEUE=queue),
    )
    worker.start()

    def ready() -> bool:
        worker.assert_alive()
        return " ready." in worker.log_path.read_text(errors="replace")

    wait_until(ready, timeout=60, interval=0.25, what="the import worker to be ready")
    yield worker, queue
    worker.stop()


def test_a_killed_import_resumes_without_duplicates(
    admin_client, own_worker, django_capture_on_commit_callbacks, eager_tasks
):
    worker, queue = own_worker
    # What the admin's upload stores; its task is queued below, to the worker we can kill.
    imp = contact_import_create(text=_csv(), filename="shops.csv", user=None)
    # Not through eager_tasks: this one goes to the real worker over Redis.
    from crm_cti.celery import app

    app.conf.task_always_eager = False
    contact_import_process.apply_async(args=[imp.pk], queue=queue)
    wait_until(
        lambda: ContactImport.objects.get(pk=imp.pk).processed_rows >= 100,
        timeout=120, interval=0.05, what="the worker to import some rows",
    )
    worker.kill()
    app.conf.task_always_eager = True

    imp.refresh_from_db()
    assert imp.status == "running" and 0 < imp.processed_rows < ROWS
    # What a batch committed is there, and nothing of the batch the kill interrupted.
    assert Contact.objects.count() == imp.processed_rows == imp.created_count

    # The sweep finds it once it has not moved for a while, and starts it again.
    ContactImport.objects.filter(pk=imp.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert contact_imports_sweep_task.delay().get() == 1
    imp.refresh_from_db()
    assert imp.status == "done", imp.failure
    assert (imp.processed_rows, imp.created_count, imp.row_errors) == (ROWS, ROWS, [])
    assert Contact.objects.count() == ROWS
    assert imp.attempts == 2

    # Importing the same file again updates those contacts (matched by number): no copies.
    again = SimpleUploadedFile("shops.csv", _csv().encode(), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post("/admin/crm/contact/import/", {"file": again})
    second = ContactImport.objects.exclude(pk=imp.pk).get()
    assert (second.status, second.updated_count, second.created_count) == ("done", ROWS, 0)
    assert Contact.objects.count() == ROWS


def test_an_upload_whose_task_was_lost_is_picked_up(
    distributed_mode, django_capture_on_commit_callbacks, eager_tasks
):
    # An upload stored, whose task the broker lost (Redis restarted before a worker took it).
    imp = contact_import_create(
        text="first_name,last_name\nAda,Lovelace\n", filename="few.csv", user=None
    )
    assert imp.status == "pending"
    with django_capture_on_commit_callbacks(execute=True):
        assert contact_imports_sweep_task.delay().get() == 0  # too recent: maybe queued
    ContactImport.objects.update(updated_at=timezone.now() - timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert contact_imports_sweep_task.delay().get() == 1
    imp.refresh_from_db()
    assert imp.status == "done" and imp.created_count == 1
    assert Contact.objects.get().last_name == "Lovelace"
    # Beat runs the sweep by itself.
    from django.conf import settings

    assert {"task": "crm.contact_imports_sweep", "schedule": 60.0} in (
        settings.CELERY_BEAT_SCHEDULE.values()
    )
