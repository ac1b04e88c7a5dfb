"""The message store: each extension's SMS, pager and voicemail messages as the platform
keeps them, the change counter message-sync reads, and the message events.

Records are kept with paths (``uri``) and private keys (``_ts``, ``_seq``, ``_contents``);
``message_render`` turns them into the platform's JSON. A message between two extensions of
the account is two records, one in each store (Outbound for the sender, Inbound for the
recipient), as on the platform.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs

from crm_cti.sandbox import delivery, mp3
from crm_cti.sandbox.calllog import absolutize
from crm_cti.sandbox.seed import Extension
from crm_cti.sandbox.state import Call, Leg, SandboxState, iso, now
from crm_cti.sandbox.subscriptions import message_targets

# Faults a message event may be given (the call faults' vocabulary, minus out_of_order:
# there is no next event of the same message to reorder it with).
MESSAGE_FAULTS = ("drop", "duplicate", "slow")


def store_path(state: SandboxState, ext_id: str) -> str:
    return f"/restapi/v1.0/account/{state.account_id}/extension/{ext_id}/message-store"


def store_of(state: SandboxState, ext_id: str) -> dict[int, dict[str, Any]]:
    return state.message_store.setdefault(ext_id, {})


def message_find(state: SandboxState, ext_id: str, raw_id: str) -> dict[str, Any] | None:
    if not (raw_id.isascii() and raw_id.isdigit() and len(raw_id) <= 18):
        return None
    return store_of(state, ext_id).get(int(raw_id))


def message_render(record: dict[str, Any], base: str) -> dict[str, Any]:
    return absolutize(record, base)


def digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def _touch(state: SandboxState, record: dict[str, Any]) -> None:
    """A change message-sync reports: the next change number and a new modification time."""
    state.message_changes += 1
    record["_seq"] = state.message_changes
    record["lastModifiedTime"] = iso(now())


def conversation_of(state: SandboxState, parties: list[str]) -> int:
    """One conversation per set of parties (numbers or extension numbers), shared by the
    stores of every extension in it, as the platform's ``conversationId``."""
    key = ("conversation", tuple(sorted(set(parties))))
    found = state.conversations.get(key)
    if found is None:
        found = state.next_message_id()
        state.conversations[key] = found
    return found


def record_create(state: SandboxState, owner: Extension, *, kind: str, direction: str,
                  sender: dict[str, Any], recipients: list[dict[str, Any]], subject: str,
                  conversation: int | None, at: float | None = None) -> dict[str, Any]:
    """A new record in ``owner``'s store (``at``: when it was created, for history)."""
    message_id = state.next_message_id()
    at = now() if at is None else at
    stamp = iso(at)
    record: dict[str, Any] = {
        "uri": f"{store_path(state, owner.id)}/{message_id}",
        "id": message_id,
        "extensionId": owner.id,
        "to": recipients,
        "from": sender,
        "type": kind,
        "creationTime": stamp,
        "readStatus": "Read" if direction == "Outbound" else "Unread",
        "priority": "Normal",
        "attachments": [],
        "direction": direction,
        "availability": "Alive",
        "subject": subject,
        "messageStatus": "Sent" if direction == "Outbound" else "Received",
        "lastModifiedTime": stamp,
        "_ts": at,
        "_contents": {},
    }
    if conversation is not None:
        record["conversationId"] = conversation
        record["conversation"] = {"id": str(conversation)}
    store_of(state, owner.id)[message_id] = record
    _touch(state, record)
    return record


def attachment_add(record: dict[str, Any], *, kind: str, content_type: str, content: Any,
                   **extra: Any) -> dict[str, Any]:
    """An attachment and its content (text, bytes, or seconds of voicemail audio)."""
    index = len(record["attachments"])
    attachment_id = record["id"] if index == 0 else record["id"] * 100 + index
    attachment = {"id": attachment_id, "uri": f"{record['uri']}/content/{attachment_id}",
                  "type": kind, "contentType": content_type, **extra}
    record["attachments"].append(attachment)
    record["_contents"][attachment_id] = (content_type, content)
    return attachment


def content_of(record: dict[str, Any], attachment_id: str) -> tuple[str, bytes] | None:
    """(content type, bytes) of an attachment; None if it does not exist (or was purged)."""
    if not (attachment_id.isascii() and attachment_id.isdigit() and len(attachment_id) < 20):
        return None
    found = record["_contents"].get(int(attachment_id))
    if found is None:
        return None
    content_type, content = found
    if content_type == "audio/mpeg":
        return content_type, mp3.silent_mp3(float(content))
    data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
    return content_type, data


# -- sending and receiving ----------------------------------------------------------------
def _ext_party(ext: Extension, *, phone: bool) -> dict[str, Any]:
    party = {"extensionNumber": ext.number, "name": ext.name}
    if phone:
        party["phoneNumber"] = ext.direct_number
    else:
        party["extensionId"] = ext.id
    return party


def sms_send(state: SandboxState, sender: Extension, *, to_numbers: list[str], text: str,
             files: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """An SMS (or MMS) the user sends: Outbound in their store and, for each recipient whose
    number is an extension of the account, Inbound in the recipient's store."""
    conversation = conversation_of(state, [sender.direct_number, *map(e164, to_numbers)])
    recipients = [{"phoneNumber": number, "messageStatus": "Sent"} for number in to_numbers]
    for item, number in zip(recipients, to_numbers, strict=True):
        colleague = state.extension_by_phone(number)
        if colleague is not None:
            item["name"] = colleague.name
    out = record_create(state, sender, kind="SMS", direction="Outbound",
                  sender={"phoneNumber": sender.direct_number, "name": sender.name},
                  recipients=recipients, subject=text, conversation=conversation)
    out["smsSendingAttemptsCount"] = 1
    out["smsDeliveryTime"] = out["creationTime"]
    text_and_files(out, text, files)
    changes_notify(state, sender, out, new=True)
    for number in to_numbers:
        colleague = state.extension_by_phone(number)
        if colleague is not None:
            received = record_create(
                state, colleague, kind="SMS", direction="Inbound",
                sender={"phoneNumber": sender.direct_number, "name": sender.name},
                recipients=[{"phoneNumber": colleague.direct_number, "name": colleague.name}],
                subject=text, conversation=conversation)
            text_and_files(received, text, files)
            _inbound_notify(state, colleague, received, [])
    return out


def sms_receive(state: SandboxState, ext: Extension, *, from_number: str, text: str,
                name: str | None = None, faults: list[dict[str, Any]] | None = None,
                ) -> dict[str, Any]:
    """A person texts ``ext``'s direct number from any number (the control API, console)."""
    sender: dict[str, Any] = {"phoneNumber": e164(from_number)}
    if name:
        sender["name"] = name
    if digits(from_number).startswith("1650"):
        sender["location"] = "Palo Alto, CA"
    record = record_create(state, ext, kind="SMS", direction="Inbound", sender=sender,
                     recipients=[{"phoneNumber": ext.direct_number, "name": ext.name}],
                     subject=text,
                     conversation=conversation_of(state, [ext.direct_number,
                                                        sender["phoneNumber"]]))
    text_and_files(record, text, None)
    _inbound_notify(state, ext, record, faults or [])
    return record


def pager_send(state: SandboxState, sender: Extension, *, to: list[Extension], text: str,
               ) -> dict[str, Any]:
    """A company pager message: Outbound for the sender, Inbound for every recipient."""
    conversation = conversation_of(state, [f"ext:{e.number}" for e in (sender, *to)])
    out = record_create(state, sender, kind="Pager", direction="Outbound",
                  sender=_ext_party(sender, phone=False),
                  recipients=[_ext_party(e, phone=False) for e in to], subject=text,
                  conversation=conversation)
    out["pgToDepartment"] = False
    text_and_files(out, text, None)
    changes_notify(state, sender, out, new=True)
    for colleague in {e.id: e for e in to}.values():
        if colleague.id == sender.id:
            continue
        received = record_create(state, colleague, kind="Pager", direction="Inbound",
                           sender=_ext_party(sender, phone=False),
                           recipients=[_ext_party(e, phone=False) for e in to], subject=text,
                           conversation=conversation)
        received["pgToDepartment"] = False
        text_and_files(received, text, None)
        changes_notify(state, colleague, received, new=True)
    return out


def e164(number: str) -> str:
    found = digits(number)
    if len(found) == 10:
        found = "1" + found
    return "+" + found if found else number


def text_and_files(record: dict[str, Any], text: str,
                    files: list[dict[str, Any]] | None) -> None:
    attachment_add(record, kind="Text", content_type="text/plain", content=text)
    for file in files or []:
        attachment_add(record, kind="MmsAttachment", content_type=file["contentType"],
                       content=file.get("content", b""), fileName=file["fileName"],
                       size=file["size"])


# -- voicemail ------------------------------------------------------------------------------
def voicemail_leave(state: SandboxState, call: Call, leg: Leg) -> dict[str, Any] | None:
    """The caller of an unanswered call leaves a voicemail on ``leg``'s extension: a
    VoiceMail message (audio, transcription InProgress) whose id the call-log record links
    (``message``); the transcription completes ``transcription_delay`` seconds later."""
    if leg.voicemail_id is not None:
        return None
    ext = leg.extension
    caller_ext = state.extension_by_number(leg.from_number)
    if caller_ext is not None:
        sender = _ext_party(caller_ext, phone=True)
    else:
        sender = {"phoneNumber": e164(leg.from_number)}
        if leg.from_name:
            sender["name"] = leg.from_name
    who = sender.get("name") or sender["phoneNumber"]
    record = record_create(state, ext, kind="VoiceMail", direction="Inbound", sender=sender,
                     recipients=[_ext_party(ext, phone=True)],
                     subject=f"Voice message from {who}", conversation=None)
    seconds = float(state.config["voicemail_seconds"])
    attachment_add(record, kind="AudioRecording", content_type="audio/mpeg", content=seconds,
                   vmDuration=round(seconds), size=len(mp3.silent_mp3(seconds)),
                   fileName=f"voicemail-{record['id']}.mp3")
    record["vmTranscriptionStatus"] = "InProgress"
    # Not in the platform's JSON: the sandbox's own inspection tells which call it was.
    record["_call"] = {"sessionId": call.session_id,
                       "telephonySessionId": call.telephony_session_id,
                       "partyId": leg.party_id, "callLogId": leg.record_id}
    leg.voicemail_id = record["id"]
    # A call's faults reach its message events only when they name them.
    faults = [f for f in call.faults if f.get("event") in ("message-store", "messages")]
    changes_notify(state, ext, record, new=True, faults=faults)
    delay = state.scaled(float(state.config["transcription_delay"]))
    state.spawn(_transcribe_later(state, ext, record, delay))
    return record


async def _transcribe_later(state: SandboxState, ext: Extension, record: dict[str, Any],
                            delay: float) -> None:
    await asyncio.sleep(delay)
    if record["availability"] == "Purged":
        return
    text = str(state.config["transcription_text"])
    attachment_add(record, kind="AudioTranscription", content_type="text/plain", content=text)
    record["vmTranscriptionStatus"] = "Completed"
    _touch(state, record)
    changes_notify(state, ext, record, new=False)


# -- changes ------------------------------------------------------------------------------------
def read_status_set(state: SandboxState, ext: Extension, record: dict[str, Any],
                    status: str) -> None:
    if record["readStatus"] != status:
        record["readStatus"] = status
        _touch(state, record)
        changes_notify(state, ext, record, new=False)


def availability_set(state: SandboxState, ext: Extension, record: dict[str, Any],
                     availability: str) -> None:
    """Alive, Deleted (kept with its attachments, can be restored) or Purged (attachments
    gone for good; a purged message cannot come back)."""
    if record["availability"] in (availability, "Purged"):
        return
    record["availability"] = availability
    if availability == "Purged":
        record["attachments"] = []
        record["_contents"] = {}
    _touch(state, record)
    changes_notify(state, ext, record, new=False)


# -- events ---------------------------------------------------------------------------------
def changes_notify(state: SandboxState, ext: Extension, record: dict[str, Any], *,
                   new: bool, faults: list[dict[str, Any]] | None = None) -> None:
    """The message event (``.../message-store``): what changed, not the message itself."""
    change: dict[str, Any] = {"type": record["type"], "newCount": 1 if new else 0,
                              "updatedCount": 0 if new else 1}
    if new:
        change["newMessageIds"] = [record["id"]]
    body = {"accountId": state.account_id, "extensionId": ext.id,
            "lastUpdated": record["lastModifiedTime"], "changes": [change], "ownerId": ext.id}
    deliveries = [(sub, delivery.envelope_build(sub, event, body))
                  for sub, event, query in message_targets(state, ext, instant=False)
                  if _passes(record, query)]
    _enqueue(state, deliveries, "message-store", faults or [])


def _inbound_notify(state: SandboxState, ext: Extension, record: dict[str, Any],
                    faults: list[dict[str, Any]]) -> None:
    """An inbound SMS: the instant event (the message itself), then the change event."""
    body = message_render(record, state.base_url)
    body = {key: value for key, value in body.items()
            if key not in ("uri", "extensionId", "smsDeliveryTime", "smsSendingAttemptsCount")}
    body["id"] = str(record["id"])
    body["conversationId"] = str(record["conversationId"])
    body["ownerId"] = ext.id
    deliveries = [(sub, delivery.envelope_build(sub, event, body))
                  for sub, event, _query in message_targets(state, ext, instant=True)]
    _enqueue(state, deliveries, "instant", faults)
    changes_notify(state, ext, record, new=True, faults=faults)


def _passes(record: dict[str, Any], query: str) -> bool:
    """A change event passes its filter's options (``type``, ``direction``)."""
    options = parse_qs(query)
    if "type" in options and record["type"] != options["type"][0]:
        return False
    return not ("direction" in options and record["direction"] != options["direction"][0])


def _enqueue(state: SandboxState, deliveries: list[tuple[Any, dict[str, Any]]], kind: str,
             faults: list[dict[str, Any]]) -> None:
    """Queue message events with the faults meant for them (``"event"``: ``message-store``
    or ``instant``; a fault naming no event applies to both)."""
    mine = [f for f in faults if f.get("type") in MESSAGE_FAULTS
            and f.get("event", kind) in (kind, "messages")]
    if any(f["type"] == "drop" for f in mine):
        return
    slow = next((f for f in mine if f["type"] == "slow"), None)
    delay = float(slow.get("delay", 2.0)) if slow else 0.0
    duplicate = any(f["type"] == "duplicate" for f in mine)
    for sub, envelope in deliveries:
        delivery.enqueue(state, sub, envelope, delay=delay, fault="slow" if slow else None)
        if duplicate:
            delivery.enqueue(state, sub, envelope, delay=delay, fault="duplicate")
