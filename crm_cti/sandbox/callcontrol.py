"""Call Control: what each ``telephony/sessions`` operation does to a call, and the
scenarios built from them (call queue, blind and warm transfer, park and pickup, forward,
reject to voicemail).

Every operation changes the call through ``telephony.leg_set``/``leg_end``/``call_finish``,
so presence, telephony-session events, active calls and the call log all follow.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from crm_cti.sandbox import sessions, telephony
from crm_cti.sandbox.seed import Extension
from crm_cti.sandbox.state import Call, Leg, SandboxState
from crm_cti.sandbox.telephony import DEFAULT_FROM, DEFAULT_FROM_NAME, leg_end, leg_set

# The first park orbit; each park takes the next free one.
PARK_ORBIT_BASE = 801


class ControlError(Exception):
    """A refused operation, worded as the platform words it (rendered by the REST layer)."""

    def __init__(self, status: int, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def _not_allowed(message: str) -> ControlError:
    return ControlError(409, "TAS-106", f"Operation is not allowed: {message}")


def not_found_error(name: str, value: str) -> ControlError:
    return ControlError(404, "CMN-102", f"Resource for parameter [{name}] is not found",
                        parameterName=name, parameterValue=value)


# -- look-ups ------------------------------------------------------------------------------
def session_find(state: SandboxState, telephony_session_id: str) -> Call:
    for call in state.calls.values():
        if call.telephony_session_id == telephony_session_id:
            return call
    raise not_found_error("telephonySessionId", telephony_session_id)


def live_session_find(state: SandboxState, telephony_session_id: str) -> Call:
    call = session_find(state, telephony_session_id)
    if call.ended_at is not None:
        raise ControlError(404, "TAS-102", "Telephony session is already finished",
                           parameterName="telephonySessionId",
                           parameterValue=telephony_session_id)
    return call


def party_find(call: Call, party_id: str, *, live: bool = True) -> Leg:
    for leg in call.legs:
        if leg.party_id == party_id:
            if live and leg.ended_at is not None:
                raise _not_allowed("the party has already left the call")
            return leg
    raise not_found_error("partyId", party_id)


def party_control_check(user: Extension, leg: Leg) -> None:
    """A user controls their own parties; an admin any party of the account."""
    if leg.extension.id != user.id and not user.is_admin:
        raise ControlError(403, "CMN-419", "In order to call this API endpoint, user needs to "
                           "be the owner of the party or an admin", permissionName="CallControl")


def _extension_target(state: SandboxState, body: dict[str, Any], name: str) -> Extension:
    raw = str(body[name])
    ext = (state.extension_by_number(raw) if name == "extensionNumber"
           else state.extensions.get(raw))
    if ext is None:
        raise not_found_error(name, raw)
    return ext


def _one_target(body: Any, names: tuple[str, ...]) -> str:
    if not isinstance(body, dict):
        raise ControlError(400, "CMN-101", "Request body must be a JSON object")
    given = [name for name in names if body.get(name) not in (None, "")]
    if len(given) != 1:
        raise ControlError(400, "CMN-101", "Only one of " + ", ".join(names)
                           + " must be specified", parameterName="/".join(names))
    return given[0]


def _device_check(ext: Extension, body: Any) -> str:
    device = body.get("deviceId") if isinstance(body, dict) else None
    if not device:
        raise ControlError(400, "CMN-100", "Mandatory parameter [deviceId] not specified",
                           parameterName="deviceId")
    if not sessions.device_owned(ext, str(device)):
        raise not_found_error("deviceId", str(device))
    return str(device)


def _new_party(call: Call, ext: Extension, *, queue_call: bool = False) -> Leg:
    """A party of ``ext`` joins the call (rings there), calling from the call's caller."""
    caller = call.legs[0]
    from_number, from_name = ((caller.from_number, caller.from_name)
                              if caller.direction == "Inbound"
                              else (caller.to_number, caller.to_name))
    leg = Leg(ext, "Inbound", from_number, from_name, ext.direct_number, ext.name,
              party_id=f"p-{call.telephony_session_id[2:26]}-{len(call.legs) + 1}")
    leg.queue_call = queue_call
    call.legs.append(leg)
    return leg


def _live(call: Call) -> list[Leg]:
    return [leg for leg in call.legs if leg.ended_at is None]


def _finish_if_alone(state: SandboxState, call: Call) -> None:
    """The account's last party left (the far end was outside): the call is over here."""
    if not _live(call):
        telephony.call_finish(state, call)


# -- party operations ------------------------------------------------------------------------
def party_hold(state: SandboxState, call: Call, leg: Leg) -> Leg:
    if leg.status != "CallConnected":
        raise _not_allowed("the party cannot be held, it is not connected")
    telephony.call_take_over(state, call)
    leg_set(state, call, leg, "OnHold")
    return leg


def party_unhold(state: SandboxState, call: Call, leg: Leg) -> Leg:
    if leg.status != "OnHold":
        raise _not_allowed("the party is not on hold")
    telephony.call_take_over(state, call)
    leg_set(state, call, leg, "CallConnected")
    return leg


def party_answer(state: SandboxState, call: Call, leg: Leg, body: Any) -> Leg:
    device = _device_check(leg.extension, body)
    if leg.status != "Ringing":
        raise _not_allowed("the party is not ringing")
    telephony.call_take_over(state, call)
    leg.device_id = device
    leg_set(state, call, leg, "CallConnected")
    # A queue call answered by one agent stops ringing everyone else.
    for other in _live(call):
        if other is not leg and other.queue_call and other.status == "Ringing":
            leg_end(state, call, other, "Answered Elsewhere", reason="AgentAnswered",
                    peer=leg)
    return leg


def party_reject(state: SandboxState, call: Call, leg: Leg) -> None:
    """Decline a ringing call: it goes to the extension's voicemail."""
    if leg.status != "Ringing" or leg.direction != "Inbound":
        raise _not_allowed("only a ringing inbound party can be rejected")
    telephony.call_take_over(state, call)
    sessions.voicemail_publish(state, call, leg, reason="Rejected")
    leg_end(state, call, leg, "Voicemail", reason="Rejected")
    _finish_if_alone(state, call)


def party_ignore(state: SandboxState, call: Call, leg: Leg) -> None:
    """Let a queue call ring on for the other agents."""
    if not leg.queue_call or leg.status != "Ringing":
        raise ControlError(400, "CMN-101", "Only a ringing call queue call can be ignored")
    telephony.call_take_over(state, call)
    leg_end(state, call, leg, "Missed")
    if not [other for other in _live(call) if other.status == "Ringing"]:
        telephony.call_finish(state, call)


def _redirect(state: SandboxState, call: Call, leg: Leg, body: dict[str, Any], kind: str,
              result: str, reason: str) -> Leg:
    """Where a forwarded or transferred call goes: a colleague (rings there), a voicemail
    box, or a number outside the account (the call leaves it)."""
    if kind in ("extensionNumber", "extensionId"):
        target = _extension_target(state, body, kind)
        if target.id == leg.extension.id:
            raise _not_allowed("the call cannot be sent to the party's own extension")
        new = _new_party(call, target)
        leg_end(state, call, leg, result, code="Gone" if reason != "CallRedirected"
                else None, reason=reason, peer=new)
        leg_set(state, call, new, "Ringing")
        state.spawn(_ring_out_later(state, call, new))
        return leg
    if kind == "voicemail":
        target = _extension_target(state, body, "voicemail")
        new = _new_party(call, target)
        leg_end(state, call, leg, result, code="Gone" if reason != "CallRedirected"
                else None, reason=reason, peer=new)
        leg_set(state, call, new, "Ringing")
        sessions.voicemail_publish(state, call, new)
        telephony.call_finish(state, call)
        return leg
    # A phone number outside the account: the caller is connected there.
    leg_end(state, call, leg, result, code="Gone" if reason != "CallRedirected" else None,
            reason=reason)
    _finish_if_alone(state, call)
    return leg


async def _ring_out_later(state: SandboxState, call: Call, leg: Leg) -> None:
    """A colleague who never answers a transferred or forwarded call: it ends as missed."""
    await asyncio.sleep(state.scaled(telephony.INTERACTIVE_RING_LIMIT))
    if leg.status == "Ringing" and leg.ended_at is None:
        leg_end(state, call, leg, "Missed")
        _finish_if_alone(state, call)


def party_transfer(state: SandboxState, call: Call, leg: Leg, body: Any) -> Leg:
    kind = _one_target(body, ("phoneNumber", "voicemail", "extensionNumber", "parkOrbit",
                              "extensionId"))
    if leg.status not in ("CallConnected", "OnHold"):
        raise _not_allowed("only a connected party can be transferred")
    telephony.call_take_over(state, call)
    if kind == "parkOrbit":
        return party_park(state, call, leg, orbit=str(body["parkOrbit"]))
    return _redirect(state, call, leg, body, kind, "Accepted", "BlindTransfer")


def party_forward(state: SandboxState, call: Call, leg: Leg, body: Any) -> Leg:
    kind = _one_target(body, ("phoneNumber", "voicemail", "extensionNumber", "extensionId"))
    if leg.status != "Ringing" or leg.direction != "Inbound":
        raise _not_allowed("only a ringing inbound party can be forwarded")
    telephony.call_take_over(state, call)
    return _redirect(state, call, leg, body, kind, "Stopped", "CallRedirected")


def party_reply(state: SandboxState, call: Call, leg: Leg, body: Any) -> Leg:
    """Answer a ringing caller with a text (played to them); the call ends there."""
    kind = _one_target(body, ("replyWithText", "replyWithPattern"))
    if kind == "replyWithText" and not isinstance(body["replyWithText"], str):
        raise ControlError(400, "CMN-101", "Parameter [replyWithText] value is invalid",
                           parameterName="replyWithText")
    if leg.status != "Ringing" or leg.direction != "Inbound":
        raise _not_allowed("only a ringing inbound party can be replied to")
    telephony.call_take_over(state, call)
    leg_end(state, call, leg, "Reply", reason="CallReplied")
    _finish_if_alone(state, call)
    return leg


def _free_orbit(state: SandboxState) -> str:
    taken = {leg.park_id for call in state.calls.values() for leg in call.legs
             if leg.park_id and leg.ended_at is None}
    number = PARK_ORBIT_BASE
    while f"*{number}" in taken:
        number += 1
    return f"*{number}"


def party_park(state: SandboxState, call: Call, leg: Leg, orbit: str | None = None) -> Leg:
    if leg.status not in ("CallConnected", "OnHold"):
        raise _not_allowed("only a connected party can be parked")
    telephony.call_take_over(state, call)
    leg.park_id = orbit or _free_orbit(state)
    leg.party_reason = "ParkLocation" if orbit else "CallPark"
    leg_set(state, call, leg, "ParkedCall")
    return leg


def party_pickup(state: SandboxState, call: Call, leg: Leg, user: Extension, body: Any) -> Leg:
    """``user`` picks the parked call up on one of their devices."""
    device = _device_check(user, body)
    if leg.status != "ParkedCall":
        raise _not_allowed("the party is not parked")
    telephony.call_take_over(state, call)
    new = _new_party(call, user)
    new.device_id = device
    leg_end(state, call, leg, "Accepted", code="Gone", reason="Pickup", peer=new)
    leg_set(state, call, new, "CallConnected")
    return new


def party_drop(state: SandboxState, call: Call, leg: Leg) -> None:
    """``DELETE`` of a party: it hangs up; the call ends when nobody of the account is left
    or the party was the only one talking to the caller."""
    telephony.call_take_over(state, call)
    leg_end(state, call, leg, "Accepted" if leg.connected_at else "Missed")
    if not [other for other in _live(call) if other.status != "NoCall"]:
        telephony.call_finish(state, call)


def party_bridge(state: SandboxState, call: Call, leg: Leg, body: Any) -> Leg:
    """Warm transfer: the agent (``leg``, usually holding the customer) joins the customer
    to the colleague of a consultation call (``body``'s session and party, the agent's own
    party there); the agent leaves both, the consultation ends."""
    if not isinstance(body, dict) or not body.get("telephonySessionId") or not body.get(
            "partyId"):
        raise ControlError(400, "CMN-100", "Mandatory parameters [telephonySessionId, partyId] "
                           "not specified", parameterName="telephonySessionId")
    consult = live_session_find(state, str(body["telephonySessionId"]))
    if consult is call:
        raise _not_allowed("a session cannot be bridged with itself")
    mine = party_find(consult, str(body["partyId"]))
    if mine.extension.id != leg.extension.id:
        raise _not_allowed("the parties to bridge belong to different extensions")
    colleagues = [other for other in _live(consult) if other is not mine
                  and other.status in ("CallConnected", "OnHold")]
    if leg.status not in ("CallConnected", "OnHold") or not colleagues:
        raise _not_allowed("both calls must be connected to be bridged")
    telephony.call_take_over(state, call)
    telephony.call_take_over(state, consult)
    colleague = colleagues[0]
    new = _new_party(call, colleague.extension)
    for other in _live(consult):
        leg_end(state, consult, other, "Accepted", code="Gone", reason="AttendedTransfer",
                peer=new)
    telephony.call_finish(state, consult)
    leg_end(state, call, leg, "Accepted", code="Gone", reason="AttendedTransfer", peer=new)
    leg_set(state, call, new, "CallConnected")
    return new


def recording_start(state: SandboxState, call: Call, leg: Leg) -> dict[str, Any]:
    if leg.status != "CallConnected":
        raise _not_allowed("only a connected call can be recorded")
    if any(rec["active"] for rec in call.recordings):
        raise _not_allowed("the call is already being recorded")
    telephony.call_take_over(state, call)
    recording = {"id": str(secrets.randbelow(9 * 10**9) + 10**9), "active": True,
                 "mode": "OnDemand", "view": "Party"}
    call.recordings.append(recording)
    call.record = True
    sessions.session_publish(state, call, [leg], force=True)
    return dict(recording)


def recording_update(state: SandboxState, call: Call, leg: Leg, recording_id: str,
                     body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get("active"), bool):
        raise ControlError(400, "CMN-100", "Mandatory parameter [active] not specified",
                           parameterName="active")
    recording = next((rec for rec in call.recordings if rec["id"] == recording_id), None)
    if recording is None:
        raise not_found_error("recordingId", recording_id)
    recording["active"] = body["active"]
    sessions.session_publish(state, call, [leg], force=True)
    return dict(recording)


def session_drop(state: SandboxState, call: Call) -> None:
    telephony.call_take_over(state, call)
    telephony.call_finish(state, call)


# -- call-out ------------------------------------------------------------------------------
def call_out(state: SandboxState, user: Extension, body: Any) -> Call:
    """``POST telephony/call-out``: the user's device calls a number or a colleague."""
    if not isinstance(body, dict) or not isinstance(body.get("from"), dict) or not isinstance(
            body.get("to"), dict):
        raise ControlError(400, "CMN-100", "Mandatory parameters [from, to] not specified",
                           parameterName="from")
    device = _device_check(user, body["from"])
    kind = _one_target(body["to"], ("phoneNumber", "extensionNumber"))
    target: Extension | None = None
    if kind == "extensionNumber":
        target = _extension_target(state, body["to"], kind)
        to_number, to_name = target.number, target.name
    else:
        to_number = str(body["to"]["phoneNumber"])
        target = state.extension_by_phone(to_number)
        to_name = target.name if target else None
    if target is not None and target.id == user.id:
        raise _not_allowed("an extension cannot call itself")
    caller = Leg(user, "Outbound", user.direct_number, user.name, to_number, to_name,
                 action="VoIP Call", leg_type="SipToPstnMetered" if target is None
                 else "ExtensionToExtension")
    caller.device_id = device
    legs = [caller]
    if target is not None:
        legs.append(Leg(target, "Inbound", user.number, user.name, target.number, target.name,
                        leg_type="ExtensionToExtension"))
    call = telephony.new_call(state, "call_out", legs)
    call.origin = "CallOut"
    call.task = state.spawn(_call_out_script(state, call))
    return call


async def _call_out_script(state: SandboxState, call: Call) -> None:
    """The device goes off-hook, the far end rings and answers; they talk until hung up."""
    caller = call.legs[0]
    leg_set(state, call, caller, "Ringing")
    for leg in call.legs[1:]:
        leg_set(state, call, leg, "Ringing")
    await telephony.pause(state, 4)
    telephony.legs_set(state, call, call.legs, "CallConnected")
    await asyncio.sleep(telephony.INTERACTIVE_TALK_LIMIT)
    telephony.call_finish(state, call)


# -- scenarios -------------------------------------------------------------------------------
SCENARIOS = ("call_queue", "blind_transfer", "warm_transfer", "park_pickup", "forward",
             "reject_voicemail")
# Who takes part in each scenario besides the extension it is started on.
_COLLEAGUE = {"102": "103", "103": "104"}


def _colleague(state: SandboxState, ext: Extension, raw: str | None) -> Extension:
    if raw:
        found = state.extension_by_number(str(raw)) or state.extensions.get(str(raw))
        if found is None or found.id == ext.id:
            raise telephony.CallError("'to' must be another extension number (e.g. 103)")
        return found
    number = _COLLEAGUE.get(ext.number, "102")
    found = state.extension_by_number(number)
    assert found is not None
    return found


def scenario_start(state: SandboxState, *, scenario: str, extension: str,
                   to: str | None = None, agents: Any = None, from_number: str | None = None,
                   name: str | None = None, ring_seconds: float | None = None,
                   talk_seconds: float | None = None, faults: Any = None,
                   answered: Any = True) -> dict[str, Any]:
    """Play a call-control scenario on ``extension``: the same operations an app would
    call, in order, so each event is the one a real call of that shape produces.

    ``call_queue`` may be started on a call queue's number (801): its members ring; with
    ``answered`` false nobody answers and the caller leaves the queue's voicemail."""
    queue = state.call_queue_by_number(str(extension)) if scenario == "call_queue" else None
    if not isinstance(answered, bool):
        raise telephony.CallError("'answered' must be true or false")
    if not answered and queue is None:
        raise telephony.CallError("'answered': false needs a call_queue on a queue's number")
    if queue is not None and not agents:
        agents = list(queue.members)
    ext = queue or state.extension_by_number(str(extension)) or state.extensions.get(
        str(extension))
    if ext is None:
        raise telephony.CallError(f"unknown extension {extension!r}")
    ring = float(ring_seconds if ring_seconds is not None else 4)
    talk = float(talk_seconds if talk_seconds is not None else 8)
    caller = Leg(ext, "Inbound", from_number or DEFAULT_FROM,
                 name or (None if from_number else DEFAULT_FROM_NAME), ext.direct_number,
                 ext.name)
    legs = [caller]
    if scenario == "call_queue":
        numbers = agents or [ext.number, *(n for n in ("103", "104") if n != ext.number)]
        members = []
        for number in numbers:
            member = state.extension_by_number(str(number)) or state.extensions.get(str(number))
            if member is None:
                raise telephony.CallError(f"unknown agent {number!r}")
            members.append(member)
        # Called on a queue's number, each member's leg shows that number (as the platform
        # does): nobody in particular missed it.
        legs = [Leg(member, "Inbound", caller.from_number, caller.from_name,
                    (queue or member).direct_number, (queue or member).name)
                for member in members]
        for leg in legs:
            leg.queue_call = True
        if not answered:
            # The queue's own party: where the call ends when no member takes it.
            queue_leg = Leg(queue, "Inbound", caller.from_number, caller.from_name,
                            queue.direct_number, queue.name)
            queue_leg.to_voicemail = not answered
            legs.append(queue_leg)
    colleague = None if scenario in ("call_queue", "reject_voicemail") else _colleague(
        state, ext, to)
    call = telephony.new_call(state, scenario, legs, telephony.normalize_faults(faults))
    result = {"sessionId": call.session_id, "sessionIds": [call.session_id],
              "telephonySessionId": call.telephony_session_id, "scenario": scenario,
              "extension": ext.number, "extensionId": ext.id, "ring_seconds": ring,
              "talk_seconds": talk}
    if colleague is not None:
        result["colleague"] = colleague.number
    script = _queue_unanswered if not answered else _SCRIPTS[scenario]
    call.task = state.spawn(script(state, call, colleague, ring, talk))
    return result


async def _agent_answers(state: SandboxState, call: Call, ring: float) -> Leg:
    """The opening of most scenarios: the agent's phone rings, the agent answers."""
    agent = call.legs[0]
    leg_set(state, call, agent, "Ringing")
    await telephony.pause(state, ring)
    leg_set(state, call, agent, "CallConnected")
    return agent


async def _colleague_answers(state: SandboxState, call: Call, ring: float) -> None:
    """The colleague a call was sent to answers after ringing (unless someone acted)."""
    await telephony.pause(state, ring)
    new = call.legs[-1]
    if new.status == "Ringing":
        leg_set(state, call, new, "CallConnected")


def _device(ext: Extension) -> dict[str, str]:
    return {"deviceId": sessions.devices_of(ext)[0]["id"]}


async def _queue(state: SandboxState, call: Call, _colleague: Extension | None, ring: float,
                 talk: float) -> None:
    """Every agent's phone rings; the first one answers; the others stop ringing."""
    telephony.legs_set(state, call, call.legs, "Ringing")
    await telephony.pause(state, ring)
    first = call.legs[0]
    party_answer(state, call, first, _device(first.extension))
    await telephony.pause(state, talk)
    telephony.call_finish(state, call)


async def _queue_unanswered(state: SandboxState, call: Call, _colleague: Extension | None,
                            ring: float, _talk: float) -> None:
    """Every member's phone rings and nobody answers: the members missed it, and the
    queue's party ends in the queue's voicemail (``to_voicemail``)."""
    members = [leg for leg in call.legs if leg.extension.kind == "User"]
    telephony.legs_set(state, call, members, "Ringing")
    await telephony.pause(state, ring)
    for leg in members:
        telephony.leg_end(state, call, leg, "Missed")
    telephony.call_finish(state, call)


async def _blind(state: SandboxState, call: Call, colleague: Extension | None, ring: float,
                 talk: float) -> None:
    agent = await _agent_answers(state, call, ring)
    await telephony.pause(state, talk / 2)
    assert colleague is not None
    _redirect(state, call, agent, {"extensionNumber": colleague.number}, "extensionNumber",
              "Accepted", "BlindTransfer")
    await _colleague_answers(state, call, ring)
    await telephony.pause(state, talk / 2)
    telephony.call_finish(state, call)


async def _warm(state: SandboxState, call: Call, colleague: Extension | None, ring: float,
                talk: float) -> None:
    """Answer, hold the customer, consult the colleague on a second call, bridge."""
    agent = await _agent_answers(state, call, ring)
    await telephony.pause(state, talk / 3)
    leg_set(state, call, agent, "OnHold")
    assert colleague is not None
    ext = agent.extension
    consult = telephony.new_call(state, "warm_transfer", [
        Leg(ext, "Outbound", ext.number, ext.name, colleague.number, colleague.name,
            action="VoIP Call", leg_type="ExtensionToExtension"),
        Leg(colleague, "Inbound", ext.number, ext.name, colleague.number, colleague.name,
            leg_type="ExtensionToExtension")])
    consult.task = call.task
    telephony.legs_set(state, consult, consult.legs, "Ringing")
    await telephony.pause(state, ring)
    telephony.legs_set(state, consult, consult.legs, "CallConnected")
    await telephony.pause(state, talk / 3)
    party_bridge(state, call, agent, {"telephonySessionId": consult.telephony_session_id,
                                      "partyId": consult.legs[0].party_id})
    await telephony.pause(state, talk / 3)
    telephony.call_finish(state, call)


async def _park(state: SandboxState, call: Call, colleague: Extension | None, ring: float,
                talk: float) -> None:
    agent = await _agent_answers(state, call, ring)
    await telephony.pause(state, talk / 2)
    party_park(state, call, agent)
    await telephony.pause(state, ring)
    assert colleague is not None
    party_pickup(state, call, agent, colleague, _device(colleague))
    await telephony.pause(state, talk / 2)
    telephony.call_finish(state, call)


async def _forward(state: SandboxState, call: Call, colleague: Extension | None, ring: float,
                   talk: float) -> None:
    agent = call.legs[0]
    leg_set(state, call, agent, "Ringing")
    await telephony.pause(state, ring / 2)
    assert colleague is not None
    _redirect(state, call, agent, {"extensionNumber": colleague.number}, "extensionNumber",
              "Stopped", "CallRedirected")
    await _colleague_answers(state, call, ring)
    await telephony.pause(state, talk)
    telephony.call_finish(state, call)


async def _reject(state: SandboxState, call: Call, _colleague: Extension | None, ring: float,
                  talk: float) -> None:
    agent = call.legs[0]
    leg_set(state, call, agent, "Ringing")
    await telephony.pause(state, ring / 2)
    party_reject(state, call, agent)


_SCRIPTS = {"call_queue": _queue, "blind_transfer": _blind, "warm_transfer": _warm,
            "park_pickup": _park, "forward": _forward, "reject_voicemail": _reject}
