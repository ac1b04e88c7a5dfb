"""Call-log records (from finished calls and injected history), active-call entries,
filtering and paging as the platform does them, and recordings."""

from __future__ import annotations

import random
import secrets
from datetime import UTC, datetime
from typing import Any

from crm_cti.sandbox.state import Call, Leg, SandboxState, iso, now

RINGOUT_RESULTS = {
    "Success": "Call connected",
    "Busy": "Busy",
    "NoAnswer": "No Answer",
    "Rejected": "Rejected",
    "CannotReach": "Call Failed",
    "Error": "Call Failure",
}
_REASONS = {
    "Accepted": "Accepted",
    "Call connected": "Connected",
    "Missed": "Not Answered",
    "Voicemail": "Not Answered",
    "No Answer": "No Answer",
    "Busy": "Line Busy",
    "Rejected": "Calls Not Accepted",
    "Call Failed": "Wrong Number",
    "Call Failure": "Internal Error",
    "Hang Up": "Hang Up",
}


def _account_path(state: SandboxState) -> str:
    return f"/restapi/v1.0/account/{state.account_id}"


def _ext_path(state: SandboxState, ext_id: str) -> str:
    return f"{_account_path(state)}/extension/{ext_id}"


def _party(state: SandboxState, number: str, name: str | None) -> dict[str, Any]:
    """A call-log party: extensions by short number, others by E.164 phone number."""
    ext = state.extension_by_number(number)
    if ext is not None:
        return {"extensionNumber": ext.number, "extensionId": ext.id, "name": ext.name,
                "phoneNumber": ext.direct_number}
    digits = "".join(ch for ch in number if ch.isdigit())
    party: dict[str, Any] = {"phoneNumber": "+" + digits if digits else number}
    owner = state.extension_by_phone(number) if digits else None
    if owner is None and digits:
        # A call queue's number: the platform names the queue as the called party.
        owner = next((q for q in state.call_queues.values()
                      if q.direct_number == "+" + digits), None)
    if owner is not None:
        party.update({"extensionNumber": owner.number, "extensionId": owner.id,
                      "name": owner.name})
    elif name:
        party["name"] = name
    if digits.startswith("1650"):
        party["location"] = "Palo Alto, CA"
    return party


def _base_record(state: SandboxState, call: Call, leg: Leg, *, end: float | None) -> dict:
    speed = float(state.config["speed"])
    stop = end if end is not None else now()
    nominal = max(0.0, (stop - call.start) * speed)
    record: dict[str, Any] = {
        "uri": f"{_ext_path(state, leg.extension.id)}/call-log/{leg.record_id}",
        "id": leg.record_id,
        "sessionId": call.session_id,
        "telephonySessionId": call.telephony_session_id,
        "partyId": leg.party_id,
        "startTime": iso(call.start),
        "duration": round(nominal),
        "durationMs": round(nominal * 1000),
        "type": "Voice",
        "internalType": "RingOut" if call.ringout_id else "Usual",
        "direction": leg.direction,
        "action": leg.action,
        "result": leg.result,
        "to": _party(state, leg.to_number, leg.to_name),
        "from": _party(state, leg.from_number, leg.from_name),
        "extension": {"id": int(leg.extension.id),
                      "uri": _ext_path(state, leg.extension.id)},
        "transport": "PSTN",
    }
    if leg.result in _REASONS:
        record["reason"] = _REASONS[leg.result]
    return record


def _legs(record: dict[str, Any], leg: Leg, call: Call, state: SandboxState) -> list[dict]:
    main = {key: value for key, value in record.items()
            if key not in ("uri", "id", "sessionId", "telephonySessionId", "_legs",
                           "lastModifiedTime", "recording")}
    main.update({"legType": leg.leg_type, "master": True})
    legs = [main]
    if call.ringout_id:
        ringout_callee = dict(main)
        ringout_callee.update({"legType": "RingOutWebToSubscriber", "master": False,
                               "from": record["to"], "to": record["to"]})
        legs.append(ringout_callee)
    if leg.park_id:
        parked = dict(main)
        parked.update({"legType": "CallPark", "action": "Call Park", "master": False})
        legs.append(parked)
    hand_over = _HAND_OVERS.get(leg.party_reason or "") if leg.peer else None
    peer = next((other for other in call.legs
                 if leg.peer and other.party_id == leg.peer["partyId"]), None)
    if hand_over and peer is not None:
        # Where the call went from this extension: a transfer or a pickup, to whom.
        onward = dict(main)
        onward.update({"legType": hand_over[0], "action": hand_over[1], "master": False,
                       "to": _party(state, peer.extension.number, peer.extension.name),
                       "extension": {"id": int(peer.extension.id),
                                     "uri": _ext_path(state, peer.extension.id)}})
        legs.append(onward)
    return legs


# Call Control hand-overs as call-log legs: party status reason -> (legType, action).
_HAND_OVERS = {"BlindTransfer": ("TransferCall", "Transfer"),
               "AttendedTransfer": ("TransferCall", "Transfer"),
               "Pickup": ("Pickup", "Pickup")}


def records_write(state: SandboxState, call: Call) -> None:
    """The finished call's records enter the call log (one per extension on the call)."""
    for leg in call.legs:
        record = _base_record(state, call, leg, end=call.ended_at)
        record["lastModifiedTime"] = iso(now())
        if call.recording_id:
            record["recording"] = recording_ref(state, call.recording_id)
        if leg.voicemail_id is not None:
            # The voicemail the caller left (the message store's record).
            record["message"] = {"id": str(leg.voicemail_id), "type": "VoiceMail",
                                 "uri": f"{_ext_path(state, leg.extension.id)}/message-store/"
                                        f"{leg.voicemail_id}"}
        record["_legs"] = _legs(record, leg, call, state)
        record["_ts"] = call.start
        record["_ext"] = leg.extension.id
        state.call_log.append(record)
        state.call_log_by_id[record["id"]] = record


def active_record(state: SandboxState, call: Call, leg: Leg,
                  seen_at: float | None = None) -> dict[str, Any]:
    """The call as active calls show it at ``seen_at`` (they lag behind the events)."""
    ended = call.ended_at is not None and (seen_at is None or call.ended_at <= seen_at)
    record = _base_record(state, call, leg, end=call.ended_at if ended else seen_at)
    if not ended:
        record["result"] = "In Progress"
        record.pop("reason", None)
    return record


def recording_ref(state: SandboxState, recording_id: str) -> dict[str, Any]:
    path = f"{_account_path(state)}/recording/{recording_id}"
    return {"id": recording_id, "uri": path, "type": "Automatic",
            "contentUri": path + "/content"}


def recording_create(state: SandboxState, call: Call) -> str:
    recording_id = str(secrets.randbelow(9 * 10**11) + 10**11)
    state.recordings[recording_id] = {
        "id": recording_id,
        "duration": round(call.talk_seconds),
        "extensions": sorted({leg.extension.id for leg in call.legs}),
        "sessionId": call.session_id,
    }
    return recording_id


def absolutize(value: Any, base: str) -> Any:
    """Turn stored paths (``uri``, ``contentUri``) into absolute URLs; drop private keys."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key.startswith("_"):
                continue
            if key in ("uri", "contentUri") and isinstance(item, str) and item.startswith("/"):
                out[key] = base + item
            else:
                out[key] = absolutize(item, base)
        return out
    if isinstance(value, list):
        return [absolutize(item, base) for item in value]
    return value


def render(record: dict[str, Any], base: str, *, detailed: bool) -> dict[str, Any]:
    out = absolutize(record, base)
    if detailed and "_legs" in record:
        out["legs"] = absolutize(record["_legs"], base)
    return out


# -- history ------------------------------------------------------------------------------
NAMES = ["Phillip Marco", "Tony Black", "Rose White", "Steve Jones", "Irene Fox",
          "Grace Liu", "Omar Haddad", "Nina Petrova", "Carlos Mendes", "Aisha Bello"]


def history_generate(state: SandboxState, *, ext_id: str, count: int, days: float = 6.0,
                     numbers: list[str] | None = None, seed: int | None = None) -> list[dict]:
    """Inject ``count`` realistic past calls for one extension (some with recordings)."""
    rng = random.Random(seed)
    ext = state.extensions[ext_id]
    pool = numbers or [f"+1{rng.choice(['650', '415', '408', '212'])}555{rng.randint(0, 9999):04d}"
                       for _ in range(max(3, count // 3))]
    at = now()
    created = []
    for _ in range(count):
        start = at - rng.uniform(600, days * 86400)
        other = rng.choice(pool)
        other_name = rng.choice(NAMES) if rng.random() < 0.6 else None
        inbound = rng.random() < 0.6
        if inbound:
            result = rng.choices(["Accepted", "Missed", "Voicemail"], [60, 25, 15])[0]
        else:
            result = rng.choices(["Call connected", "No Answer", "Busy"], [70, 20, 10])[0]
        talk = rng.randint(5, 600) if result in ("Accepted", "Call connected") else 0
        ring = rng.randint(3, 25)
        session_id = state.next_session_id()
        leg = Leg(ext, "Inbound" if inbound else "Outbound",
                  other if inbound else ext.direct_number,
                  other_name if inbound else ext.name,
                  ext.direct_number if inbound else other,
                  ext.name if inbound else other_name,
                  action="Phone Call" if inbound else "VoIP Call", result=result)
        call = Call(session_id=session_id, telephony_session_id=f"s-{secrets.token_hex(16)}",
                    scenario="history", start=start, legs=[leg], talk_seconds=float(talk))
        speed = float(state.config["speed"])
        end = start + (ring + talk) / speed
        call.ended_at = end
        if talk > 30 and rng.random() < 0.6:
            call.recording_id = recording_create(state, call)
        record = _base_record(state, call, leg, end=end)
        record["lastModifiedTime"] = iso(end + 30)
        if call.recording_id:
            record["recording"] = recording_ref(state, call.recording_id)
        if leg.voicemail_id is not None:
            # The voicemail the caller left (the message store's record).
            record["message"] = {"id": str(leg.voicemail_id), "type": "VoiceMail",
                                 "uri": f"{_ext_path(state, leg.extension.id)}/message-store/"
                                        f"{leg.voicemail_id}"}
        record["_legs"] = _legs(record, leg, call, state)
        record["_ts"] = start
        record["_ext"] = ext.id
        state.call_log.append(record)
        state.call_log_by_id[record["id"]] = record
        created.append({"id": record["id"], "sessionId": session_id,
                        "startTime": record["startTime"], "result": result,
                        "recordingId": call.recording_id})
    return created


def parse_datetime(raw: str) -> float:
    """ISO 8601 (date or date-time, ``Z`` or offset) to epoch seconds; ValueError if bad."""
    text = raw.strip().replace(" ", "+")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.timestamp()
    except (OverflowError, OSError):  # year 1 with a positive offset is before datetime.min
        raise ValueError(raw) from None


# The spec (CallLogDateFrom): "The default value is `dateTo` minus 24 hours".
DEFAULT_WINDOW_SECONDS = 24 * 3600


def default_date_from(date_to: float) -> float:
    return date_to - DEFAULT_WINDOW_SECONDS

