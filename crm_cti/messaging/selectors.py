"""Reads: whose messages, voicemails and follow-ups a user may see (their own; an admin's
every agent's — accounts/access.py's rule, as for calls), threads by last activity with
unread counts, one contact's timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery

from crm_cti.accounts.access import agent_for, is_admin
from crm_cti.messaging.models import CallQueue, FollowUp, Message, ReplyTemplate

THREADS_LIMIT = 200
THREAD_MESSAGES_LIMIT = 200
TIMELINE_LIMIT = 100


def messages_visible_to(user: Any) -> QuerySet[Message]:
    """Every message ``user`` may read: all for admins, their own store's for agents."""
    if is_admin(user):
        return Message.objects.filter(deleted=False)
    agent = agent_for(user)
    if agent is None:
        return Message.objects.none()
    return Message.objects.filter(agent=agent, deleted=False)


def call_queues_visible_to(user: Any) -> QuerySet[CallQueue]:
    """The call queues whose voicemail box ``user`` may read: every one for admins, none
    for agents (a queue's voicemail is the admins' to hand out)."""
    return CallQueue.objects.all() if is_admin(user) else CallQueue.objects.none()


def followups_visible_to(user: Any) -> QuerySet[FollowUp]:
    """Admins see every follow-up (unassigned ones included); agents their own."""
    if is_admin(user):
        return FollowUp.objects.all()
    agent = agent_for(user)
    if agent is None:
        return FollowUp.objects.none()
    return FollowUp.objects.filter(agent=agent)


def followups_open_count(user: Any) -> int:
    """What the nav shows: the user's own open follow-ups (an admin's include nobody's)."""
    agent = agent_for(user)
    mine = Q(agent=agent) if agent is not None else Q(pk__in=[])
    if is_admin(user):
        mine |= Q(agent__isnull=True)
    elif agent is None:
        return 0
    return FollowUp.objects.filter(mine, closed_at__isnull=True).count()


@dataclass(frozen=True)
class Thread:
    agent_id: int
    counterpart: str
    name: str
    contact: Any
    last_at: datetime
    last_text: str
    last_type: str
    unread: int
    count: int


def threads(*, messages: QuerySet[Message], limit: int = THREADS_LIMIT) -> list[Thread]:
    """SMS and pager threads (one per store and other party), most recent activity first:
    two queries whatever the number of threads."""
    texts = messages.exclude(type=Message.Type.VOICEMAIL)
    newest = (texts.filter(agent_id=OuterRef("agent_id"), counterpart=OuterRef("counterpart"))
              .order_by("-created_at_rc", "-id").values("id")[:1])
    rows = list(
        texts.values("agent_id", "counterpart")
        .annotate(
            last_at=Max("created_at_rc"),
            count=Count("id"),
            unread=Count("id", filter=Q(read=False, direction=Message.Direction.INBOUND)),
            last_id=Subquery(newest),
        )
        .order_by("-last_at")[:limit]
    )
    last = Message.objects.select_related("contact").in_bulk([r["last_id"] for r in rows])
    result = []
    for row in rows:
        message = last.get(row["last_id"])
        if message is None:
            continue
        result.append(Thread(
            agent_id=row["agent_id"], counterpart=row["counterpart"],
            name=message.contact.full_name if message.contact else message.counterpart_name,
            contact=message.contact, last_at=row["last_at"], last_text=message.text,
            last_type=message.type, unread=row["unread"], count=row["count"],
        ))
    return result


def thread_messages(*, messages: QuerySet[Message], agent_id: int,
                    counterpart: str) -> list[Message]:
    """One thread, oldest first (the newest ``THREAD_MESSAGES_LIMIT``)."""
    newest = list(
        messages.filter(agent_id=agent_id, counterpart=counterpart)
        .exclude(type=Message.Type.VOICEMAIL)
        .order_by("-created_at_rc", "-id")[:THREAD_MESSAGES_LIMIT]
    )
    return newest[::-1]


def voicemails(*, messages: QuerySet[Message]) -> QuerySet[Message]:
    return (messages.filter(type=Message.Type.VOICEMAIL, direction=Message.Direction.INBOUND)
            .select_related("contact", "agent", "queue", "call").order_by("-created_at_rc", "-id"))


@dataclass(frozen=True)
class TimelineEntry:
    kind: str  # "call", "sms", "pager", "voicemail", "followup"
    at: datetime
    item: Any


def timeline(*, calls: Any, user: Any, contact: Any = None, number: str = "",
             limit: int = TIMELINE_LIMIT) -> list[TimelineEntry]:
    """Calls (``calls``: those the user may see, already narrowed to the contact or number),
    messages, voicemails and follow-ups, newest first."""
    messages = messages_visible_to(user)
    followups = followups_visible_to(user)
    if contact is not None:
        # Its numbers too: messages from before the contact existed (or had that number).
        numbers = [n for n in contact.phones.values_list("e164", flat=True) if n]
        messages = messages.filter(Q(contact=contact) | Q(counterpart__in=numbers))
        followups = followups.filter(Q(contact=contact) | Q(number__in=numbers))
    elif number:
        messages = messages.filter(counterpart=number)
        followups = followups.filter(number=number)
    else:
        return []
    entries = [TimelineEntry("call", c.started_at or c.created_at, c) for c in calls]
    for m in messages.select_related("agent")[:limit]:
        kind = {"VoiceMail": "voicemail", "Pager": "pager"}.get(m.type, "sms")
        entries.append(TimelineEntry(kind, m.created_at_rc, m))
    for f in followups.select_related("agent")[:limit]:
        entries.append(TimelineEntry("followup", f.created_at, f))
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]


def reply_templates() -> list[ReplyTemplate]:
    return list(ReplyTemplate.objects.all())
