"""The one shape every kind of notification is parsed into, and the error for one that
cannot be: what the webhook checks and stores, and what the tracker applies."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


class InvalidEvent(ValueError):
    """The payload lacks what the tracker needs (the webhook answers 400; a stored one is
    marked failed)."""


@dataclass(frozen=True)
class Leg:
    """One party of a call as a notification reports it (a device ringing, a RingOut leg)."""

    session_id: str
    status: str
    # Call.Direction's values: "inbound" or "outbound".
    direction: str
    leg_id: str = ""
    telephony_session_id: str = ""
    from_number: str = ""
    from_name: str = ""
    to_number: str = ""
    to_name: str = ""
    start_time: datetime | None = None
    termination_type: str = ""
    # Telephony sessions only (presence leaves them blank): the extension whose party this
    # is (a session event speaks for several), the party's own status code and reason, the
    # party that took its place (``peerId``), the park orbit, whether it went to voicemail.
    extension_id: str = ""
    party_status: str = ""
    party_reason: str = ""
    peer_party_id: str = ""
    park_orbit: str = ""
    queue_call: bool = False


@dataclass(frozen=True)
class ParsedEvent:
    """A notification about the calls of one extension, whichever kind it came as.

    ``extension_id`` is what orders them (``sequence`` counts per it): the extension for
    presence, the telephony session's key (``telephony_sessions.session_order_key``) for a
    telephony-session event, whose parties each name their own extension;
    ``sequence`` orders an extension's notifications; ``legs`` lists every call of the
    extension the notification knows (``status`` one of ``TELEPHONY_STATUSES``)."""

    uuid: str
    subscription_id: str
    extension_id: str
    sequence: int
    timestamp: datetime | None
    telephony_status: str
    legs: tuple[Leg, ...] = field(default_factory=tuple)
    kind: str = "presence"


# The statuses a leg can be in (presence's names; other kinds map theirs onto these).
TELEPHONY_STATUSES = ("NoCall", "CallConnected", "Ringing", "OnHold", "ParkedCall")
# The platform's direction names → Call.Direction's values.
DIRECTIONS = {"Inbound": "inbound", "Outbound": "outbound"}
