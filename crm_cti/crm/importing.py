"""CSV import of contacts: rows are validated one by one; a bad row is reported, not fatal.

The admin stores the uploaded file in a ContactImport row and enqueues
``crm_cti.crm.tasks.contact_import_process``; the task calls ``contact_import_run`` which
updates the row's progress as it goes, so the admin page can show it while it runs.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from crm_cti.crm.models import Contact, ContactImport, ContactPhone
from crm_cti.crm.services import ContactValidationError, contact_create, contact_update

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
# Progress is written every this many rows: often enough to watch, rarely enough to be cheap.
PROGRESS_EVERY = 25


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (no header, no known column)."""


def _key(name: str) -> str:
    return (name or "").strip().lower().replace(" ", "_").replace("-", "_")


def parse_csv(text: str) -> tuple[list[str], list[dict[str, str]]]:
    """Header keys and rows (dicts keyed by normalized column name)."""
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
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        rows.append({header[i]: v.strip() for i, v in enumerate(values) if i < len(header)})
    return header, rows


def _existing_contact(fields: dict[str, str]) -> Contact | None:
    """The contact a row updates: same e-mail, else same name and company."""
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
    return None


def import_row(row: dict[str, str]) -> str:
    """Create or update one contact from a row; return "created" or "updated".

    Raises ContactValidationError with per-field messages for a bad row.
    """
    fields = {name: row.get(name, "") for name in TEXT_COLUMNS}
    if fields["email"]:
        try:
            validate_email(fields["email"])
        except ValidationError as exc:
            message = f"{fields['email']!r} is not an e-mail address."
            raise ContactValidationError({"email": [message]}) from exc
    phones = [(label, row[col]) for col, label in PHONE_COLUMNS.items() if row.get(col)]
    existing = _existing_contact(fields)
    if existing is None:
        contact_create(**fields, phones=phones)
        return "created"
    # Keep the numbers the contact already has and add the row's.
    current = [(p.label, p.raw) for p in existing.phones.all()]
    updates = {k: v for k, v in fields.items() if v}
    contact_update(contact=existing, phones=current + phones, **updates)
    return "updated"


def contact_import_run(*, contact_import: ContactImport) -> ContactImport:
    """Process every row of an import, recording progress and per-row errors."""
    imp = contact_import
    imp.status = ContactImport.Status.RUNNING
    imp.row_errors = []
    imp.processed_rows = imp.created_count = imp.updated_count = 0
    try:
        _header, rows = parse_csv(imp.content)
    except (ImportFileError, csv.Error) as exc:
        imp.status = ContactImport.Status.FAILED
        imp.failure = str(exc)
        imp.finished_at = timezone.now()
        imp.save()
        return imp
    imp.total_rows = len(rows)
    imp.save()
    for index, row in enumerate(rows, start=2):  # row 1 is the header
        try:
            with transaction.atomic():
                outcome = import_row(row)
        except ContactValidationError as exc:
            imp.row_errors.append({"row": index, "errors": exc.errors})
        else:
            if outcome == "created":
                imp.created_count += 1
            else:
                imp.updated_count += 1
        imp.processed_rows += 1
        if imp.processed_rows % PROGRESS_EVERY == 0:
            imp.save(
                update_fields=[
                    "processed_rows", "created_count", "updated_count", "row_errors", "status"
                ]
            )
    imp.status = ContactImport.Status.DONE
    imp.finished_at = timezone.now()
    imp.save()
    return imp


@transaction.atomic
def contact_import_create(*, text: str, filename: str, user: Any) -> ContactImport:
    return ContactImport.objects.create(
        content=text, filename=filename[:255], created_by=user if user and user.pk else None
    )
