"""Background work of the crm domain."""

from __future__ import annotations

from celery import shared_task

from crm_cti.crm.importing import CONTACT_IMPORT_TASK, contact_import_run, contact_imports_sweep
from crm_cti.crm.models import ContactImport


@shared_task(name=CONTACT_IMPORT_TASK)
def contact_import_process(import_id: int) -> None:
    contact_import = ContactImport.objects.filter(pk=import_id).first()
    if contact_import is None or contact_import.is_finished:
        return
    contact_import_run(contact_import=contact_import)


@shared_task(name="crm.contact_imports_sweep")
def contact_imports_sweep_task() -> int:
    return contact_imports_sweep()
