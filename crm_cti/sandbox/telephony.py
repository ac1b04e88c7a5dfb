"""Calls in time: presence events, scenarios, interactive control and RingOut.

Every change of a call leg publishes that extension's presence (with every current call in
``activeCalls`` and the next ``sequence``) to the matching subscriptions. When a call ends
its call-log records appear after ``call_log_lag``; its active-call entries stay for
``active_call_retention`` seconds.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from crm_cti.sandbox import calllog, config, messagestore, sessions
from crm_cti.sandbox.seed import Extension
from crm_cti.sandbox.state import Call, Leg, RingOut, SandboxState, iso, now
from crm_cti.sandbox.subscriptions import presence_dispatch

DEFAULT_FROM = "+16504445567"
DEFAULT_FROM_NAME = "Phillip Marco"
SECOND_CALLER = "+14155550123"
# Interactive calls ring until answered, or this long, like a phone that gives up.
INTERACTIVE_RING_LIMIT = 60.0
# An answered interactive call hangs up by itself after this long (a forgotten demo call).
INTERACTIVE_TALK_LIMIT = 3600.0

_STATUS_ORDER = {"CallConnected": 3, "Ringing": 2, "OnHold": 1, "ParkedCall": 1, "NoCall": 0}


class CallError(ValueError):
    """A control request that cannot be applied (unknown extension, wrong state...)."""


# -- presence ---------------------------------------------------------------------------
def _listed_legs(state: SandboxState, ext: Extension) -> list[tuple[Call, Leg]]:
    """The extension's current calls (an index kept by ``leg_set``/``publish``, so that a
    busy sandbox does not scan every call for every event)."""
    found = list(state.listed.get(ext.id, {}).values())
    found.sort(key=lambda item: (item[0].start, item[0].session_id))
    return found


def _list(state: SandboxState, call: Call, leg: Leg) -> None:
    leg.listed = True
    state.listed.setdefault(leg.extension.id, {})[leg.call_id] = (call, leg)


def _leg_entry(call: Call, leg: Leg) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": leg.call_id,
        "direction": leg.direction,
        "from": leg.from_number,
        "to": leg.to_number,
        "startTime": iso(call.start),
        "sessionId": call.session_id,
        "telephonySessionId": call.telephony_session_id,
        "partyId": leg.party_id,
        "telephonyStatus": leg.status,
    }
    if leg.from_name:
        entry["fromName"] = leg.from_name
    if leg.to_name:
        entry["toName"] = leg.to_name
    if leg.status == "NoCall" and leg.termination and call.termination_markers:
        entry["terminationType"] = leg.termination
    return entry


def presence_snapshot(state: SandboxState, ext: Extension, *, detailed: bool) -> dict[str, Any]:
    legs = _listed_legs(state, ext)
    live = [leg for _, leg in legs if leg.status != "NoCall"]
    status = max((leg.status for leg in live), key=lambda s: _STATUS_ORDER.get(s, 0),
                 default="NoCall")
    body: dict[str, Any] = {
        "extensionId": ext.id,
        "telephonyStatus": status,
        "sequence": ext.sequence,
        "presenceStatus": "Busy" if live else "Available",
        "userStatus": "Available",
        "dndStatus": "TakeAllCalls",
        "allowSeeMyPresence": True,
        "ringOnMonitoredCall": False,
        "pickUpCallsOnHold": False,
        "totalActiveCalls": len(live),
        "ownerId": ext.id,
    }
    if detailed:
        body["activeCalls"] = [_leg_entry(call, leg) for call, leg in legs]
    return body


def publish(state: SandboxState, ext: Extension, call: Call | None) -> None:
    """Emit ``ext``'s presence now; legs that just ended leave the list afterwards."""
    ext.sequence += 1
    presence_dispatch(state, ext, presence_snapshot(state, ext, detailed=True), call)
    listed = state.listed.get(ext.id, {})
    for call_id, (_, leg) in list(listed.items()):
        if leg.status == "NoCall" and leg.termination == "final":
            leg.listed = False
            del listed[call_id]


# -- leg transitions ------------------------------------------------------------------
def leg_set(state: SandboxState, call: Call, leg: Leg, status: str,
            termination: str | None = None) -> None:
    if call.ended_at is not None:
        return
    at = now()
    if status == "Ringing" and leg.ringing_at is None:
        leg.ringing_at = at
    if status in ("CallConnected", "OnHold") and leg.connected_at is None:
        leg.connected_at = at
    leg.status = status
    leg.termination = termination
    _list(state, call, leg)
    publish(state, leg.extension, call)
    sessions.session_publish(state, call, [leg])


def leg_end(state: SandboxState, call: Call, leg: Leg, result: str, *,
            code: str | None = None, reason: str | None = None,
            peer: Leg | None = None) -> None:
    """One party leaves a call that goes on (transferred, forwarded, answered elsewhere):
    its presence says NoCall, its party ``code`` (Disconnected unless given) and ``reason``;
    ``peer`` is the party that took its place."""
    if call.ended_at is not None or leg.ended_at is not None:
        return
    leg.ended_at = now()
    leg.result = result
    if result == "Voicemail":
        messagestore.voicemail_leave(state, call, leg)
    leg.party_code, leg.party_reason = code, reason
    if peer is not None:
        leg.peer = {"sessionId": call.session_id, "telephonySessionId":
                    call.telephony_session_id, "partyId": peer.party_id}
    leg_set(state, call, leg, "NoCall", termination="final")


def legs_set(state: SandboxState, call: Call, legs: list[Leg], status: str) -> None:
    for leg in legs:
        leg_set(state, call, leg, status)


def _default_result(call: Call, leg: Leg) -> str:
    if leg.connected_at is not None:
        return "Accepted" if leg.direction == "Inbound" else "Call connected"
    if call.scenario == "inbound_voicemail" or leg.to_voicemail:
        return "Voicemail"
    return "Missed" if leg.direction == "Inbound" else "No Answer"


def call_finish(state: SandboxState, call: Call, result: str | None = None) -> None:
    """End every leg (final NoCall), then schedule the call-log records."""
    if call.ended_at is not None:
        return
    at = now()
    call.ended_at = at
    speed = float(state.config["speed"])
    connected = [leg.connected_at for leg in call.legs if leg.connected_at is not None]
    if connected:
        call.talk_seconds = (at - min(connected)) * speed
    touched: dict[str, Extension] = {}
    ending = [leg for leg in call.legs if leg.ended_at is None]
    for leg in ending:
        if leg.ended_at is None:
            leg.ended_at = at
            # An explicit result describes the primary leg (the RingOut caller's, say).
            explicit = result if leg is call.legs[0] else None
            leg.result = explicit or _default_result(call, leg)
            if leg.result == "Voicemail":
                messagestore.voicemail_leave(state, call, leg)
            leg.status = "NoCall"
            leg.termination = "final"
            _list(state, call, leg)
            touched[leg.extension.id] = leg.extension
    for ext in touched.values():
        publish(state, ext, call)
    sessions.session_publish(state, call, ending)
    _flush_held(state, call)
    if (call.record and connected
            and round(call.talk_seconds) > float(state.config["recording_min_seconds"])):
        call.recording_id = calllog.recording_create(state, call)
    lag = state.scaled(float(state.config["call_log_lag"]))
    state.spawn(_write_call_log_later(state, call, lag))


async def _write_call_log_later(state: SandboxState, call: Call, lag: float) -> None:
    await asyncio.sleep(lag)
    calllog.records_write(state, call)


def _flush_held(state: SandboxState, call: Call) -> None:
    """An out-of-order fault holds an event until the next one; at the end, release it."""
    from crm_cti.sandbox.subscriptions import release_held

    release_held(state, call)


# -- scenarios -------------------------------------------------------------------------
async def pause(state: SandboxState, nominal_seconds: float) -> None:
    await asyncio.sleep(state.scaled(nominal_seconds))


Scenario = Callable[[SandboxState, Call, dict[str, Any]], Awaitable[None]]


async def _ring_then_talk(state: SandboxState, call: Call, p: dict[str, Any]) -> None:
    """One leg rings, is answered, talks and hangs up (inbound answered; an outbound call
    the agent dials from their own phone has the same shape)."""
    leg = call.legs[0]
    leg_set(state, call, leg, "Ringing")
    await pause(state, p["ring_seconds"])
    leg_set(state, call, leg, "CallConnected")
    await pause(state, p["talk_seconds"])
    call_finish(state, call)


async def _ring_then_end(state: SandboxState, call: Call, p: dict[str, Any]) -> None:
    """One leg rings and the call ends unanswered (missed, voicemail; an interactive call
    rings like this until the control API answers it)."""
    leg = call.legs[0]
    leg_set(state, call, leg, "Ringing")
    await pause(state, p["ring_seconds"])
    if call.scenario == "inbound_voicemail":
        sessions.voicemail_publish(state, call, leg)
    call_finish(state, call)


async def _multi_device(state: SandboxState, call: Call, p: dict[str, Any]) -> None:
    """Several devices ring: a transitional NoCall, then Ringing again (the seed's rule)."""
    leg = call.legs[0]
    leg_set(state, call, leg, "Ringing")
    await pause(state, p["ring_seconds"] / 2)
    leg_set(state, call, leg, "NoCall", termination="intermediate")
    await asyncio.sleep(state.scaled(0.2))
    leg_set(state, call, leg, "Ringing")
    await pause(state, p["ring_seconds"] / 2)
    leg_set(state, call, leg, "CallConnected")
    await pause(state, p["talk_seconds"])
    call_finish(state, call)


async def _hold_resume(state: SandboxState, call: Call, p: dict[str, Any]) -> None:
    leg = call.legs[0]
    leg_set(state, call, leg, "Ringing")
    await pause(state, p["ring_seconds"])
    leg_set(state, call, leg, "CallConnected")
    await pause(state, p["talk_seconds"] / 2)
    leg_set(state, call, leg, "OnHold")
    await pause(state, p["hold_seconds"])
    leg_set(state, call, leg, "CallConnected")
    await pause(state, p["talk_seconds"] / 2)
    call_finish(state, call)


async def _internal(state: SandboxState, call: Call, p: dict[str, Any]) -> None:
    callee, caller = call.legs[0], call.legs[1]
    leg_set(state, call, caller, "Ringing")
    leg_set(state, call, callee, "Ringing")
    await pause(state, p["ring_seconds"])
    leg_set(state, call, callee, "CallConnected")
    leg_set(state, call, caller, "CallConnected")
    await pause(state, p["talk_seconds"])
    call_finish(state, call)


async def _concurrent(state: SandboxState, call: Call, p: dict[str, Any]) -> None:
    """Call A is answered; call B rings while A talks; A is held, B answered and ended,
    A resumed and ended. Both calls are in every event's ``activeCalls``."""
    first = call.legs[0]
    second_call: Call = p["second_call"]
    second = second_call.legs[0]
    leg_set(state, call, first, "Ringing")
    await pause(state, p["ring_seconds"])
    leg_set(state, call, first, "CallConnected")
    await pause(state, p["talk_seconds"] / 4)
    leg_set(state, second_call, second, "Ringing")
    await pause(state, p["ring_seconds"])
    leg_set(state, call, first, "OnHold")
    leg_set(state, second_call, second, "CallConnected")
    await pause(state, p["talk_seconds"] / 2)
    call_finish(state, second_call)
    leg_set(state, call, first, "CallConnected")
    await pause(state, p["talk_seconds"] / 4)
    call_finish(state, call)


async def _ringout(state: SandboxState, call: Call, p: dict[str, Any]) -> None:
    """Two legs: the agent's phone rings first; once it answers (CallConnected, the first
    leg) the callee rings and the outcome decides the rest."""
    ringout: RingOut = state.ringouts[call.ringout_id or ""]
    leg = call.legs[0]
    callee = call.legs[1] if len(call.legs) > 1 else None
    leg_set(state, call, leg, "Ringing")
    await pause(state, p["ring_seconds"])
    ringout.caller_status = "Success"
    leg_set(state, call, leg, "CallConnected")
    if callee is not None:
        leg_set(state, call, callee, "Ringing")
    await pause(state, p["ring_seconds"])
    outcome = ringout.outcome
    if outcome == "Success":
        ringout.callee_status = "Success"
        ringout.call_status = "Success"
        if callee is not None:
            leg_set(state, call, callee, "CallConnected")
        await pause(state, p["talk_seconds"])
        call_finish(state, call, result="Call connected")
        return
    ringout.callee_status = outcome
    ringout.call_status = outcome
    # The callee never connected: the call log tells, the events do not (seed's known issue).
    leg.connected_at = None
    call_finish(state, call, result=calllog.RINGOUT_RESULTS[outcome])


SCENARIOS: dict[str, Scenario] = {
    "inbound_answered": _ring_then_talk,
    "inbound_missed": _ring_then_end,
    "inbound_voicemail": _ring_then_end,
    "multi_device": _multi_device,
    "concurrent": _concurrent,
    "hold_resume": _hold_resume,
    "internal": _internal,
    "outbound": _ring_then_talk,
    "interactive": _ring_then_end,
}


def _new_call(state: SandboxState, scenario: str, legs: list[Leg],
              faults: list[dict[str, Any]], record: bool) -> Call:
    calls_prune(state)
    call = Call(
        session_id=state.next_session_id(),
        telephony_session_id=f"s-{secrets.token_hex(16)}",
        scenario=scenario,
        start=now(),
        legs=legs,
        faults=[dict(f) for f in faults],
        record=record,
    )
    state.calls[call.session_id] = call
    return call


def new_call(state: SandboxState, scenario: str, legs: list[Leg],
             faults: list[dict[str, Any]] | None = None, record: bool = True) -> Call:
    """A new call of ``legs`` (nothing rings yet)."""
    return _new_call(state, scenario, legs, faults or [], record)


def normalize_faults(raw: Any) -> list[dict[str, Any]]:
    faults: list[dict[str, Any]] = []
    for item in raw or []:
        fault = {"type": item} if isinstance(item, str) else dict(item)
        if fault.get("type") not in ("out_of_order", "duplicate", "drop", "slow"):
            raise CallError("faults: each is out_of_order, duplicate, drop or slow "
                            "(a string or an object with 'type')")
        if fault.get("event", "presence") not in ("presence", "telephony-sessions"):
            raise CallError("faults: 'event' is presence or telephony-sessions")
        faults.append(fault)
    return faults


def call_start(
    state: SandboxState, *, scenario: str, extension: str, from_number: str | None = None,
    name: str | None = None, ring_seconds: float | None = None,
    talk_seconds: float | None = None, hold_seconds: float | None = None,
    faults: Any = None, record: bool = True, to_number: str | None = None,
    termination_markers: bool = True,
) -> dict[str, Any]:
    """Start a scenario on ``extension`` (number or id); return its session id(s).
    ``termination_markers=False``: its NoCall events say no ``terminationType``."""
    if scenario not in SCENARIOS:
        raise CallError(f"unknown scenario {scenario!r}; one of {', '.join(SCENARIOS)}")
    ext = state.extension_by_number(str(extension)) or state.extensions.get(str(extension))
    if ext is None:
        raise CallError(f"unknown extension {extension!r}")
    fault_list = normalize_faults(faults)
    interactive = scenario == "interactive"
    params = {
        "ring_seconds": float(ring_seconds if ring_seconds is not None
                              else (INTERACTIVE_RING_LIMIT if interactive else 4)),
        "talk_seconds": float(talk_seconds if talk_seconds is not None else 8),
        "hold_seconds": float(hold_seconds if hold_seconds is not None else 3),
    }
    caller = from_number or DEFAULT_FROM
    if scenario == "internal":
        caller_ext = (state.extension_by_number(str(from_number or ""))
                      or state.extensions.get(str(from_number or "")))
        if caller_ext is None or caller_ext.id == ext.id:
            raise CallError("internal: 'from' must be another extension number (e.g. 103)")
        callee_leg = Leg(ext, "Inbound", caller_ext.number, caller_ext.name, ext.number,
                         ext.name, leg_type="ExtensionToExtension")
        caller_leg = Leg(caller_ext, "Outbound", caller_ext.number, caller_ext.name,
                         ext.number, ext.name, action="VoIP Call",
                         leg_type="ExtensionToExtension")
        legs = [callee_leg, caller_leg]
    elif scenario == "outbound":
        legs = [Leg(ext, "Outbound", ext.direct_number, ext.name, to_number or DEFAULT_FROM,
                    name, action="VoIP Call", leg_type="SipToPstnMetered")]
    else:
        # ``to_number``: the caller dialled another number that rings this extension (a call
        # queue's, the company's main number) instead of its direct number.
        legs = [Leg(ext, "Inbound", caller, name or (None if from_number else DEFAULT_FROM_NAME),
                    to_number or ext.direct_number, None if to_number else ext.name)]
    call = _new_call(state, scenario, legs, fault_list, record)
    call.termination_markers = termination_markers
    result = {"sessionId": call.session_id, "sessionIds": [call.session_id],
              "telephonySessionId": call.telephony_session_id, "scenario": scenario,
              "extension": ext.number, "extensionId": ext.id, **params}
    if scenario == "concurrent":
        second = _new_call(state, scenario,
                           [Leg(ext, "Inbound", SECOND_CALLER, None, ext.direct_number,
                                ext.name)], fault_list, record)
        second.termination_markers = termination_markers
        params["second_call"] = second
        result["sessionIds"].append(second.session_id)
    call.task = state.spawn(_run(state, call, SCENARIOS[scenario], params))
    if scenario == "concurrent":
        # Controlling either call takes both out of the script.
        params["second_call"].task = call.task
    return result


async def _run(state: SandboxState, call: Call, scenario: Scenario,
               params: dict[str, Any]) -> None:
    await scenario(state, call, params)


def call_command(state: SandboxState, session_id: str, action: str,
                 extension: str | None = None) -> dict[str, Any]:
    """Interactive control: answer, hold, resume or hang up a call. A valid action takes
    the call out of its scenario's script; an invalid one changes nothing."""
    call = state.calls.get(session_id)
    if call is None:
        raise LookupError(session_id)
    if call.ended_at is not None:
        raise CallError("the call has already ended")
    legs = call.legs
    if extension:
        legs = [leg for leg in call.legs if extension in (leg.extension.number, leg.extension.id)]
        if not legs:
            raise CallError(f"extension {extension} is not on this call")
    targets: list[Leg] = []
    status = ""
    if action == "answer":
        if call.ringout_id:
            raise CallError("a RingOut progresses by itself; cancel it with DELETE instead")
        ringing = [leg for leg in legs if leg.status in ("Ringing", "NoCall")]
        if not ringing:
            raise CallError("nothing is ringing on this call")
        targets = ringing if extension else [leg for leg in call.legs if leg.status != "OnHold"]
        status = "CallConnected"
    elif action == "hold":
        targets = [leg for leg in legs if leg.status == "CallConnected"][:1]
        if not targets:
            raise CallError("the call is not connected")
        status = "OnHold"
    elif action == "resume":
        targets = [leg for leg in legs if leg.status == "OnHold"]
        if not targets:
            raise CallError("the call is not on hold")
        status = "CallConnected"
    elif action != "hangup":
        raise CallError(f"unknown action {action!r}; one of answer, hold, resume, hangup")
    _script_stop(state, call)
    if action == "hangup":
        call_finish(state, call)
    else:
        legs_set(state, call, targets, status)
    if action == "answer":
        # A forgotten demo call does not stay connected for ever.
        state.spawn(_hangup_later(state, call, INTERACTIVE_TALK_LIMIT))
    return call_public(call)


def call_take_over(state: SandboxState, call: Call) -> None:
    """Call control takes the call out of its scenario's script; like an interactive demo
    call it then hangs up by itself after ``INTERACTIVE_TALK_LIMIT``."""
    # A scenario script that uses call control itself is not interrupted by it.
    if call.task is not None and call.task is not asyncio.current_task():
        _script_stop(state, call)
        state.spawn(_hangup_later(state, call, INTERACTIVE_TALK_LIMIT))


def _script_stop(state: SandboxState, call: Call) -> None:
    script = call.task
    call.task = None
    if script is None or script.done():
        return
    script.cancel()
    for other in list(state.calls.values()):
        if other is not call and other.task is script:
            other.task = None
            # A companion call the script had not started yet never existed.
            if all(leg.ringing_at is None for leg in other.legs):
                del state.calls[other.session_id]


async def _hangup_later(state: SandboxState, call: Call, seconds: float) -> None:
    await asyncio.sleep(seconds)
    call_finish(state, call)


def call_public(call: Call) -> dict[str, Any]:
    return {
        "sessionId": call.session_id,
        "telephonySessionId": call.telephony_session_id,
        "scenario": call.scenario,
        "startTime": iso(call.start),
        "endTime": iso(call.ended_at) if call.ended_at else None,
        "active": call.active,
        "recordingId": call.recording_id,
        "ringoutId": call.ringout_id,
        "talkSeconds": round(call.talk_seconds),
        "legs": [
            {
                "extensionId": leg.extension.id,
                "extensionNumber": leg.extension.number,
                "direction": leg.direction,
                "from": leg.from_number,
                "fromName": leg.from_name,
                "to": leg.to_number,
                "toName": leg.to_name,
                "telephonyStatus": leg.status,
                "result": leg.result,
                "partyId": leg.party_id,
                "partyStatus": sessions.party_code(leg),
            }
            for leg in call.legs
        ],
    }


def calls_prune(state: SandboxState) -> None:
    """Forget calls that ended longer ago than the active-call retention."""
    horizon = now() - float(state.config["active_call_retention"])
    for session_id in [sid for sid, call in state.calls.items()
                       if call.ended_at is not None and call.ended_at < horizon
                       and not any(leg.listed for leg in call.legs)]:
        del state.calls[session_id]


# -- RingOut --------------------------------------------------------------------------------
def ringout_outcome(state: SandboxState, to_number: str) -> str:
    digits = "".join(ch for ch in to_number if ch.isdigit())
    for number, outcome in config.RINGOUT_OUTCOME_NUMBERS.items():
        if digits == number.lstrip("+"):
            return outcome
    return str(state.config.get("ringout_outcome") or "Success")


def ringout_start(state: SandboxState, *, ext: Extension, from_number: str, to_number: str,
                  caller_id: str | None, faults: Any = None) -> RingOut:
    target = state.extension_by_number(to_number) or state.extension_by_phone(to_number)
    legs = [Leg(ext, "Outbound", from_number, ext.name, to_number,
                target.name if target else None, action="RingOut Web",
                leg_type="RingOutWebToCaller")]
    if target is not None and target.id != ext.id:
        # A RingOut to a colleague also rings their extension (an internal call to them).
        legs.append(Leg(target, "Inbound", ext.number, ext.name, target.number, target.name,
                        leg_type="ExtensionToExtension"))
    call = _new_call(state, "ringout", legs, normalize_faults(faults), True)
    ringout = RingOut(
        id=str(secrets.randbelow(9 * 10**11) + 10**11),
        owner_id=ext.id,
        session_id=call.session_id,
        from_number=from_number,
        to_number=to_number,
        caller_id=caller_id,
        outcome=ringout_outcome(state, to_number),
    )
    state.ringouts[ringout.id] = ringout
    call.ringout_id = ringout.id
    params = {"ring_seconds": 4.0, "talk_seconds": 8.0}
    call.task = state.spawn(_run(state, call, _ringout, params))
    return ringout


def ringout_cancel(state: SandboxState, ringout: RingOut) -> None:
    call = state.calls.get(ringout.session_id)
    ringout.cancelled = True
    if call is not None and call.ended_at is None:
        if call.task is not None and not call.task.done():
            call.task.cancel()
        call.legs[0].connected_at = None if ringout.callee_status == "InProgress" else (
            call.legs[0].connected_at)
        call_finish(state, call, result="Hang Up" if ringout.callee_status == "InProgress"
                    else None)
    del state.ringouts[ringout.id]
