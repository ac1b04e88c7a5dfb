"""What one event says about each call it names: its legs grouped by session, the
session's status the most alive leg's (tracker.py applies these views to ``Call`` rows)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from crm_cti.telephony.notifications import TELEPHONY_SESSIONS, Leg, ParsedEvent

# Aggregation over legs: the "most alive" leg gives the session's status.
STATUS_RANK = {"NoCall": 0, "Ringing": 1, "ParkedCall": 2, "OnHold": 3, "CallConnected": 4}

# What a session's legs tell about a call's parties (the first leg to know one wins).
VIEW_FIELDS = ("telephony_session_id", "from_number", "from_name", "to_number", "to_name")


@dataclass
class SessionView:
    """One session as one event shows it, aggregated over its legs."""

    session_id: str
    status: str
    direction: str
    intermediate: bool
    # A NoCall leg says terminationType "final": the call is over, no grace.
    final: bool = False
    # VIEW_FIELDS as the first leg that knows each tells them.
    facts: dict[str, str] = field(default_factory=dict)
    start_time: datetime | None = None
    leg_ids: list[str] = field(default_factory=list)
    # The leg that gave the status (a telephony session's party, with its own facts).
    party: Leg | None = None


def sessions_aggregate(legs: tuple[Leg, ...] | list[Leg]) -> list[SessionView]:
    """Group legs by session; the session's status is the most alive leg's status."""
    views: dict[str, SessionView] = {}
    for leg in legs:
        view = views.get(leg.session_id)
        if view is None:
            view = views[leg.session_id] = SessionView(
                session_id=leg.session_id,
                status=leg.status,
                direction=leg.direction,
                intermediate=True,
                party=leg,
            )
        elif STATUS_RANK[leg.status] > STATUS_RANK[view.status]:
            view.status = leg.status
            view.party = leg
        # All legs ended and at least one says "final" (or none says anything) = really over.
        if leg.status == "NoCall" and leg.termination_type != "intermediate":
            view.intermediate = False
        if leg.status == "NoCall" and leg.termination_type == "final":
            view.final = True
        if leg.leg_id and leg.leg_id not in view.leg_ids:
            view.leg_ids.append(leg.leg_id)
        for name in VIEW_FIELDS:
            if not view.facts.get(name) and getattr(leg, name):
                view.facts[name] = getattr(leg, name)
        if leg.start_time and (view.start_time is None or leg.start_time < view.start_time):
            view.start_time = leg.start_time
    for view in views.values():
        if view.status != "NoCall":
            view.intermediate = False
    return list(views.values())


def is_session(parsed: ParsedEvent) -> bool:
    return parsed.kind == TELEPHONY_SESSIONS.name


def views_of(parsed: ParsedEvent) -> list[tuple[str, SessionView]]:
    """The calls an event is about, as (extension, view): presence's are all its extension's;
    a telephony session's parties each belong to their own extension."""
    if not is_session(parsed):
        return [(parsed.extension_id, view) for view in sessions_aggregate(parsed.legs)]
    by_extension: dict[str, list[Leg]] = {}
    for leg in parsed.legs:
        by_extension.setdefault(leg.extension_id, []).append(leg)
    return [(ext, view) for ext, legs in by_extension.items()
            for view in sessions_aggregate(legs)]
