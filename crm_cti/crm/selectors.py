"""Contact reads: search and the lists pages show."""

from __future__ import annotations

import re

from django.db.models import Q, QuerySet

from crm_cti.crm.models import Contact
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

