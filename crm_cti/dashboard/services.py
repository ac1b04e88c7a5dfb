"""Writes the dashboard pages make: notes and disposition, the RingOut "from" number,
linking calls to a contact created from a pop card."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from crm_cti.accounts.models import Agent
from crm_cti.crm.models import Contact
from crm_cti.crm.phones import InvalidPhoneNumber, is_extension_number, normalize_e164
from crm_cti.telephony.models import Call

NOTES_MAX_CHARS = 10_000
RECENT_PUSH_WINDOW = timedelta(minutes=30)


def _push(calls: list[Call]) -> None:
    # Imported here: the push module pulls in Channels, which pages don't otherwise need.
    from crm_cti.telephony.push import push_call

    for call in calls:
        transaction.on_commit(lambda call=call: push_call(call))


@transaction.atomic
def call_annotate(*, call: Call, notes: str | None = None, disposition: str | None = None) -> Call:
    """Save the agent's notes and/or disposition on a call and push the change."""
    fields = []
    if notes is not None:
        call.notes = notes[:NOTES_MAX_CHARS]
        fields.append("notes")
    if disposition is not None:
        call.disposition = disposition
        fields.append("disposition")
    if fields:
        call.save(update_fields=[*fields, "updated_at"])
        _push([call])
    return call


@transaction.atomic
def calls_link_contact(*, contact: Contact, e164: str) -> int:
    """Attach calls with ``e164`` on the other side and no contact yet to ``contact``.

    Used when an agent creates a contact from an unknown caller's card: the live card
    and the history then show the new name. Returns how many calls changed.
    """
    calls = list(
        Call.objects.select_for_update()
        .filter(contact__isnull=True)
        .filter(
            Q(direction=Call.Direction.INBOUND, from_e164=e164)
            | Q(direction=Call.Direction.OUTBOUND, to_e164=e164)
        )
    )
    for call in calls:
        call.contact = contact
        call.contact_matches = 1
        call.save(update_fields=["contact", "contact_matches", "updated_at"])
    # Live cards and the recent-calls list need the new name; older history is just saved.
    recent = timezone.now() - RECENT_PUSH_WINDOW
    _push([c for c in calls if c.is_live or (c.ended_at and c.ended_at >= recent)])
    return len(calls)


@transaction.atomic
def agent_set_ringout_from(*, agent: Agent, number: str) -> str:
    """Remember the agent's RingOut "from" number (E.164, or one of their extension numbers).

    Raises InvalidPhoneNumber for something that cannot be dialled.
    """
    number = (number or "").strip()
    if is_extension_number(number):
        raise InvalidPhoneNumber("RingOut rings your phone first: give a full phone number.")
    e164 = normalize_e164(number)
    agent.ringout_from_number = e164
    agent.save(update_fields=["ringout_from_number", "updated_at"])
    return e164


def calllog_refresh_request(*, agent: Agent) -> bool:
    """Queue an incremental call-log import for ``agent``, at most once per
    ``CALLLOG_REFRESH_SECONDS`` (shared by every process through the cache).

    The history page calls this, so the local history catches up with calls made
    elsewhere (desk phone, mobile app) without a request per page view. Returns whether an
    import was queued.
    """
    if agent.needs_signin:
        return False
    if not cache.add(f"calllog-refresh:{agent.pk}", 1, timeout=settings.CALLLOG_REFRESH_SECONDS):
        return False
    from crm_cti.telephony.tasks import calllog_import

    transaction.on_commit(lambda: calllog_import.delay(agent.pk))
    return True
