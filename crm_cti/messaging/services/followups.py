"""Follow-ups: a missed call or a voicemail is work someone finishes. Opened for the agent
who missed the call (nobody for a queue call: admins assign it), closed by calling the
number back and being connected, or by marking it done with a note."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from crm_cti.accounts.models import Agent
from crm_cti.messaging.models import FollowUp, Message
from crm_cti.telephony.models import Call
from crm_cti.telephony.push import push_agent

logger = logging.getLogger(__name__)

NOTE_MAX_CHARS = 2000
# A voicemail is left on a call that started this shortly before it was stored.
VOICEMAIL_CALL_WINDOW = timedelta(minutes=10)
# A call imported from long ago is history, not work: no follow-up for it.
FOLLOWUP_MAX_AGE = timedelta(days=7)


class FollowUpRefused(ValueError):
    """What the user asked cannot be done (closed already, a note too long, no such agent)."""


def _due(start: Any) -> Any:
    return (start or timezone.now()) + timedelta(minutes=settings.FOLLOWUP_DUE_MINUTES)


def _is_queue_call(call: Call) -> bool:
    """Rang the agent through a number that is not theirs (a call queue's, a shared line's):
    nobody in particular missed it. The agent's own numbers come from sign-in."""
    if call.agent is None or not call.to_e164:
        return False
    own = {str(n.get("phone_number") or "") for n in call.agent.phone_numbers or []}
    own.discard("")
    return bool(own) and call.to_e164 not in own


def _agent_lock(agent_id: int | None) -> None:
    """Follow-ups of one agent are opened one at a time (the agent's row locked until the
    transaction ends): a missed call and the voicemail left on it, applied at the same
    moment by two workers, must find each other's follow-up rather than open two."""
    if agent_id is not None:
        list(Agent.objects.select_for_update().filter(pk=agent_id).values_list("pk"))


def _open_count_push(agent_id: int | None) -> None:
    if agent_id is None:
        return
    count = FollowUp.objects.filter(agent_id=agent_id, closed_at__isnull=True).count()
    try:
        push_agent(agent_id=agent_id, message={"type": "followups", "open": count})
    except Exception:
        logger.warning("could not push the follow-up count of agent %s", agent_id,
                       exc_info=True)


def followup_for_missed_call(*, call: Call) -> FollowUp | None:
    """Open the follow-up of an inbound call that ended unanswered (once per call, and once
    per session for a queue call that rang several agents)."""
    if (call.direction != Call.Direction.INBOUND
            or call.state not in (Call.State.MISSED, Call.State.VOICEMAIL)):
        return None
    started = call.started_at or call.ended_at or timezone.now()
    if started < timezone.now() - FOLLOWUP_MAX_AGE:
        return None
    _agent_lock(call.agent_id)
    if FollowUp.objects.filter(call=call).exists():
        return None
    number = call.from_e164 or call.from_number
    # The voicemail left on it may have been stored first (the call was still in its grace):
    # one follow-up for both. (The voicemail's own link to the call is messaging's to write,
    # under the message's lock: never from here, inside the tracker's transaction.)
    queue = _is_queue_call(call)
    # A queue call's voicemail is the queue box's: its follow-up is nobody's.
    left = FollowUp.objects.filter(
        call__isnull=True, voicemail__isnull=False, number=number,
        agent=None if queue else call.agent,
        closed_at__isnull=True, voicemail__created_at_rc__gte=started,
    ).first()
    if left is not None:
        left.call = call
        left.save(update_fields=["call", "updated_at"])
        return left
    if queue and FollowUp.objects.filter(call__session_id=call.session_id).exists():
        return None
    followup = FollowUp.objects.create(
        agent=None if queue else call.agent,
        reason=FollowUp.Reason.MISSED_CALL,
        number=number,
        name=call.from_name,
        contact=call.contact,
        call=call,
        due_at=_due(call.ended_at or started),
    )
    transaction.on_commit(lambda: _open_count_push(followup.agent_id))
    _pair_later(followup.agent_id, number)
    return followup


def followup_for_voicemail(*, message: Message) -> FollowUp:
    """A voicemail joins its missed call's follow-up, or opens one of its own."""
    _agent_lock(message.agent_id)
    existing = FollowUp.objects.filter(voicemail=message).first()
    if existing is not None:
        return existing
    if message.call_id is not None:
        existing = FollowUp.objects.filter(call_id=message.call_id).first()
    else:
        # The missed call's follow-up, opened since the voicemail was matched to no call.
        existing = FollowUp.objects.filter(
            call__isnull=False, voicemail__isnull=True, number=message.counterpart,
            agent=message.agent, closed_at__isnull=True,
            call__started_at__gte=message.created_at_rc - VOICEMAIL_CALL_WINDOW,
            call__started_at__lte=message.created_at_rc,
        ).select_related("call").first()
        if existing is not None:
            Message.objects.filter(pk=message.pk).update(call=existing.call)
            message.call = existing.call
    if existing is not None:
        if existing.voicemail_id is None:
            existing.voicemail = message
            existing.reason = FollowUp.Reason.VOICEMAIL
            existing.save(update_fields=["voicemail", "reason", "updated_at"])
        return existing
    followup, created = FollowUp.objects.get_or_create(
        voicemail=message,
        defaults={
            "agent": message.agent,
            "reason": FollowUp.Reason.VOICEMAIL,
            "number": message.counterpart,
            "name": message.counterpart_name,
            "contact": message.contact,
            "due_at": _due(message.created_at_rc),
        },
    )
    if created:
        transaction.on_commit(lambda: _open_count_push(followup.agent_id))
        _pair_later(followup.agent_id, followup.number)
    return followup


def followup_for_queue_voicemail(*, message: Message) -> FollowUp:
    """A call queue's voicemail: nobody in particular missed the call, so its follow-up is
    unassigned (admins give it out). It joins the open unassigned follow-up of the queue
    call it was left on (same number, shortly before), or opens one of its own."""
    existing = FollowUp.objects.filter(voicemail=message).first()
    if existing is not None:
        return existing
    host = (FollowUp.objects.select_for_update().filter(
        agent__isnull=True, voicemail__isnull=True, closed_at__isnull=True,
        number=message.counterpart,
        call__started_at__gte=message.created_at_rc - VOICEMAIL_CALL_WINDOW,
        call__started_at__lte=message.created_at_rc,
    ).order_by("-call__started_at").first())
    if host is not None:
        host.voicemail = message
        host.reason = FollowUp.Reason.VOICEMAIL
        host.save(update_fields=["voicemail", "reason", "updated_at"])
        Message.objects.filter(pk=message.pk, call__isnull=True).update(call=host.call_id)
        return host
    followup, _ = FollowUp.objects.get_or_create(
        voicemail=message,
        defaults={
            "agent": None,
            "reason": FollowUp.Reason.VOICEMAIL,
            "number": message.counterpart,
            "name": message.counterpart_name,
            "contact": message.contact,
            "due_at": _due(message.created_at_rc),
        },
    )
    return followup


def _pair_later(agent_id: int | None, number: str) -> None:
    """After the commit, pair what two transactions opened at the same moment (each saw no
    follow-up of the other: SQLite has no row locks to order them)."""
    if agent_id is None or not number:
        return

    def pair() -> None:
        # After someone else's commit (the tracker's): never let this fail their work.
        try:
            followups_pair(agent_id=agent_id, number=number)
        except Exception:
            logger.exception("follow-ups of agent %s for %s not paired", agent_id, number)

    transaction.on_commit(pair)


def followups_pair(*, agent_id: int, number: str) -> int:
    """Merge each open voicemail-only follow-up of the agent and number into the open
    follow-up of the missed call it was left on; returns how many were merged."""
    merged = 0
    with transaction.atomic():
        _agent_lock(agent_id)
        open_ones = FollowUp.objects.filter(agent_id=agent_id, number=number,
                                            closed_at__isnull=True)
        lone_voicemails = list(open_ones.filter(call__isnull=True, voicemail__isnull=False)
                               .select_related("voicemail"))
        for lone in lone_voicemails:
            vm = lone.voicemail
            host = (open_ones.filter(
                voicemail__isnull=True, call__isnull=False,
                call__started_at__gte=vm.created_at_rc - VOICEMAIL_CALL_WINDOW,
                call__started_at__lte=vm.created_at_rc,
            ).select_related("call").order_by("-call__started_at").first())
            if host is None:
                continue
            lone.delete()
            host.voicemail = vm
            host.reason = FollowUp.Reason.VOICEMAIL
            host.save(update_fields=["voicemail", "reason", "updated_at"])
            Message.objects.filter(pk=vm.pk, call__isnull=True).update(call=host.call)
            merged += 1
    if merged:
        _open_count_push(agent_id)
    return merged


def followups_close_by_call(*, call: Call) -> int:
    """An outbound call to the number, connected, closes the open follow-ups of that number
    that are the caller's or nobody's."""
    if (call.direction != Call.Direction.OUTBOUND or call.answered_at is None
            or not call.to_e164 or call.agent_id is None):
        return 0
    open_ones = FollowUp.objects.filter(closed_at__isnull=True, number=call.to_e164)
    open_ones = open_ones.filter(agent_id=call.agent_id) | open_ones.filter(agent__isnull=True)
    count = open_ones.update(
        closed_at=timezone.now(), closed_how=FollowUp.Closed.CALLED_BACK, closing_call=call,
        agent_id=call.agent_id, updated_at=timezone.now(),
    )
    if count:
        agent_id = call.agent_id
        transaction.on_commit(lambda: _open_count_push(agent_id))
    return count


@transaction.atomic
def followup_done(*, followup: FollowUp, user: Any, note: str) -> FollowUp:
    """Mark a follow-up done by ``user`` with a note (required: what was done)."""
    note = (note or "").strip()
    if not note:
        raise FollowUpRefused("Say what was done in a note.")
    if len(note) > NOTE_MAX_CHARS:
        raise FollowUpRefused(f"A note has at most {NOTE_MAX_CHARS} characters.")
    followup = FollowUp.objects.select_for_update().get(pk=followup.pk)
    if followup.closed_at is not None:
        raise FollowUpRefused("This follow-up is closed already.")
    followup.closed_at = timezone.now()
    followup.closed_how = FollowUp.Closed.DONE
    followup.closed_by = user
    followup.note = note
    followup.save()
    transaction.on_commit(lambda: _open_count_push(followup.agent_id))
    return followup


@transaction.atomic
def followup_reassign(*, followup: FollowUp, agent: Agent | None) -> FollowUp:
    """Give an open follow-up to another agent (or nobody); both are told the new count."""
    followup = FollowUp.objects.select_for_update().get(pk=followup.pk)
    if followup.closed_at is not None:
        raise FollowUpRefused("This follow-up is closed already.")
    before = followup.agent_id
    followup.agent = agent
    followup.save(update_fields=["agent", "updated_at"])
    for agent_id in {before, followup.agent_id}:
        transaction.on_commit(lambda a=agent_id: _open_count_push(a))
    return followup

