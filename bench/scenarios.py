"""The calls a benchmark phase plays, turned into presence events as the sandbox sends them.

Each call is a script of leg transitions (the sandbox's scenarios: answered, missed, hold and
resume, multi-device with a transitional ``NoCall``, outbound, and two concurrent calls on one
extension). Transitions of every call are merged in time order and replayed per extension,
exactly as crm_cti/sandbox/telephony.py publishes presence: every event lists *all* the
extension's current legs in ``activeCalls`` with the next ``sequence``, and a leg that ended
with a final ``NoCall`` leaves the list after that event.

Each event carries the pops it must cause: ``(session_id, state)`` for the call whose state
it changes (the product's ``Call.State`` values), or nothing (a transitional ``NoCall``, a
ringing that was already shown). The load generator checks every websocket frame against
these expectations to count lost and duplicated pops.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from typing import Any

# Mix of scenarios, by share of calls (a "concurrent" entry is two calls on one extension).
DEFAULT_MIX: dict[str, float] = {
    "inbound_answered": 0.35,
    "inbound_missed": 0.20,
    "outbound": 0.15,
    "hold_resume": 0.10,
    "multi_device": 0.10,
    "concurrent": 0.10,
}
# Presence status aggregation as the sandbox does it for the body's telephonyStatus.
_STATUS_ORDER = {"CallConnected": 3, "Ringing": 2, "OnHold": 1, "ParkedCall": 1, "NoCall": 0}
# An agent's phone holds a few calls at once; the platform lists up to 7 per extension.
MAX_CALLS_PER_AGENT = 3
PLATFORM_MAX_ACTIVE_CALLS = 7
EVENT_PATH = "/restapi/v1.0/account/~/extension/{ext}/presence?detailedTelephonyState=true"


@dataclass(frozen=True)
class AgentSpec:
    """One agent as the load generator knows it (ids and credentials made by the bench)."""

    agent_id: int
    extension_id: str
    direct_number: str
    subscription_id: str
    verification_token: str


@dataclass
class PlannedEvent:
    """One webhook POST: when (seconds after the phase starts), for whom, what it must pop."""

    at: float
    agent_index: int
    envelope: dict[str, Any]
    expect: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class _Transition:
    at: float
    order: int
    agent_index: int
    session_id: str
    status: str
    termination: str | None
    expect: str | None
    leg: dict[str, Any]


# (delay in gaps after the previous step, leg status, termination, expected pop state)
_SCRIPTS: dict[str, list[tuple[float, str, str | None, str | None]]] = {
    "inbound_answered": [
        (0, "Ringing", None, "ringing"),
        (1, "CallConnected", None, "connected"),
        (1, "NoCall", "final", "ended"),
    ],
    "inbound_missed": [
        (0, "Ringing", None, "ringing"),
        (1, "NoCall", "final", "missed"),
    ],
    "outbound": [
        (0, "Ringing", None, "ringing"),
        (1, "CallConnected", None, "connected"),
        (1, "NoCall", "final", "ended"),
    ],
    "hold_resume": [
        (0, "Ringing", None, "ringing"),
        (1, "CallConnected", None, "connected"),
        (1, "OnHold", None, "on_hold"),
        (1, "CallConnected", None, "connected"),
        (1, "NoCall", "final", "ended"),
    ],
    # Several devices ring: a transitional NoCall then Ringing again must not pop.
    "multi_device": [
        (0, "Ringing", None, "ringing"),
        (0.5, "NoCall", "intermediate", None),
        (0.2, "Ringing", None, None),
        (0.5, "CallConnected", None, "connected"),
        (1, "NoCall", "final", "ended"),
    ],
}


def script_event_count(scenario: str) -> int:
    if scenario == "concurrent":
        return 2 * len(_SCRIPTS["inbound_answered"])
    return len(_SCRIPTS[scenario])


def iso_timestamp(epoch_seconds: float) -> str:
    """The platform's timestamp format: ISO 8601 UTC with milliseconds and ``Z``."""
    from datetime import UTC, datetime

    moment = datetime.fromtimestamp(epoch_seconds, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _session_id(rng: random.Random) -> str:
    return str(rng.randrange(10**10, 10**11))


def _external_number(rng: random.Random, pool: list[str]) -> str:
    if pool and rng.random() < 0.7:
        return rng.choice(pool)
    # Numbers that match no contact ("unknown caller"), valid for phonenumbers.
    return f"+1212{rng.randrange(200, 999)}{rng.randrange(0, 10000):04d}"


def plan_phase(
    *,
    agents: list[AgentSpec],
    calls: int,
    rate: float,
    gap: float = 1.0,
    seed: int = 1,
    mix: dict[str, float] | None = None,
    caller_pool: list[str] | None = None,
    first_agent: int = 0,
    sequences: dict[int, int] | None = None,
) -> list[PlannedEvent]:
    """``calls`` calls spread over ``agents`` so that events go out at ``rate`` per second.

    Calls start one after another, each ``events / rate`` after the previous one, so the
    event rate is steady; within a call steps are ``gap`` seconds apart (jittered), long
    enough that a healthy pipeline applies them in order.
    """
    if not agents:
        raise ValueError("no agents")
    if rate <= 0 or calls <= 0:
        raise ValueError("rate and calls must be positive")
    rng = random.Random(seed)
    mix = mix or DEFAULT_MIX
    names = list(mix)
    weights = [mix[name] for name in names]
    pool = caller_pool or []
    transitions: list[_Transition] = []
    order = 0
    start = 0.0
    made = 0
    agent_cursor = first_agent
    # When each agent's calls end: an agent takes at most MAX_CALLS_PER_AGENT at once.
    busy_until: list[list[float]] = [[] for _ in agents]
    while made < calls:
        scenario = rng.choices(names, weights)[0]
        if scenario == "concurrent" and calls - made < 2:
            scenario = "inbound_answered"
        if scenario == "concurrent":
            # Call B rings while call A is connected, on the same extension.
            plans = [("inbound_answered", start), ("inbound_answered", start + 1.5 * gap)]
        else:
            plans = [(scenario, start)]
        timed = []
        for name, begin in plans:
            at, steps = begin, []
            for delay, status, termination, expect in _SCRIPTS[name]:
                at += delay * gap * rng.uniform(0.8, 1.2)
                steps.append((at, status, termination, expect))
            timed.append((name, steps))
        finish = max(steps[-1][0] for _, steps in timed)
        agent_index = _agent_pick(busy_until, agent_cursor, start, len(plans))
        agent_cursor = agent_index + 1
        busy_until[agent_index].extend([finish] * len(plans))
        agent = agents[agent_index]
        for name, steps in timed:
            session = _session_id(rng)
            outbound = name == "outbound"
            other = _external_number(rng, pool)
            leg = {
                "id": uuid.UUID(int=rng.getrandbits(128)).hex,
                "direction": "Outbound" if outbound else "Inbound",
                "from": agent.direct_number if outbound else other,
                "to": other if outbound else agent.direct_number,
                "startTime": "",
                "sessionId": session,
                "telephonySessionId": f"s-{uuid.UUID(int=rng.getrandbits(128)).hex}",
                "partyId": f"p-{uuid.UUID(int=rng.getrandbits(128)).hex[:24]}-1",
            }
            for at, status, termination, expect in steps:
                transitions.append(
                    _Transition(at, order, agent_index, session, status, termination, expect, leg)
                )
                order += 1
            made += 1
        start += script_event_count(scenario) / rate
    transitions.sort(key=lambda t: (t.at, t.order))
    return _replay(transitions, agents, rng, {} if sequences is None else sequences)


def _agent_pick(busy_until: list[list[float]], cursor: int, at: float, calls: int) -> int:
    """The next agent, round robin, with room for ``calls`` more calls at time ``at``."""
    count = len(busy_until)
    best, best_load = cursor % count, None
    for offset in range(count):
        index = (cursor + offset) % count
        ends = busy_until[index] = [end for end in busy_until[index] if end > at]
        if len(ends) + calls <= MAX_CALLS_PER_AGENT:
            return index
        if best_load is None or len(ends) < best_load:
            best, best_load = index, len(ends)
    # Everyone is busy: the least busy takes it, within what the platform lists.
    if best_load is not None and best_load + calls > PLATFORM_MAX_ACTIVE_CALLS:
        raise ValueError("too few agents for this rate: an extension would exceed "
                         f"{PLATFORM_MAX_ACTIVE_CALLS} active calls")
    return best


def _replay(
    transitions: list[_Transition],
    agents: list[AgentSpec],
    rng: random.Random,
    sequence: dict[int, int],
) -> list[PlannedEvent]:
    """Per extension: current legs, next sequence, one envelope per transition."""
    listed: dict[int, dict[str, dict[str, Any]]] = {}
    events: list[PlannedEvent] = []
    for tr in transitions:
        legs = listed.setdefault(tr.agent_index, {})
        seq = sequence.get(tr.agent_index, rng.randrange(1000, 100000)) + 1
        sequence[tr.agent_index] = seq
        entry = legs.get(tr.session_id)
        if entry is None:
            entry = dict(tr.leg)
            entry["_start"] = tr.at
            legs[tr.session_id] = entry
        entry["telephonyStatus"] = tr.status
        if tr.termination:
            entry["terminationType"] = tr.termination
        else:
            entry.pop("terminationType", None)
        agent = agents[tr.agent_index]
        active = [
            {k: v for k, v in leg.items() if not k.startswith("_")}
            for leg in sorted(legs.values(), key=lambda leg: (leg["_start"], leg["sessionId"]))
        ]
        for item, leg in zip(
            active, sorted(legs.values(), key=lambda leg: (leg["_start"], leg["sessionId"])),
            strict=True,
        ):
            # Filled in when sent (the load generator knows the wall clock then).
            item["startTime"] = leg["_start"]
        live = [leg for leg in active if leg["telephonyStatus"] != "NoCall"]
        status = max(
            (leg["telephonyStatus"] for leg in live),
            key=lambda s: _STATUS_ORDER.get(s, 0),
            default="NoCall",
        )
        envelope = {
            "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "event": EVENT_PATH.format(ext=agent.extension_id),
            "timestamp": "",
            "subscriptionId": agent.subscription_id,
            "ownerId": agent.extension_id,
            "body": {
                "extensionId": agent.extension_id,
                "telephonyStatus": status,
                "sequence": seq,
                "presenceStatus": "Busy" if live else "Available",
                "userStatus": "Available",
                "dndStatus": "TakeAllCalls",
                "allowSeeMyPresence": True,
                "ringOnMonitoredCall": False,
                "pickUpCallsOnHold": False,
                "totalActiveCalls": len(live),
                "ownerId": agent.extension_id,
                "activeCalls": active,
            },
        }
        expect = [(tr.session_id, tr.expect)] if tr.expect else []
        events.append(PlannedEvent(at=tr.at, agent_index=tr.agent_index, envelope=envelope,
                                   expect=expect))
        if tr.status == "NoCall" and tr.termination == "final":
            del legs[tr.session_id]
    return events


def envelope_stamp(envelope: dict[str, Any], *, wall_start: float, now: float) -> dict[str, Any]:
    """Fill in the times an event carries, relative to when the phase started on the clock."""
    envelope["timestamp"] = iso_timestamp(now)
    for leg in envelope["body"]["activeCalls"]:
        if not isinstance(leg["startTime"], str):
            leg["startTime"] = iso_timestamp(wall_start + leg["startTime"])
    return envelope
