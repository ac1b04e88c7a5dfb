"""Writes to a ``Call`` that people make (the dashboard's notes and disposition, a contact
made from a pop card's unknown caller), each pushed to the agent's browsers after the
commit, and ``call_push`` for changes made elsewhere."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from crm_cti.crm.models import Contact
from crm_cti.telephony.models import Call
from crm_cti.telephony.push import push_call

NOTES_MAX_CHARS = 10_000
# Calls ended this recently get the new contact pushed (the recent-calls list shows them).
RECENT_PUSH_WINDOW = timedelta(minutes=30)


def call_push(call: Call) -> None:
    """Re-send one call to its agent (after notes or contact changes made elsewhere)."""
    push_call(call)


def _push(calls: list[Call]) -> None:
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
        Call.objects.select_for_update().filter(contact__isnull=True)
        .filter(Call.other_e164_is(e164))
    )
    for call in calls:
        call.contact = contact
        call.contact_matches = 1
        call.save(update_fields=["contact", "contact_matches", "updated_at"])
    # Live cards and the recent-calls list need the new name; older history is just saved.
    recent = timezone.now() - RECENT_PUSH_WINDOW
    _push([c for c in calls if c.is_live or (c.ended_at and c.ended_at >= recent)])
    return len(calls)
