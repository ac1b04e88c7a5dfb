"""Contact writes. Every phone number is normalized to E.164 here, so lookups can trust it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction

from crm_cti.crm.models import CompanyLine, Contact, ContactChange, ContactPhone, NumberChoice
from crm_cti.crm.phones import InvalidPhoneNumber, normalize_e164

PhoneSpec = tuple[str, str]  # (label, raw number as typed)

CONTACT_FIELDS = ("first_name", "last_name", "company", "title", "email", "notes")
Snapshot = dict[str, Any]


def contact_snapshot(contact: Contact) -> Snapshot:
    """What the audit trail compares: the contact's fields and its numbers, read from the
    database (a prefetched list of numbers may be stale)."""
    snapshot: Snapshot = {name: getattr(contact, name) for name in CONTACT_FIELDS}
    phones = ContactPhone.objects.filter(contact_id=contact.pk).order_by("e164")
    snapshot["phones"] = [f"{p.e164} ({p.label})" for p in phones] if contact.pk else []
    return snapshot


def contact_change_record(
    *,
    contact: Contact,
    before: Snapshot | None,
    after: Snapshot | None,
    changed_by: Any = None,
    source: str = "",
) -> ContactChange | None:
    """Write one audit entry (``before`` None: created; ``after`` None: deleted) with the
    fields that differ; nothing when nothing changed."""
    empty: Snapshot = {name: "" for name in CONTACT_FIELDS} | {"phones": []}
    old, new = before or empty, after or empty
    changes = {
        name: [old.get(name), new.get(name)]
        for name in (*CONTACT_FIELDS, "phones")
        if old.get(name) != new.get(name)
    }
    if before is not None and after is not None and not changes:
        return None
    action = (
        ContactChange.Action.CREATED if before is None
        else ContactChange.Action.DELETED if after is None
        else ContactChange.Action.UPDATED
    )
    user = changed_by if changed_by is not None and getattr(changed_by, "pk", None) else None
    return ContactChange.objects.create(
        contact=contact if contact.pk else None,
        contact_name=contact.full_name[:201],
        changed_by=user,
        source=source[:40],
        action=action,
        changes=changes,
    )


class ContactValidationError(ValueError):
    """Bad input for a contact; ``errors`` maps a field name to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


def _normalized_phones(phones: Iterable[PhoneSpec]) -> list[tuple[str, str, str]]:
    """(label, raw, e164) for every non-blank number, without duplicates; raise on bad ones."""
    valid_labels = set(ContactPhone.Label.values)
    out: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    problems: list[str] = []
    for label, raw in phones:
        raw = (raw or "").strip()
        if not raw:
            continue
        try:
            e164 = normalize_e164(raw)
        except InvalidPhoneNumber as exc:
            problems.append(str(exc))
            continue
        if e164 in seen:
            continue
        seen.add(e164)
        out.append((label if label in valid_labels else ContactPhone.Label.OTHER, raw, e164))
    if problems:
        raise ContactValidationError({"phones": problems})
    return out


def _check_has_identity(fields: dict[str, str], phones: Sequence[tuple[str, str, str]]) -> None:
    if not any(fields.get(k) for k in ("first_name", "last_name", "company")) and not phones:
        raise ContactValidationError(
            {"first_name": ["Give the contact a name, a company or a phone number."]}
        )


@transaction.atomic
def contact_create(
    *,
    first_name: str = "",
    last_name: str = "",
    company: str = "",
    title: str = "",
    email: str = "",
    notes: str = "",
    phones: Iterable[PhoneSpec] = (),
    changed_by: Any = None,
    source: str = "",
) -> Contact:
    """Create a contact with its numbers (and its audit entry: ``changed_by`` the user, or
    None for the system; ``source`` where). Raises ContactValidationError on a bad number."""
    fields = {
        "first_name": first_name.strip(),
        "last_name": last_name.strip(),
        "company": company.strip(),
        "title": title.strip(),
        "email": email.strip(),
        "notes": notes,
    }
    normalized = _normalized_phones(phones)
    _check_has_identity(fields, normalized)
    contact = Contact.objects.create(**fields)
    ContactPhone.objects.bulk_create(
        ContactPhone(contact=contact, label=label, raw=raw, e164=e164)
        for label, raw, e164 in normalized
    )
    contact_change_record(
        contact=contact, before=None, after=contact_snapshot(contact),
        changed_by=changed_by, source=source,
    )
    return contact


@transaction.atomic
def contact_update(
    *,
    contact: Contact,
    phones: Iterable[PhoneSpec] | None = None,
    changed_by: Any = None,
    source: str = "",
    **fields: str,
) -> Contact:
    """Update the given fields; ``phones`` (when given) replaces the contact's numbers. The
    audit trail gets what changed, by whom (``changed_by``; None for the system)."""
    unknown = set(fields) - set(CONTACT_FIELDS)
    if unknown:
        raise TypeError(f"unknown contact fields: {sorted(unknown)}")
    before = contact_snapshot(contact)
    for name, value in fields.items():
        setattr(contact, name, value.strip() if name != "notes" else value)
    normalized = _normalized_phones(phones) if phones is not None else None
    current = {f: getattr(contact, f) for f in CONTACT_FIELDS}
    _check_has_identity(
        current, normalized if normalized is not None else list(contact.phones.all())
    )
    contact.save()
    if normalized is not None:
        keep = {e164 for _label, _raw, e164 in normalized}
        contact.phones.exclude(e164__in=keep).delete()
        existing = {p.e164: p for p in contact.phones.all()}
        for label, raw, e164 in normalized:
            phone = existing.get(e164)
            if phone is None:
                ContactPhone.objects.create(contact=contact, label=label, raw=raw, e164=e164)
            elif (phone.label, phone.raw) != (label, raw):
                phone.label, phone.raw = label, raw
                phone.save(update_fields=["label", "raw"])
    contact_change_record(
        contact=contact, before=before, after=contact_snapshot(contact),
        changed_by=changed_by, source=source,
    )
    return contact


@transaction.atomic
def contact_delete(*, contact: Contact, changed_by: Any = None, source: str = "") -> None:
    """Delete a contact; the audit entry (with everything it held) stays."""
    contact_change_record(
        contact=contact, before=contact_snapshot(contact), after=None,
        changed_by=changed_by, source=source,
    )
    contact.delete()



def contact_phone_add(
    *, contact: Contact, raw: str, label: str = ContactPhone.Label.OTHER,
    changed_by: Any = None, source: str = "",
) -> Contact:
    """Add one number to ``contact``, keeping the others (audited like any change). Raises
    ContactValidationError for a number that does not parse."""
    phones = [(p.label, p.raw) for p in contact.phones.all()]
    return contact_update(
        contact=contact, phones=[*phones, (label, raw)], changed_by=changed_by, source=source
    )


@transaction.atomic
def number_choice_remember(*, agent_id: int, e164: str, contact: Contact) -> NumberChoice:
    """The contact the agent picked for a number several contacts share (crm.matching)."""
    choice, _created = NumberChoice.objects.update_or_create(
        agent_id=agent_id, e164=e164, defaults={"contact": contact}
    )
    return choice


@transaction.atomic
def company_line_mark(*, raw: str, company: str) -> CompanyLine:
    """Mark a number as a company's switchboard: calls from it match the company. Raises
    InvalidPhoneNumber for a number that does not parse, ValueError without a company."""
    company = (company or "").strip()[:200]
    if not company:
        raise ValueError("Name the company this line belongs to.")
    line, _created = CompanyLine.objects.update_or_create(
        e164=normalize_e164(raw), defaults={"company": company}
    )
    return line


def company_line_unmark(*, e164: str) -> None:
    CompanyLine.objects.filter(e164=e164).delete()
