"""Contact reads: search and the lists pages show."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Q, QuerySet

from crm_cti.crm.models import Contact, ContactChange
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
