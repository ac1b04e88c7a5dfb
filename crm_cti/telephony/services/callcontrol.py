"""Call Control from the card: one service per button, each acting on the agent's party of
a call through the RingCentral client (``telephony/sessions/{id}/parties/{partyId}/...``).

Who may press: an agent on a party of their own extension's call, an admin on any call —
the watch rule of ``accounts.access`` (``watch_target`` asked for the call's agent), so the
API answers "no such call" to an agent pressing on a colleague's call exactly as it would
for a call that does not exist. The actor's own token must carry ``CallControl``.

Which party: the one the tracker stored from telephony-session events (``Call.party_id``),
so a press is one Light request. Without it (an app with presence only, or no session event
yet) the party is found through the platform: ``GET telephony/sessions/{id}`` and the party
whose ``extensionId`` is the call's extension (``_party``), two Light requests. Buttons that
need the party's live facts (recording start/pause: its recordings; warm transfer: its phone
and whether it is on hold) always ask. Every request spends the shared budget like any
other, and a press the budget cannot take now is answered "try again in N s"
(``RateLimited(sent=False)``, turned into a 429 by ``accounts.refusals``), never queued.

Nothing here changes the ``Call`` row: the card follows the platform's events (presence and
telephony sessions), so it shows a change only once RingCentral confirms it.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from crm_cti.accounts.access import SIGN_IN, WatchRefused, agent_for, watch_target
from crm_cti.accounts.models import Agent
from crm_cti.accounts.permissions import CALL_CONTROL, agent_has_permission
from crm_cti.accounts.refusals import SESSION_ENDED
from crm_cti.crm.phones import InvalidPhoneNumber, is_extension_number, normalize_e164
from crm_cti.ringcentral.errors import NotFound
from crm_cti.telephony.models import Call

logger = logging.getLogger(__name__)

# The texts a ringing call can be answered with (RingCentral plays them to the caller).
REPLY_TEXTS = (
    "I'll call you back in 5 minutes.",
    "I'll call you back in 15 minutes.",
    "I'm on another call, please hold on.",
    "Please send me a text message.",
)
# Parties that left the call: there is nothing to act on any more.
GONE_CODES = frozenset({"Gone", "Disconnected"})
NO_SUCH_CALL = "No such call."


class CallControlRefused(Exception):
    """We refuse before asking RingCentral: ``status`` for the API, ``message`` for people,
    ``field`` when one input is wrong."""

    def __init__(self, status: int, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Control:
    """A call an actor may control, and the RingCentral client that acts as the actor."""

    call: Call
    actor: Agent
    client: Any

    def party(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """(session, the call's own live party) as the platform has them now."""
        return _party(self.client, self.call)

    def party_id(self) -> str:
        """The call's own party: as telephony-session events stored it, else looked up. A
        stored party the events say is gone (the call came back to this extension as a
        new party) is looked up too."""
        if self.call.party_id and self.call.party_status not in GONE_CODES:
            return self.call.party_id
        return str(self.party()[1]["id"])


def callcontrol_allowed(agent: Agent | None) -> bool:
    """Whether ``agent`` may be offered call-control buttons: their token has CallControl."""
    return agent is not None and not agent.needs_signin and agent_has_permission(
        agent, CALL_CONTROL)


def _actor(user: Any) -> Agent:
    actor = agent_for(user)
    if actor is None:
        raise CallControlRefused(403, "Only agents signed in with RingCentral can control calls.")
    if actor.needs_signin:
        raise CallControlRefused(401, SESSION_ENDED)
    if not callcontrol_allowed(actor):
        raise CallControlRefused(
            403,
            "This app was not granted the CallControl permission in RingCentral: calls can be "
            "watched but not controlled from crm_cti.",
        )
    return actor


def _client(actor: Agent) -> Any:
    from crm_cti.accounts.services import client_for_agent

    return client_for_agent(actor)


def call_control_for(*, user: Any, call_id: int) -> Control:
    """The call ``user`` wants to press a button on, checked: it exists, it is theirs (or
    they are an admin) and it is live; raises ``CallControlRefused`` otherwise."""
    call = Call.objects.filter(pk=call_id).first()
    if call is None or call.agent_id is None:
        raise CallControlRefused(404, NO_SUCH_CALL)
    try:
        watch_target(user=user, requested=str(call.agent_id))
    except WatchRefused as refused:
        if refused.reason == SIGN_IN:
            raise CallControlRefused(401, SESSION_ENDED) from None
        # The same answer as for a call that does not exist: nothing leaks about others.
        raise CallControlRefused(404, NO_SUCH_CALL) from None
    actor = _actor(user)
    if call.state not in Call.LIVE_STATES:
        raise CallControlRefused(409, "The call has already ended.")
    if not call.telephony_session_id:
        raise CallControlRefused(
            409, "RingCentral gave no telephony session for this call: it cannot be controlled.")
    return Control(call=call, actor=actor, client=_client(actor))


def _party(client: Any, call: Call) -> tuple[dict[str, Any], dict[str, Any]]:
    session = client.get_call_session(call.telephony_session_id)
    return session, _own_party(session, call.rc_extension_id, ended="The call has already ended.")


def _own_party(session: dict[str, Any], extension_id: str, *, ended: str) -> dict[str, Any]:
    """The extension's party still on the call (the newest one: a call transferred back has
    an older, gone party of the same extension)."""
    mine = [p for p in session.get("parties") or []
            if str(p.get("extensionId") or "") == str(extension_id)]
    live = [p for p in mine if (p.get("status") or {}).get("code") not in GONE_CODES]
    if not live:
        raise CallControlRefused(409, ended)
    return live[-1]


def target_body(raw: Any, *, field: str = "to") -> dict[str, str]:
    """A colleague's extension number or a phone number, as a transfer/forward body."""
    text = str(raw or "").strip()
    if not text:
        raise CallControlRefused(400, "Enter a colleague's extension or a phone number.",
                                 field=field)
    if is_extension_number(text):
        return {"extensionNumber": text}
    try:
        return {"phoneNumber": normalize_e164(text)}
    except InvalidPhoneNumber as exc:
        raise CallControlRefused(400, str(exc), field=field) from None


def _status(party: dict[str, Any]) -> str:
    return str((party.get("status") or {}).get("code") or "")


def _act(control: Control, action: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    party_id = control.party_id()
    logger.info("call control: %s %s on call %s", control.actor, action, control.call.pk)
    return control.client.call_party_action(
        control.call.telephony_session_id, party_id, action, body)


# -- while ringing -----------------------------------------------------------------------


def call_answer(*, control: Control, device_id: str) -> dict[str, Any]:
    """Answer on one of the actor's devices (``devices_list``)."""
    device_id = str(device_id or "").strip()
    if not device_id:
        raise CallControlRefused(400, "Choose the phone to answer on.", field="device_id")
    return _act(control, "answer", {"deviceId": device_id})


def call_to_voicemail(*, control: Control) -> dict[str, Any]:
    """Send the ringing call to the agent's voicemail (``reject``)."""
    return _act(control, "reject")


def call_forward(*, control: Control, to: str) -> dict[str, Any]:
    """Forward the ringing call to a colleague or a number."""
    return _act(control, "forward", target_body(to))


def call_reply(*, control: Control, text: str) -> dict[str, Any]:
    """Answer the caller with one of ``REPLY_TEXTS`` instead of picking up."""
    if text not in REPLY_TEXTS:
        raise CallControlRefused(400, "Choose one of the replies offered.", field="text")
    return _act(control, "reply", {"replyWithText": text})


# -- while connected ---------------------------------------------------------------------


def call_hold(*, control: Control) -> dict[str, Any]:
    return _act(control, "hold")


def call_unhold(*, control: Control) -> dict[str, Any]:
    return _act(control, "unhold")


def call_transfer(*, control: Control, to: str) -> dict[str, Any]:
    """Blind transfer to a colleague (extension number) or a phone number."""
    return _act(control, "transfer", target_body(to))


def call_park(*, control: Control) -> dict[str, Any]:
    """Park the call; the answer's ``park.id`` is the orbit a colleague picks it up from."""
    return _act(control, "park")


def call_hang_up(*, control: Control) -> None:
    """The agent leaves the call (DELETE of their party): a two-party call ends."""
    control.client.drop_call_party(control.call.telephony_session_id, control.party_id())


def call_record(*, control: Control, active: bool) -> dict[str, Any]:
    """Start recording, or pause / resume the recording the call already has."""
    _, party = control.party()
    session_id = control.call.telephony_session_id
    recordings = party.get("recordings") or []
    if not recordings:
        if not active:
            raise CallControlRefused(409, "The call is not being recorded.")
        return control.client.call_party_action(session_id, str(party["id"]), "recordings")
    recording = recordings[-1]
    return control.client.set_call_recording(session_id, str(party["id"]), str(recording["id"]),
                                             active=active)


# -- warm transfer -----------------------------------------------------------------------


def _device_of(party: dict[str, Any]) -> str:
    for side in ("to", "from"):
        device = (party.get(side) or {}).get("deviceId")
        if device:
            return str(device)
    return ""


def call_consult(*, control: Control, to: str, device_id: str = "") -> dict[str, Any]:
    """Warm transfer, step one: hold the customer and call the colleague (call-out) from the
    phone the agent talks on. Returns ``{"consult_session_id", "party_id"}`` for complete or
    cancel."""
    body = target_body(to)
    _, party = control.party()
    device = str(device_id or "").strip() or _device_of(party)
    if not device:
        # The platform did not say which phone the agent talks on (answered on a phone
        # crm_cti did not pick): the first of their phones calls the colleague.
        phones = control.client.list_devices().get("records") or []
        device = str(phones[0].get("id") or "") if phones else ""
    if not device:
        raise CallControlRefused(400, "Choose the phone to call your colleague from.",
                                 field="device_id")
    if _status(party) != "Hold":
        control.client.call_party_action(control.call.telephony_session_id, str(party["id"]),
                                         "hold")
    created = control.client.call_out(
        device_id=device, to_number=body.get("phoneNumber"),
        to_extension_number=body.get("extensionNumber"))
    consult = created.get("session") or {}
    # Just created, the parties have no status yet (the phone goes off-hook next): any
    # party of the actor's extension is theirs.
    mine = [p for p in consult.get("parties") or []
            if str(p.get("extensionId") or "") == control.actor.rc_extension_id]
    if not mine:
        raise CallControlRefused(502, "RingCentral did not start the consultation call.")
    return {"consult_session_id": str(consult.get("id") or ""), "party_id": str(mine[0]["id"])}


def _consult_party(control: Control, consult_session_id: str) -> dict[str, Any]:
    """The actor's party of the consultation: a session id the agent has no party in is
    refused like a call that does not exist."""
    consult_session_id = str(consult_session_id or "").strip()
    if not consult_session_id or consult_session_id == control.call.telephony_session_id:
        raise CallControlRefused(400, "No consultation call to complete.",
                                 field="consult_session_id")
    consult = control.client.get_call_session(consult_session_id)
    return _own_party(consult, control.actor.rc_extension_id,
                      ended="The consultation call has already ended.")


def call_consult_complete(*, control: Control, consult_session_id: str) -> dict[str, Any]:
    """Warm transfer, step two: bridge the customer to the colleague; the agent leaves."""
    mine = _consult_party(control, consult_session_id)
    return _act(control, "bridge",
                {"telephonySessionId": consult_session_id, "partyId": str(mine["id"])})


def call_consult_cancel(*, control: Control, consult_session_id: str) -> dict[str, Any]:
    """Warm transfer called off: end the consultation and take the customer off hold. A
    consultation that already ended (the colleague hung up), or that is not the actor's,
    is left alone: the customer still comes back."""
    try:
        _consult_party(control, consult_session_id)
    except (CallControlRefused, NotFound):
        pass
    else:
        with contextlib.suppress(NotFound):
            control.client.end_call_session(consult_session_id)
    _, party = control.party()
    if _status(party) == "Hold":
        return control.client.call_party_action(
            control.call.telephony_session_id, str(party["id"]), "unhold")
    return party


# -- the agent's phones and colleagues, and "call from my phone" ---------------------------


def devices_list(*, user: Any) -> list[dict[str, str]]:
    """The actor's phones (desk phone, softphone) to answer or call out on."""
    actor = _actor(user)
    records = _client(actor).list_devices().get("records") or []
    return [
        {"id": str(r.get("id") or ""), "name": str(r.get("name") or r.get("type") or ""),
         "type": str(r.get("type") or ""), "status": str(r.get("status") or "")}
        for r in records if r.get("id")
    ]


def colleagues_list(*, user: Any) -> list[dict[str, Any]]:
    """The other agents to transfer or forward to, with whether they are on a call now."""
    actor = _actor(user)
    busy: dict[int, str] = {}
    for agent_id, state in Call.objects.filter(state__in=Call.LIVE_STATES).exclude(
            agent=None).values_list("agent_id", "state"):
        # On a call beats ringing: a colleague talking cannot take another call at once.
        if busy.get(agent_id) != Call.State.CONNECTED:
            busy[agent_id] = state
    label = {Call.State.RINGING: "Ringing", Call.State.CONNECTED: "On a call",
             Call.State.ON_HOLD: "On a call"}
    return [
        {"id": a.pk, "name": a.name, "extension_number": a.extension_number,
         "state": label.get(busy.get(a.pk, ""), "Available")}
        for a in Agent.objects.filter(user__is_active=True).exclude(pk=actor.pk).exclude(
            extension_number="")
    ]


def call_out(*, user: Any, to: str, device_id: str) -> dict[str, Any]:
    """Call ``to`` from one of the actor's phones (``telephony/call-out``): the phone rings
    first and connects to ``to`` when answered."""
    actor = _actor(user)
    device_id = str(device_id or "").strip()
    if not device_id:
        raise CallControlRefused(400, "Choose the phone to call from.", field="device_id")
    body = target_body(to)
    created = _client(actor).call_out(
        device_id=device_id, to_number=body.get("phoneNumber"),
        to_extension_number=body.get("extensionNumber"))
    session = created.get("session") or {}
    return {"telephony_session_id": str(session.get("id") or "")}
