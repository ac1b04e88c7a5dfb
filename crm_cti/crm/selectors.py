"""Contact reads: search and the lists pages show."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Count, Q, QuerySet

from crm_cti.crm.models import CompanyLine, Contact, ContactChange, ContactPhone
from crm_cti.crm.phones import try_normalize_e164

_DIGITS = re.compile(r"\D+")
_PHONEISH = re.compile(r"^[\d\s()+\-.]+$")


def contact_search(q: str = "") -> QuerySet[Contact]:
    """Contacts matching every word of ``q`` in name, company, email or title, or by number.

    A query that looks like a phone number matches on the digits of the stored E.164, so
    ``(650) 444-5567``, ``6504445567`` and ``+1 650 444 5567`` all find the same contact.
    """
    qs = Contact.objects.prefetch_related("phones")
    text = (q or "").strip()
    if not text:
        return qs.order_by("last_name", "first_name", "id")
    digits = _DIGITS.sub("", text)
    if not (_PHONEISH.match(text) and len(digits) >= 3):
        condition = Q()
        for word in text.split():
            condition &= (
                Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(company__icontains=word)
                | Q(email__icontains=word)
                | Q(title__icontains=word)
            )
        return qs.filter(condition).order_by("last_name", "first_name", "id")
    e164 = try_normalize_e164(text)
    phone_q = Q(phones__e164__contains=digits)
    if e164:
        phone_q |= Q(phones__e164=e164)
    return qs.filter(phone_q).distinct().order_by("last_name", "first_name", "id")



FIELD_LABELS = {
    "first_name": "First name", "last_name": "Last name", "company": "Company",
    "title": "Title", "email": "E-mail", "notes": "Notes", "phones": "Phone numbers",
}


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    return str(value) if value not in (None, "") else "—"


def contact_changes(*, contact: Contact, limit: int = 50) -> list[dict[str, Any]]:
    """The contact's audit trail, newest first, in the shape the contact page shows."""
    entries = ContactChange.objects.filter(contact=contact).select_related("changed_by")
    return [
        {
            "at": change.created_at,
            "who": change.who,
            "source": change.source,
            "action": change.get_action_display(),
            "fields": [
                {"label": FIELD_LABELS.get(name, name), "before": _shown(before),
                 "after": _shown(after)}
                for name, (before, after) in change.changes.items()
            ],
        }
        for change in entries[:limit]
    ]


# E.164: "+", a non-zero digit, at most 15 digits in all. A stored number that is not this
# never matches a call (it came from before normalisation, or was written around it).
E164_PATTERN = r"^\+[1-9][0-9]{6,14}$"
# A number on this many contacts or more is probably a switchboard (a company line).
SHARED_NUMBER_MIN_CONTACTS = 3
DATA_QUALITY_LIMIT = 200


def data_quality_report(*, limit: int = DATA_QUALITY_LIMIT) -> dict[str, Any]:
    """What the data-quality page lists, each list at most ``limit`` long: stored numbers
    that do not parse, numbers shared by many contacts (not yet company lines), contacts
    without a number, and the company lines."""
    lines = list(CompanyLine.objects.all()[:limit])
    marked = {line.e164 for line in lines}
    bad = (
        ContactPhone.objects.exclude(e164__regex=E164_PATTERN)
        .select_related("contact")
        .order_by("contact__last_name", "id")[:limit]
    )
    shared_rows = list(
        ContactPhone.objects.values("e164")
        .annotate(contacts=Count("contact", distinct=True))
        .filter(contacts__gte=SHARED_NUMBER_MIN_CONTACTS)
        .exclude(e164__in=marked)
        .order_by("-contacts", "e164")[:limit]
    )
    people = Contact.objects.filter(phones__e164__in=[r["e164"] for r in shared_rows]).values(
        "pk", "first_name", "last_name", "company", "phones__e164"
    )
    by_number: dict[str, list[dict[str, Any]]] = {}
    for row in people:
        name = " ".join(p for p in (row["first_name"], row["last_name"]) if p) or "(no name)"
        by_number.setdefault(row["phones__e164"], []).append(
            {"pk": row["pk"], "name": name, "company": row["company"]}
        )
    shared = []
    for row in shared_rows:
        contacts = by_number.get(row["e164"], [])
        companies = [c["company"] for c in contacts if c["company"]]
        # The company most of them work for is the likely owner of the switchboard.
        company = max(set(companies), key=companies.count) if companies else ""
        shared.append(
            {"e164": row["e164"], "count": row["contacts"], "contacts": contacts,
             "company": company}
        )
    without = (
        Contact.objects.annotate(numbers=Count("phones"))
        .filter(numbers=0)
        .order_by("last_name", "first_name", "id")[:limit]
    )
    return {
        "bad_numbers": list(bad), "shared": shared, "without_number": list(without),
        "company_lines": lines,
    }
