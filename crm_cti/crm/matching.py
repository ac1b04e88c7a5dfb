"""Who is on the other end of a call: a CRM contact by number, a company line, or an agent
by extension — and, when several contacts share the number, which one pops."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Max, OuterRef, Subquery

from crm_cti.accounts.models import Agent, TeamSettings
from crm_cti.crm.models import CompanyLine, Contact, ContactPhone, NumberChoice
from crm_cti.crm.phones import is_extension_number, try_normalize_e164

# A number shared by more contacts than this counts as this many (and offers these many).
MAX_CANDIDATES = 50
# Candidates the card lists when several contacts share a number.
CARD_CANDIDATES = 8
_company_of_line = CompanyLine.objects.filter(e164=OuterRef("e164")).values("company")[:1]


class Rule:
    """Why the contact on a card is the one: stored on the call (``Call.match_info``)."""

    ONLY = "only"  # the only contact with the number
    CHOICE = "choice"  # the agent picked it for this number before
    UPDATED = "updated"  # policy: the most recently updated contact
    RECENT_CALL = "recent_call"  # policy: the contact with the most recent call
    ASK = "ask"  # policy: nobody until the agent picks one of the candidates
    COMPANY_LINE = "company_line"  # the number is a company's switchboard


@dataclass(frozen=True)
class PartyMatch:
    """The result of looking a number up.

    ``contact`` is the contact that pops (None for "ask" until the agent picks one, for a
    company line, or for an unknown number); ``contact_count`` says how many contacts share
    the number. ``agent`` is set for short extension numbers of our own account (internal
    callers). ``info`` says why (see ``Rule``), which stored number matched, and the
    candidates when several contacts share the number.
    """

    e164: str = ""
    contact: Contact | None = None
    contact_count: int = 0
    agent: Agent | None = None
    info: dict[str, Any] = field(default_factory=dict)

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


def _candidate(contact: Contact) -> dict[str, Any]:
    return {"id": contact.pk, "name": contact.full_name, "company": contact.company}


def _most_recent_call(contacts: list[Contact]) -> Contact:
    """The contact whose last call is the newest (one without calls comes last)."""
    last = dict(
        Contact.objects.filter(pk__in=[c.pk for c in contacts])
        .annotate(last_call=Max("calls__started_at"))
        .filter(last_call__isnull=False)
        .values_list("pk", "last_call")
    )
    if not last:
        return contacts[0]
    # max() keeps the first of equals: the most recently updated among the same last call.
    return max((c for c in contacts if c.pk in last), key=lambda c: last[c.pk])


def _pick(
    *, e164: str, contacts: list[Contact], agent_id: int | None
) -> tuple[Contact | None, str]:
    """Which of several contacts sharing ``e164`` pops for ``agent_id``, and the rule why."""
    if agent_id is not None:
        chosen = (
            NumberChoice.objects.filter(agent_id=agent_id, e164=e164)
            .values_list("contact_id", flat=True)
            .first()
        )
        for contact in contacts:
            if contact.pk == chosen:
                return contact, Rule.CHOICE
    policy = (
        TeamSettings.objects.filter(pk=1).values_list("match_policy", flat=True).first()
        or TeamSettings.MatchPolicy.UPDATED
    )
    if policy == TeamSettings.MatchPolicy.ASK:
        return None, Rule.ASK
    if policy == TeamSettings.MatchPolicy.RECENT_CALL:
        return _most_recent_call(contacts), Rule.RECENT_CALL
    return contacts[0], Rule.UPDATED


def party_match(*, raw_number: str, agent_id: int | None = None) -> PartyMatch:
    """Match a number as RingCentral sends it (E.164 with or without "+", or "101") for the
    call of ``agent_id`` (whose earlier choice for a shared number wins)."""
    raw = (raw_number or "").strip()
    if not raw:
        return PartyMatch()
    if is_extension_number(raw):
        agent = Agent.objects.filter(extension_number=raw).select_related("user").first()
        return PartyMatch(agent=agent)
    e164 = try_normalize_e164(raw)
    if not e164:
        return PartyMatch()
    # One query on the hot path (every ringing call) for a contact's number: the numbers
    # stored with it, newest contacts first, and whether it is a company line. An unknown
    # number costs a second (a company line no contact lists); a shared one, one or two more.
    phones = list(
        ContactPhone.objects.filter(e164=e164)
        .annotate(company_line=Subquery(_company_of_line))
        .select_related("contact")
        .order_by("-contact__updated_at", "-contact_id")[:MAX_CANDIDATES]
    )
    company = (
        phones[0].company_line if phones
        else CompanyLine.objects.filter(e164=e164).values_list("company", flat=True).first()
    )
    if company is not None:
        return PartyMatch(e164=e164, info={"rule": Rule.COMPANY_LINE, "company": company})
    if not phones:
        return PartyMatch(e164=e164)
    contacts = [p.contact for p in phones]
    if len(contacts) == 1:
        contact, rule = contacts[0], Rule.ONLY
    else:
        contact, rule = _pick(e164=e164, contacts=contacts, agent_id=agent_id)
    phone = next((p for p in phones if contact is not None and p.contact_id == contact.pk), None)
    info: dict[str, Any] = {"rule": rule}
    if phone is not None:
        info |= {"number": phone.raw, "label": phone.get_label_display()}
    if len(contacts) > 1:
        info["candidates"] = [_candidate(c) for c in contacts[:CARD_CANDIDATES]]
    return PartyMatch(e164=e164, contact=contact, contact_count=len(contacts), info=info)
