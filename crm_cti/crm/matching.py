"""Who is on the other end of a call: a CRM contact by number, or an agent by extension."""

from __future__ import annotations

from dataclasses import dataclass

from crm_cti.accounts.models import Agent
from crm_cti.crm.models import Contact
from crm_cti.crm.phones import is_extension_number, try_normalize_e164


@dataclass(frozen=True)
class PartyMatch:
    """The result of looking a number up.

    ``contact`` is the most recently updated contact with that number; ``contact_count`` says
    how many contacts share it (the pop mentions the others). ``agent`` is set for short
    extension numbers of our own account (internal callers).
    """

    e164: str = ""
    contact: Contact | None = None
    contact_count: int = 0
    agent: Agent | None = None

    @property
    def others(self) -> int:
        return max(self.contact_count - 1, 0)


def contacts_for_number(*, e164: str) -> list[Contact]:
    """Contacts having ``e164`` among their numbers, most recently updated first."""
    if not e164:
        return []
    return list(
        Contact.objects.filter(phones__e164=e164).distinct().order_by("-updated_at", "-id")
    )


def party_match(*, raw_number: str) -> PartyMatch:
    """Match a number as RingCentral sends it (E.164 with or without "+", or "101")."""
    raw = (raw_number or "").strip()
    if not raw:
        return PartyMatch()
    if is_extension_number(raw):
        agent = Agent.objects.filter(extension_number=raw).select_related("user").first()
        return PartyMatch(agent=agent)
    e164 = try_normalize_e164(raw)
    if not e164:
        return PartyMatch()
    # One query on the hot path (every ringing call): the newest contacts with the number,
    # the first of which pops; a number shared by more than 50 contacts counts as 50.
    contacts = list(
        Contact.objects.filter(phones__e164=e164).order_by("-updated_at", "-id")[:50]
    )
    if not contacts:
        return PartyMatch(e164=e164)
    return PartyMatch(
        e164=e164, contact=contacts[0], contact_count=len({c.pk for c in contacts})
    )
