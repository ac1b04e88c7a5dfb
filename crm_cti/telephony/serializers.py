"""The call object every client sees: websocket messages, /api/calls/live/, the pages.

Schema (README "How a call becomes a pop"): ``id``, ``session_id``, ``agent_id``,
``direction`` (``inbound``/``outbound``), ``state`` (``ringing``, ``connected``, ``on_hold``,
``ended``, ``missed``, ``voicemail``), ``from_number``, ``from_name``, ``to_number``,
``to_name``, ``contact`` (null or ``id``, ``name``, ``company``, ``url``, ``others``),
``started_at``, ``answered_at``, ``ended_at`` (ISO 8601 or null), ``duration`` (seconds or
null while live), ``result`` (the call log's, "" until known), ``recording`` (null or
``url``, ``duration``), ``notes``, ``disposition`` (null or the id of a crm.Disposition),
``match`` (why this contact: ``rule``, the stored ``number`` and its ``label``, ``company``
of a company line, ``candidates`` when several contacts share the number; see
crm.matching).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.urls import reverse

from crm_cti.telephony.models import Call


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


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
    }
