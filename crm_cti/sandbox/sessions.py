"""Telephony sessions: each call seen as a session of parties, and its notifications.

A call (``state.Call``) is the session; each of its legs is a party. Presence and telephony-
session events are both derived from the same legs at the same moment (``telephony.leg_set``
and ``telephony.call_finish`` call ``session_publish``), so the two never disagree. A party's
``status.code`` follows its leg's presence status, unless call control set a code of its own
(``Gone`` after a transfer, ``Parked``, ``VoiceMail``).
"""

from __future__ import annotations

from typing import Any

from crm_cti.sandbox.seed import Extension
from crm_cti.sandbox.state import Call, Leg, SandboxState, iso, now

_CODES = {"Ringing": "Proceeding", "CallConnected": "Answered", "OnHold": "Hold",
          "ParkedCall": "Parked", "NoCall": "Disconnected"}
SERVER_ID = "10.13.22.28.TAM"


# -- devices ------------------------------------------------------------------------------
def devices_of(ext: Extension) -> list[dict[str, str]]:
    """Each extension's two phones: a desk phone and the RingCentral softphone."""
    return [
        {"id": f"80{ext.id}1", "type": "HardPhone", "name": f"{ext.name}'s desk phone",
         "sku": "HP-56", "model": "Polycom VVX 450"},
        {"id": f"80{ext.id}2", "type": "SoftPhone", "name": f"{ext.name}'s RingCentral app",
         "sku": "DV-1", "model": "RingCentral Phone"},
    ]


def device_owned(ext: Extension, device_id: str) -> bool:
    return any(device["id"] == device_id for device in devices_of(ext))


# -- party views --------------------------------------------------------------------------
def party_code(leg: Leg) -> str:
    return leg.party_code or _CODES.get(leg.status, "Disconnected")


def _status(leg: Leg) -> dict[str, Any]:
    status: dict[str, Any] = {"code": party_code(leg), "rcc": False}
    if leg.party_reason:
        status["reason"] = leg.party_reason
    if leg.peer:
        status["peerId"] = dict(leg.peer)
    if leg.park_id and status["code"] == "Parked":
        status["parkData"] = leg.park_id
    return status


def _end(state: SandboxState, number: str, name: str | None, ext: Extension | None,
         ) -> dict[str, Any]:
    found = ext or state.extension_by_number(number) or state.extension_by_phone(number)
    end: dict[str, Any] = {"phoneNumber": number}
    if name:
        end["name"] = name
    if found is not None:
        end["extensionId"] = found.id
    return end


# A party that ends unanswered for one of these reasons was handled, not missed.
_HANDLED = {"AgentAnswered", "CallRedirected", "CallReplied", "BlindTransfer",
            "AttendedTransfer", "Pickup", "Rejected"}


def _missed(call: Call, leg: Leg) -> bool:
    return (leg.direction == "Inbound" and leg.connected_at is None
            and party_code(leg) == "Disconnected" and leg.party_reason not in _HANDLED)


def _recordings(call: Call) -> list[dict[str, Any]]:
    return [{"id": rec["id"], "active": rec["active"]} for rec in call.recordings]


def party_event(state: SandboxState, call: Call, leg: Leg) -> dict[str, Any]:
    """The party as ``TelephonySessionsEventPartyInfo``."""
    own = leg.extension
    party = {
        "accountId": state.account_id,
        "extensionId": own.id,
        "id": leg.party_id,
        "direction": leg.direction,
        "to": _end(state, leg.to_number, leg.to_name, own if leg.direction == "Inbound" else None),
        "from": _end(state, leg.from_number, leg.from_name,
                     own if leg.direction == "Outbound" else None),
        "status": _status(leg),
        "park": {"id": leg.park_id} if leg.park_id else {},
        "missedCall": _missed(call, leg),
        "standAlone": False,
        "muted": False,
    }
    if leg.queue_call:
        party["queueCall"] = True
    if call.recordings:
        party["recordings"] = _recordings(call)
    return party


def party_resource(state: SandboxState, call: Call, leg: Leg) -> dict[str, Any]:
    """The party as the Call Control API returns it (``CallParty``)."""
    body = party_event(state, call, leg)
    for key in ("missedCall", "queueCall"):
        body.pop(key, None)
    body["owner"] = {"accountId": state.account_id, "extensionId": leg.extension.id}
    if leg.device_id:
        side = "to" if leg.direction == "Inbound" else "from"
        body[side]["deviceId"] = leg.device_id
    return body


def session_resource(state: SandboxState, call: Call) -> dict[str, Any]:
    """``CallSessionObject``: the session and every party it has had."""
    return {
        "id": call.telephony_session_id,
        "origin": {"type": call.origin},
        "creationTime": iso(call.start),
        "parties": [party_resource(state, call, leg) for leg in call.legs],
    }


# -- notifications -------------------------------------------------------------------------
def session_body(state: SandboxState, call: Call, legs: list[Leg]) -> dict[str, Any]:
    call.session_sequence += 1
    return {
        "sequence": call.session_sequence,
        "sessionId": call.session_id,
        "telephonySessionId": call.telephony_session_id,
        "serverId": SERVER_ID,
        "eventTime": iso(now()),
        "origin": {"type": call.origin},
        "parties": [party_event(state, call, leg) for leg in legs],
    }


def voicemail_publish(state: SandboxState, call: Call, leg: Leg, reason: str | None = None,
                      ) -> None:
    """The call reached ``leg``'s voicemail: the party says VoiceMail (presence has no
    such state; the leg keeps ringing there until the call ends)."""
    leg.to_voicemail = True
    leg.party_code, leg.party_reason = "VoiceMail", reason
    session_publish(state, call, [leg])
    leg.party_code = None


def session_publish(state: SandboxState, call: Call, legs: list[Leg], *,
                    force: bool = False) -> None:
    """Notify the change of ``legs`` (one event per party whose status changed).

    A transitional NoCall (several devices ringing) is not a change of the party: the
    platform's session stays in Proceeding, so nothing is sent for it."""
    from crm_cti.sandbox.subscriptions import session_dispatch

    for leg in legs:
        if leg.status == "NoCall" and leg.termination == "intermediate":
            continue
        code = party_code(leg)
        if not leg.party_setup:
            leg.party_setup = True
            if code in ("Proceeding", "Answered"):
                # Every party is first announced in Setup, as the platform does.
                saved = leg.party_code
                leg.party_code = "Setup"
                session_dispatch(state, call, leg, session_body(state, call, [leg]))
                leg.party_code = saved
        sent = (code, leg.party_reason)
        if sent == leg.party_sent and not force:
            continue
        leg.party_sent = sent
        session_dispatch(state, call, leg, session_body(state, call, [leg]))
