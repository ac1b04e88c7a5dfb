"""Telephony-session notifications (``TelephonySessionsEventBody``, needs ``CallControl``):
one call (a telephony session) and the parties whose status changed, each with its own
extension, status code and reason.

Two things make them unlike presence. Their ``sequence`` counts per session, not per
extension, so they are ordered by the session (``session_order_key``, stored where a
presence event keeps its extension id). And one event can speak for several extensions:
every party with an ``extensionId`` is a leg of that extension's call; parties outside the
account (no ``extensionId``) are the far end and carry no call of ours.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from crm_cti.telephony.notifications.fields import (
    display_of,
    envelope_of,
    identifier_of,
    text_of,
)
from crm_cti.telephony.notifications.shape import DIRECTIONS, InvalidEvent, Leg, ParsedEvent

KIND = "telephony-sessions"
# `/account/~/telephony/sessions` (account) and `/account/~/extension/<id>/telephony/sessions`.
SESSIONS_PATH = re.compile(
    r"^/restapi/v1\.0/account/[^/?]+(?:/extension/([^/?]+))?/telephony/sessions(?:\?.*)?$"
)
# The party's status code → the presence status the tracker's state machine speaks.
# VoiceMail ends the call for the agent (the caller is leaving a message); Gone is a party
# that left a call going on (transferred, picked up from park).
STATUS_OF_CODE = {
    "Setup": "Ringing",
    "Proceeding": "Ringing",
    "Answered": "CallConnected",
    "Hold": "OnHold",
    "Parked": "ParkedCall",
    "VoiceMail": "NoCall",
    "VoiceMailScreening": "NoCall",
    "Gone": "NoCall",
    "Disconnected": "NoCall",
    "FaxReceive": "CallConnected",
    "Tds": "Ringing",
}
# The key column (TelephonyEvent.rc_extension_id, ExtensionState) is 32 characters; a
# telephony session id is 34 ("s-" and 32 hex digits), so the key is a digest of it.
ORDER_KEY_PREFIX = "ts:"
_ORDER_KEY_LENGTH = 32


def session_order_key(telephony_session_id: str) -> str:
    """The ordering key of a session's events (``sequence`` counts per session)."""
    digest = hashlib.sha256(telephony_session_id.encode()).hexdigest()
    return ORDER_KEY_PREFIX + digest[: _ORDER_KEY_LENGTH - len(ORDER_KEY_PREFIX)]


def sessions_path_extension(path: Any) -> str | None:
    """The extension an extension-level sessions ``event`` path names; "" for the account
    path; None when the path is not a telephony-sessions one."""
    match = SESSIONS_PATH.match(path) if isinstance(path, str) else None
    if match is None:
        return None
    return match.group(1) or ""


def telephony_sessions_parse(payload: dict[str, Any]) -> ParsedEvent:
    """Validate a telephony-session notification and pull out what the tracker uses; raise
    InvalidEvent."""
    uuid, timestamp, body = envelope_of(payload)
    telephony_session_id = identifier_of(
        body.get("telephonySessionId"), "body.telephonySessionId", 64, integer_ok=False
    )
    session_id = identifier_of(body.get("sessionId"), "body.sessionId", 64)
    sequence = body.get("sequence")
    if isinstance(sequence, bool) or not isinstance(sequence, int):
        raise InvalidEvent("body.sequence is missing or not an integer")
    if not 0 <= sequence < 2**63:
        raise InvalidEvent("body.sequence is out of range")
    parties = body.get("parties")
    if not isinstance(parties, list) or not parties:
        raise InvalidEvent("body.parties is missing or empty")
    # An extension-level event speaks for its own extension's parties only.
    only = sessions_path_extension(payload.get("event"))
    only = only if only and only != "~" else None
    legs = []
    for index, party in enumerate(parties):
        leg = _leg(party, index, session_id, telephony_session_id)
        if leg is not None and (only is None or leg.extension_id == only):
            legs.append(leg)
    return ParsedEvent(
        uuid=uuid,
        subscription_id=text_of(payload.get("subscriptionId")),
        extension_id=session_order_key(telephony_session_id),
        sequence=sequence,
        timestamp=timestamp,
        telephony_status="",
        legs=tuple(legs),
        kind=KIND,
    )


def _end(value: Any, index: int, side: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidEvent(f"parties[{index}].{side} is not an object")
    return value


def _leg(party: Any, index: int, session_id: str, telephony_session_id: str) -> Leg | None:
    if not isinstance(party, dict):
        raise InvalidEvent(f"parties[{index}] is not an object")
    status = party.get("status")
    if not isinstance(status, dict):
        raise InvalidEvent(f"parties[{index}].status is missing")
    code = text_of(status.get("code"))
    if code not in STATUS_OF_CODE:
        raise InvalidEvent(f"parties[{index}] has no valid status.code")
    direction = text_of(party.get("direction"))
    if direction not in DIRECTIONS:
        raise InvalidEvent(f"parties[{index}] has no valid direction")
    party_id = identifier_of(party.get("id"), f"parties[{index}].id", 64)
    from_end, to_end = _end(party.get("from"), index, "from"), _end(party.get("to"), index, "to")
    extension = party.get("extensionId")
    if extension is None or extension == "":
        return None  # the far end: not a call of one of our extensions
    extension_id = identifier_of(extension, f"parties[{index}].extensionId", 32)
    peer = status.get("peerId")
    park = party.get("park")
    orbit = park.get("id") if isinstance(park, dict) else None
    return Leg(
        session_id=session_id,
        status=STATUS_OF_CODE[code],
        direction=DIRECTIONS[direction],
        leg_id=party_id,
        telephony_session_id=telephony_session_id,
        from_number=display_of(from_end.get("phoneNumber"), 40),
        from_name=display_of(from_end.get("name"), 200),
        to_number=display_of(to_end.get("phoneNumber"), 40),
        to_name=display_of(to_end.get("name"), 200),
        # The platform's sessions never send a transitional Disconnected (several devices
        # ringing stay in Proceeding): an end is final.
        termination_type="final" if STATUS_OF_CODE[code] == "NoCall" else "",
        extension_id=extension_id,
        party_status=code,
        party_reason=display_of(status.get("reason"), 32),
        peer_party_id=display_of(peer.get("partyId"), 64) if isinstance(peer, dict) else "",
        park_orbit=display_of(orbit or status.get("parkData"), 32) if code == "Parked" else "",
        queue_call=party.get("queueCall") is True,
    )
