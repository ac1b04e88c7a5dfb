"""Reads for the agent pages: the calls a user may read, recent calls, the filtered call
history."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from crm_cti.accounts.access import agent_for, is_admin
from crm_cti.telephony.models import Call

_NON_DIGITS = re.compile(r"\D+")


def calls_visible_to(user: Any) -> QuerySet[Call]:
    """Every call ``user`` may read: all for admins, their own for agents, none otherwise."""
    if is_admin(user):
        return Call.objects.all()
    agent = agent_for(user)
    if agent is None:
        return Call.objects.none()
    return Call.objects.filter(agent=agent)


def calls_recent(*, calls: QuerySet[Call], limit: int = 15) -> list[Call]:
    """The newest finished and live calls, newest first."""
    return list(calls.select_related("contact", "agent").order_by("-started_at", "-id")[:limit])


# An answered call without its required disposition keeps its card this long (then it only
# shows in the history, where the disposition can still be set).
DISPOSITION_PENDING_WINDOW = timedelta(hours=24)


def calls_awaiting_disposition(*, calls: QuerySet[Call]) -> QuerySet[Call]:
    """Ended calls that were answered and have no disposition yet, the newest first: while
    the team requires one, their cards stay on the dashboard."""
    since = timezone.now() - DISPOSITION_PENDING_WINDOW
    return (
        calls.filter(
            ended_at__gte=since, answered_at__isnull=False, disposition__isnull=True
        )
        .exclude(state__in=Call.LIVE_STATES)
        .select_related("contact")
        .order_by("-ended_at", "-id")
    )


def day_start(day: date) -> datetime:
    """Midnight at the start of ``day`` in the current time zone (settings.TIME_ZONE)."""
    return timezone.make_aware(datetime.combine(day, time.min))


def call_history(*, calls: QuerySet[Call], filters: dict[str, Any]) -> QuerySet[Call]:
    """Apply the history page's filters (the cleaned HistoryFilterForm data) to ``calls``.

    ``type``: internal calls have a short extension number on the other side (no E.164);
    ``result``: answered = was connected; missed / voicemail = the tracker's final state or
    the call log's result.
    """
    # followup: the history shows what became of a missed call (crm_cti/messaging).
    qs = calls.select_related("contact", "agent", "disposition", "followup")
    if filters.get("date_from"):
        qs = qs.filter(started_at__gte=day_start(filters["date_from"]))
    if filters.get("date_to"):
        qs = qs.filter(started_at__lt=day_start(filters["date_to"] + timedelta(days=1)))
    if filters.get("direction"):
        qs = qs.filter(direction=filters["direction"])
    internal = Q(direction=Call.Direction.INBOUND, from_e164="") | Q(
        direction=Call.Direction.OUTBOUND, to_e164=""
    )
    if filters.get("type") == "internal":
        qs = qs.filter(internal)
    elif filters.get("type") == "external":
        qs = qs.exclude(internal)
    result = filters.get("result")
    if result == "answered":
        qs = qs.filter(answered_at__isnull=False)
    elif result == "missed":
        qs = qs.filter(Q(state=Call.State.MISSED) | Q(result__iexact="Missed"))
    elif result == "voicemail":
        qs = qs.filter(Q(state=Call.State.VOICEMAIL) | Q(result__iexact="Voicemail"))
    phone = (filters.get("phone") or "").strip()
    if phone:
        digits = _NON_DIGITS.sub("", phone)
        if digits:
            qs = qs.filter(
                Q(from_e164__contains=digits)
                | Q(to_e164__contains=digits)
                | Q(from_number__contains=digits)
                | Q(to_number__contains=digits)
            )
    contact = (filters.get("contact") or "").strip()
    if contact:
        if contact.isdigit():
            qs = qs.filter(contact_id=int(contact))
        else:
            cond = Q()
            for word in contact.split():
                cond &= (
                    Q(contact__first_name__icontains=word)
                    | Q(contact__last_name__icontains=word)
                    | Q(contact__company__icontains=word)
                )
            qs = qs.filter(cond)
    if filters.get("agent"):
        qs = qs.filter(agent=filters["agent"])
    if filters.get("disposition"):
        qs = qs.filter(disposition=filters["disposition"])
    return qs.order_by("-started_at", "-id")


def call_legs(call: Call) -> list[dict[str, Any]]:
    """The call-log legs (Detailed view) in a shape the template reads directly."""
    legs = []
    for leg in call.legs or []:
        legs.append(
            {
                "leg_type": leg.get("legType", ""),
                "direction": leg.get("direction", ""),
                "action": leg.get("action", ""),
                "result": leg.get("result", ""),
                "start_time": leg.get("startTime", ""),
                "duration": leg.get("duration"),
                "from_number": (leg.get("from") or {}).get("phoneNumber")
                or (leg.get("from") or {}).get("extensionNumber", ""),
                "from_name": (leg.get("from") or {}).get("name", ""),
                "to_number": (leg.get("to") or {}).get("phoneNumber")
                or (leg.get("to") or {}).get("extensionNumber", ""),
                "to_name": (leg.get("to") or {}).get("name", ""),
            }
        )
    return legs
