"""The call object every client sees: websocket messages, /api/calls/live/, the pages.

Schema (README "How a call becomes a pop"): ``id``, ``session_id``, ``agent_id``,
``direction`` (``inbound``/``outbound``), ``state`` (``ringing``, ``connected``, ``on_hold``,
``parked``,
``ended``, ``missed``, ``voicemail``), ``from_number``, ``from_name``, ``to_number``,
``to_name``, ``contact`` (null or ``id``, ``name``, ``company``, ``url``, ``others``),
``started_at``, ``answered_at``, ``ended_at`` (ISO 8601 or null), ``duration`` (seconds or
null while live), ``result`` (the call log's, "" until known), ``recording`` (null or
``url``, ``duration``), ``notes``, ``disposition`` (null or the id of a crm.Disposition),
``match`` (why this contact: ``rule``, the stored ``number`` and its ``label``, ``company``
of a company line, ``candidates`` when several contacts share the number; see
crm.matching).

From telephony sessions (blank or null on presence alone): ``telephony_session_id``,
``party_id`` (what Call Control acts on), ``party_status`` and ``party_reason`` (the
platform's), ``hold_started_at`` (while on hold: the card's hold timer), ``park_orbit``
(while parked), ``peer_name`` (who took over), ``outcome`` (``call_outcome``),
``outcome_text`` (``call_outcome_text``) and
``transferred_from`` (null or the first agent's ``agent_name``, ``notes``, ``disposition``
id and ``disposition_label``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.urls import reverse

from crm_cti.telephony.models import Call


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# status.reason of the party's end → what the card says happened.
_OUTCOME_OF_REASON = {
    "AgentAnswered": "answered_elsewhere",
    "BlindTransfer": "transferred",
    "AttendedTransfer": "transferred",
    "Pickup": "picked_up",
    "CallRedirected": "forwarded",
    "CallReplied": "replied",
}


def call_outcome(call: Call) -> str:
    """What the card says beside the state: ``parked``, ``on_hold`` while live; when over,
    ``voicemail``, ``answered_elsewhere``, ``transferred``, ``picked_up``, ``forwarded``,
    ``replied``, ``missed``, ``ended``; else ""."""
    if call.is_live:
        if call.state == Call.State.PARKED:
            return "parked"
        return "on_hold" if call.state == Call.State.ON_HOLD else ""
    if call.state == Call.State.VOICEMAIL:
        return "voicemail"
    handed = _OUTCOME_OF_REASON.get(call.party_reason)
    if handed and not (handed == "answered_elsewhere" and call.answered_at is not None):
        return handed
    return call.state


def call_outcome_text(call: Call) -> str:
    """What the card and the history row say of a session's outcome ("Answered by Priya
    Shah", "Parked at *801"); "" when the state says it all."""
    outcome = call_outcome(call)
    peer = call.peer_name
    texts = {
        "on_hold": "On hold",
        "parked": f"Parked at {call.park_orbit}" if call.park_orbit else "Parked",
        "voicemail": "Went to voicemail",
        "answered_elsewhere": f"Answered by {peer}" if peer else "Answered elsewhere",
        "transferred": f"Transferred to {peer}" if peer else "Transferred",
        "picked_up": f"Picked up by {peer}" if peer else "Picked up from park",
        "forwarded": f"Forwarded to {peer}" if peer else "Forwarded",
        "replied": "Replied with a text message",
    }
    return texts.get(outcome, "")


def _transferred_from(call: Call) -> dict[str, Any] | None:
    if call.transferred_from_id is None:
        return None
    first = call.transferred_from
    if first is None:
        return None
    agent = first.agent
    disposition = first.disposition
    return {
        "call_id": first.pk,
        "agent_name": (agent.name if agent is not None else "") or first.to_name,
        "notes": first.notes,
        "disposition": first.disposition_id,
        "disposition_label": disposition.name if disposition is not None else "",
    }


def call_to_dict(call: Call) -> dict[str, Any]:
    contact = None
    if call.contact_id is not None and call.contact is not None:
        contact = {
            "id": call.contact.pk,
            "name": call.contact.full_name,
            "company": call.contact.company,
            "url": call.contact.get_absolute_url(),
            # Other contacts with the same number: the pop offers to pick another one.
            "others": max(call.contact_matches - 1, 0),
        }
    recording = None
    if call.recording:
        recording = {
            "url": reverse("dashboard:call_recording", args=[call.pk]),
            "duration": call.recording.get("duration"),
        }
    return {
        "id": call.pk,
        "session_id": call.session_id,
        "agent_id": call.agent_id,
        "direction": call.direction,
        "state": call.state,
        "from_number": call.from_number,
        "from_name": call.from_name,
        "to_number": call.to_number,
        "to_name": call.to_name,
        "contact": contact,
        "started_at": _iso(call.started_at),
        "answered_at": _iso(call.answered_at),
        "ended_at": _iso(call.ended_at),
        "duration": call.duration,
        "result": call.result,
        "recording": recording,
        "notes": call.notes,
        "disposition": call.disposition_id,
        "match": call.match_info or {},
        "telephony_session_id": call.telephony_session_id,
        "party_id": call.party_id,
        "party_status": call.party_status,
        "party_reason": call.party_reason,
        "hold_started_at": _iso(call.hold_started_at) if call.is_live else None,
        "park_orbit": call.park_orbit if call.state == Call.State.PARKED else "",
        "peer_name": call.peer_name,
        "outcome": call_outcome(call),
        "outcome_text": call_outcome_text(call),
        "transferred_from": _transferred_from(call),
    }
