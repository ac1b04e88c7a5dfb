"""Contact writes. Every phone number is normalized to E.164 here, so lookups can trust it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import transaction

from crm_cti.crm.models import Contact, ContactPhone
from crm_cti.crm.phones import InvalidPhoneNumber, normalize_e164

PhoneSpec = tuple[str, str]  # (label, raw number as typed)

CONTACT_FIELDS = ("first_name", "last_name", "company", "title", "email", "notes")


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
) -> Contact:
    """Create a contact with its numbers. Raises ContactValidationError on a bad number."""
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
    return contact


@transaction.atomic
def contact_update(
    *, contact: Contact, phones: Iterable[PhoneSpec] | None = None, **fields: str
) -> Contact:
    """Update the given fields; ``phones`` (when given) replaces the contact's numbers."""
    unknown = set(fields) - set(CONTACT_FIELDS)
    if unknown:
        raise TypeError(f"unknown contact fields: {sorted(unknown)}")
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
    return contact

