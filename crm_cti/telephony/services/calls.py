"""Writes to a ``Call`` that people make, each pushed to the agent's browsers after the
commit: the dashboard's notes and disposition, linking calls to a contact made from a pop
card's unknown caller, the contact picked on a card for a shared number, a number added to
a contact from a card; and ``call_push`` for changes made elsewhere. The other party is
``Call.other_number`` / ``Call.other_e164`` (one rule, models.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from crm_cti.accounts.preferences import team_settings_get
from crm_cti.crm.matching import Rule
from crm_cti.crm.models import Contact, Disposition
from crm_cti.crm.services import contact_phone_add, number_choice_remember
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


class CallNotValid(ValueError):
    """What the agent asked cannot be done to this call; ``field`` is the form field the
    message belongs next to ("" for the whole form)."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


_KEEP = object()


def call_needs_note(*, notes: str, disposition: Disposition | None) -> bool:
    return disposition is not None and disposition.requires_note and not notes.strip()


@transaction.atomic
def call_annotate(
    *, call: Call, notes: str | None = None, disposition: Disposition | object | None = _KEEP
) -> Call:
    """Save the agent's notes and/or disposition on a call (``disposition`` None clears it;
    left out, it stays) and push the change. Raises CallNotValid when the disposition
    requires a note and the call would have none."""
    fields = []
    new_notes = call.notes if notes is None else notes[:NOTES_MAX_CHARS]
    new_disposition = call.disposition if disposition is _KEEP else disposition
    if call_needs_note(notes=new_notes, disposition=new_disposition):  # type: ignore[arg-type]
        raise CallNotValid(f"“{new_disposition}” needs a note: write what happened.", field="notes")
    if notes is not None:
        call.notes = new_notes
        fields.append("notes")
    if disposition is not _KEEP:
        call.disposition = new_disposition  # type: ignore[assignment]
        fields.append("disposition")
    if fields:
        call.save(update_fields=[*fields, "updated_at"])
        # The colleague a call was transferred to sees these notes on their card too.
        handed = list(Call.objects.select_related("contact").filter(transferred_from=call))
        _push([call, *handed])
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
        call.match_info = {"rule": Rule.ONLY, "number": e164}
        call.save(update_fields=["contact", "contact_matches", "match_info", "updated_at"])
    # Live cards and the recent-calls list need the new name; older history is just saved.
    recent = timezone.now() - RECENT_PUSH_WINDOW
    _push([c for c in calls if c.is_live or (c.ended_at and c.ended_at >= recent)])
    return len(calls)


def call_dismiss_check(*, call: Call) -> None:
    """Whether the card of ``call`` may leave the dashboard; raises CallNotValid (with what
    is missing) when the team requires a disposition on answered calls and it has none."""
    if call.is_live:
        raise CallNotValid("The call is still going on.")
    if call.answered_at is None:
        return
    if call.disposition_id is None and team_settings_get().require_disposition:
        raise CallNotValid("Set a disposition before you dismiss the call.", field="disposition")
    if call_needs_note(notes=call.notes, disposition=call.disposition):
        raise CallNotValid(f"“{call.disposition}” needs a note.", field="notes")


@transaction.atomic
def call_contact_choose(*, call: Call, contact: Contact) -> Call:
    """The agent says who is on ``call`` among the contacts sharing its number: the call
    shows them, and the agent's next call with that number pops them (NumberChoice).

    Raises CallNotValid when ``contact`` does not have the call's number.
    """
    e164 = call.other_e164
    if not e164 or not contact.phones.filter(e164=e164).exists():
        raise CallNotValid(f"{contact.full_name} does not have this number.")
    if call.agent_id is not None:
        number_choice_remember(agent_id=call.agent_id, e164=e164, contact=contact)
    phone = contact.phones.filter(e164=e164).first()
    call.contact = contact
    call.match_info = {
        **(call.match_info or {}),
        "rule": Rule.CHOICE,
        "number": phone.raw if phone else e164,
        "label": phone.get_label_display() if phone else "",
    }
    call.save(update_fields=["contact", "match_info", "updated_at"])
    _push([call])
    return call


def call_number_add_to_contact(
    *, call: Call, contact: Contact, label: str = "other", changed_by: Any = None
) -> Call:
    """Add the number of ``call``'s other party to ``contact`` (audited as a change made on
    a pop card); the call, and every call from that number after it, shows the contact.

    Raises CallNotValid for a call without an outside number (an internal call, a hidden
    caller ID).
    """
    e164 = call.other_e164
    if not e164:
        raise CallNotValid("This call has no outside number to add.")
    contact_phone_add(
        contact=contact, raw=call.other_number or e164, label=label,
        changed_by=changed_by, source="pop card",
    )
    calls_link_contact(contact=contact, e164=e164)
    call.refresh_from_db()
    return call
