"""CSV import of contacts: rows are validated one by one; a bad row is reported, not fatal.

The admin stores the uploaded file in a ContactImport row and enqueues
``crm_cti.crm.tasks.contact_import_process``; the task calls ``contact_import_run`` which
updates the row's progress as it goes, so the admin page can show it while it runs.

Rows are imported in batches, each in one transaction that also records how far the import
got (``processed_rows``): a run that dies (worker killed, broker restarted) leaves either a
whole batch or none of it, and the next run (the sweep starts it) carries on from there
without importing any row twice. An import always ends ``done`` (bad rows listed) or
``failed`` (the file, or repeated crashes): never ``running`` for good.
"""

from __future__ import annotations

import csv
import io
import logging
from datetime import timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DatabaseError, transaction
from django.utils import timezone

from crm_cti.crm.models import Contact, ContactImport, ContactPhone
from crm_cti.crm.phones import try_normalize_e164
from crm_cti.crm.services import ContactValidationError, contact_create, contact_update

logger = logging.getLogger(__name__)

# Column name (lower-case, spaces and dashes as underscores) → phone label.
PHONE_COLUMNS = {
    "phone": ContactPhone.Label.WORK,
    "work": ContactPhone.Label.WORK,
    "work_phone": ContactPhone.Label.WORK,
    "mobile": ContactPhone.Label.MOBILE,
    "mobile_phone": ContactPhone.Label.MOBILE,
    "cell": ContactPhone.Label.MOBILE,
    "home": ContactPhone.Label.HOME,
    "home_phone": ContactPhone.Label.HOME,
    "other": ContactPhone.Label.OTHER,
    "other_phone": ContactPhone.Label.OTHER,
}
TEXT_COLUMNS = ("first_name", "last_name", "company", "title", "email", "notes")
# Rows per transaction (and progress update): often enough to watch, rarely enough to be
# cheap, and what a crash can cost (the batch is rolled back and imported again).
BATCH_ROWS = 25
IMPORT_SOURCE = "CSV import"
# The task that runs an import (crm/tasks.py registers it under this name).
CONTACT_IMPORT_TASK = "crm.contact_import_process"


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (no header, no known column)."""


def _key(name: str) -> str:
    return (name or "").strip().lower().replace(" ", "_").replace("-", "_")


def parse_csv(text: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header keys and (row number in the file, row) pairs, blank rows left out; the
    header is row 1, so the numbers are what a spreadsheet shows."""
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = [_key(h) for h in next(reader)]
    except StopIteration as exc:
        raise ImportFileError("The file is empty.") from exc
    known = set(TEXT_COLUMNS) | set(PHONE_COLUMNS)
    if not known.intersection(header):
        raise ImportFileError(
            "No known column in the header row; expected some of: "
            + ", ".join(sorted(known))
        )
    rows = []
    for number, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        rows.append(
            (number, {header[i]: v.strip() for i, v in enumerate(values) if i < len(header)})
        )
    return header, rows


def _check_lengths(row: dict[str, str]) -> None:
    """Every value fits its column (PostgreSQL refuses a longer one, and the whole row
    with it); report each that does not, by column."""
    problems: dict[str, list[str]] = {}
    for name in TEXT_COLUMNS:
        limit = Contact._meta.get_field(name).max_length
        value = row.get(name, "")
        if limit and len(value) > limit:
            problems[name] = [f"{len(value)} characters: at most {limit} fit."]
    phone_limit = ContactPhone._meta.get_field("raw").max_length or 40
    for column in PHONE_COLUMNS:
        value = row.get(column, "")
        if len(value) > phone_limit:
            problems[column] = [f"{len(value)} characters: at most {phone_limit} fit."]
    if problems:
        raise ContactValidationError(problems)


def _existing_contact(fields: dict[str, str], numbers: list[str]) -> Contact | None:
    """The contact a row updates: same e-mail, else same name and company, else (a row
    with neither) a contact with one of its numbers. So importing a file twice, or again
    after a crash, updates the contacts the first time created instead of duplicating them."""
    if fields.get("email"):
        found = Contact.objects.filter(email__iexact=fields["email"]).order_by("id").first()
        if found:
            return found
    if fields.get("first_name") or fields.get("last_name"):
        return (
            Contact.objects.filter(
                first_name__iexact=fields.get("first_name", ""),
                last_name__iexact=fields.get("last_name", ""),
                company__iexact=fields.get("company", ""),
            )
            .order_by("id")
            .first()
        )
    e164s = [e for e in (try_normalize_e164(n) for n in numbers) if e]
    if e164s and not fields.get("email"):
        return (
            Contact.objects.filter(
                phones__e164__in=e164s, company__iexact=fields.get("company", "")
            )
            .order_by("id")
            .first()
        )
    return None


def import_row(row: dict[str, str], *, changed_by: Any = None) -> str:
    """Create or update one contact from a row; return "created" or "updated".

    Raises ContactValidationError with per-field messages for a bad row.
    """
    _check_lengths(row)
    fields = {name: row.get(name, "") for name in TEXT_COLUMNS}
    if fields["email"]:
        try:
            validate_email(fields["email"])
        except ValidationError as exc:
            message = f"{fields['email']!r} is not an e-mail address."
            raise ContactValidationError({"email": [message]}) from exc
    phones = [(label, row[col]) for col, label in PHONE_COLUMNS.items() if row.get(col)]
    existing = _existing_contact(fields, [raw for _label, raw in phones])
    who = {"changed_by": changed_by, "source": IMPORT_SOURCE}
    if existing is None:
        contact_create(**fields, phones=phones, **who)
        return "created"
    # Keep the numbers the contact already has and add the row's.
    current = [(p.label, p.raw) for p in existing.phones.all()]
    updates = {k: v for k, v in fields.items() if v}
    contact_update(contact=existing, phones=current + phones, **updates, **who)
    return "updated"


def _finish(imp: ContactImport, *, status: str, failure: str = "") -> ContactImport:
    imp.status = status
    imp.failure = failure
    imp.finished_at = timezone.now()
    imp.save()
    return imp


def _import_batch(pk: int, rows: list[tuple[int, dict[str, str]]]) -> ContactImport | None:
    """Import the next batch of rows in one transaction with the progress; returns the
    import, or None when there was no row left. Holding the import's row lock, two runs
    of one import (a sweep racing a slow worker) take turns and never repeat a row."""
    with transaction.atomic():
        imp = ContactImport.objects.select_for_update().defer("content").get(pk=pk)
        if imp.is_finished:
            return imp
        start = imp.processed_rows
        batch = rows[start:start + BATCH_ROWS]
        if not batch:
            return None
        for number, row in batch:
            try:
                # A savepoint per row: a row the database refuses is that row's error.
                with transaction.atomic():
                    outcome = import_row(row, changed_by=imp.created_by)
            except ContactValidationError as exc:
                imp.row_errors.append({"row": number, "errors": exc.errors})
            except (DatabaseError, ValueError) as exc:
                # ValueError: what psycopg refuses before sending (a NUL character).
                logger.warning("contact import %s row %s refused: %s", pk, number, exc)
                message = f"The database refused this row: {str(exc).splitlines()[0][:200]}"
                imp.row_errors.append({"row": number, "errors": {"row": [message]}})
            else:
                if outcome == "created":
                    imp.created_count += 1
                else:
                    imp.updated_count += 1
        imp.processed_rows = start + len(batch)
        imp.save()
        return imp


def contact_import_run(*, contact_import: ContactImport) -> ContactImport:
    """Process the rows of an import not processed yet, recording progress and per-row
    errors; safe to run again after a crash, or while another run is going on."""
    pk = contact_import.pk
    with transaction.atomic():
        imp = ContactImport.objects.select_for_update().get(pk=pk)
        if imp.is_finished:
            return imp
        imp.attempts += 1
        if imp.attempts > settings.CONTACT_IMPORT_MAX_ATTEMPTS:
            return _finish(
                imp,
                status=ContactImport.Status.FAILED,
                failure=(
                    f"Stopped after {imp.attempts - 1} attempts that did not finish, at row "
                    f"{imp.processed_rows + 1} of {imp.total_rows}: check that row."
                ),
            )
        imp.status = ContactImport.Status.RUNNING
        imp.save()
    try:
        _header, rows = parse_csv(imp.content)
    except (ImportFileError, csv.Error) as exc:
        return _finish(imp, status=ContactImport.Status.FAILED, failure=str(exc))
    if imp.total_rows != len(rows):
        ContactImport.objects.filter(pk=pk).update(total_rows=len(rows), updated_at=timezone.now())
    try:
        while (done := _import_batch(pk, rows)) is not None:
            if done.is_finished:
                return done
    except Exception as exc:
        # Whatever went wrong, the import must not look as if it were still running.
        logger.exception("contact import %s failed", pk)
        imp = ContactImport.objects.get(pk=pk)
        at = rows[imp.processed_rows][0] if imp.processed_rows < len(rows) else "?"
        return _finish(
            imp, status=ContactImport.Status.FAILED,
            failure=f"The import stopped in the rows from row {at} on: "
                    f"{type(exc).__name__}: {str(exc)[:300]}",
        )
    imp = ContactImport.objects.get(pk=pk)
    if imp.is_finished:
        return imp
    return _finish(imp, status=ContactImport.Status.DONE)


def contact_imports_sweep() -> int:
    """Start again the imports whose task was lost: pending or running, and not updated for
    ``CONTACT_IMPORT_SWEEP_AFTER_SECONDS`` (a live run saves every batch). Returns how
    many were queued."""
    cutoff = timezone.now() - timedelta(seconds=settings.CONTACT_IMPORT_SWEEP_AFTER_SECONDS)
    stale = list(
        ContactImport.objects.filter(
            status__in=[ContactImport.Status.PENDING, ContactImport.Status.RUNNING],
            updated_at__lt=cutoff,
        ).values_list("pk", flat=True)[:100]
    )
    # Touched, so that the next sweep leaves them to the task just queued.
    ContactImport.objects.filter(pk__in=stale).update(updated_at=timezone.now())
    for pk in stale:
        # By name: crm/tasks.py imports this module, not the other way round.
        transaction.on_commit(lambda pk=pk: current_app.tasks[CONTACT_IMPORT_TASK].delay(pk))
    if stale:
        logger.info("contact imports sweep: started %d lost imports again", len(stale))
    return len(stale)


@transaction.atomic
def contact_import_create(*, text: str, filename: str, user: Any) -> ContactImport:
    return ContactImport.objects.create(
        content=text, filename=filename[:255], created_by=user if user and user.pk else None
    )
