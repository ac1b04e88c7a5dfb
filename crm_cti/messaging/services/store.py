"""Message records in: one function turns a message-store record (from an instant event, a
sync page, a send's answer or a read) into the agent's ``Message`` row, idempotently by the
platform's id, matched to the contact by number like calls are (crm.matching)."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from crm_cti.accounts.models import Agent
from crm_cti.crm.matching import party_match
from crm_cti.messaging.models import CallQueue, Message
from crm_cti.messaging.services.followups import VOICEMAIL_CALL_WINDOW
from crm_cti.telephony.models import Call
from crm_cti.telephony.notifications import parse_time

TYPES = {"SMS": Message.Type.SMS, "Pager": Message.Type.PAGER,
         "VoiceMail": Message.Type.VOICEMAIL}
DIRECTIONS = {"Inbound": Message.Direction.INBOUND, "Outbound": Message.Direction.OUTBOUND}
TEXT_MAX_CHARS = 10_000


def _party_number(party: Any) -> str:
    if not isinstance(party, dict):
        return ""
    return str(party.get("phoneNumber") or party.get("extensionNumber") or "")[:40]


def _party_name(party: Any) -> str:
    return str(party.get("name") or "")[:200] if isinstance(party, dict) else ""


def _attachment(record: dict[str, Any], kind: str) -> dict[str, Any]:
    for item in record.get("attachments") or []:
        if isinstance(item, dict) and item.get("type") == kind:
            return item
    return {}


def record_fields(record: dict[str, Any]) -> dict[str, Any] | None:
    """The ``Message`` fields a record gives, or None for a record we do not keep (a fax, a
    type or direction we do not know, no id)."""
    kind = TYPES.get(str(record.get("type") or ""))
    direction = DIRECTIONS.get(str(record.get("direction") or ""))
    rc_id = str(record.get("id") or "")[:64]
    if kind is None or direction is None or not rc_id:
        return None
    sender = record.get("from") or {}
    recipients = [r for r in (record.get("to") or []) if isinstance(r, dict)]
    other = sender if direction == Message.Direction.INBOUND else (
        recipients[0] if recipients else {})
    audio = _attachment(record, "AudioRecording")
    transcript = _attachment(record, "AudioTranscription")
    created = parse_time(record.get("creationTime")) or timezone.now()
    return {
        "rc_id": rc_id,
        "type": kind,
        "direction": direction,
        "from_number": _party_number(sender),
        "from_name": _party_name(sender),
        "to_numbers": [_party_number(r) for r in recipients],
        "counterpart": _party_number(other),
        "counterpart_name": _party_name(other),
        "conversation_id": str(record.get("conversationId")
                               or (record.get("conversation") or {}).get("id") or "")[:64],
        # The platform replicates an SMS's text (and a voicemail's caller line) in subject.
        "text": str(record.get("subject") or "")[:TEXT_MAX_CHARS],
        "status": str(record.get("messageStatus") or "")[:20],
        "read": record.get("readStatus") == "Read",
        "created_at_rc": created,
        "modified_at_rc": parse_time(record.get("lastModifiedTime")),
        "audio_attachment_id": str(audio.get("id") or "")[:64],
        "audio_content_type": str(audio.get("contentType") or "")[:60],
        "audio_duration": audio.get("vmDuration") if isinstance(
            audio.get("vmDuration"), int) else None,
        "transcript_attachment_id": str(transcript.get("id") or "")[:64],
        "transcription_status": str(record.get("vmTranscriptionStatus") or "")[:20],
        "deleted": record.get("availability") in ("Deleted", "Purged"),
    }


def _missed_call_for(agent: Agent, number: str, created: Any) -> Call | None:
    match = party_match(raw_number=number, agent_id=agent.pk)
    if not match.e164:
        return None
    return (
        Call.objects.filter(
            agent=agent, direction=Call.Direction.INBOUND, from_e164=match.e164,
            started_at__gte=created - VOICEMAIL_CALL_WINDOW, started_at__lte=created,
            state__in=[Call.State.MISSED, Call.State.VOICEMAIL],
        ).order_by("-started_at").first()
    )


def message_record_apply(*, agent: Agent | None = None, queue: CallQueue | None = None,
                         record: dict[str, Any]) -> tuple[Message | None, bool]:
    """Create or update the row for ``record`` in the agent's store (or, ``queue``, in a
    call queue's box); returns (row, created). A record whose changes are older than the
    row's (a replayed event) changes nothing but the read state we have not told
    RingCentral yet, which stays ours."""
    fields = record_fields(record)
    if fields is None:
        return None, False
    owner: dict[str, Any] = {"agent": agent} if queue is None else {"queue": queue}
    with transaction.atomic():
        row = (Message.objects.select_for_update()
               .filter(**owner, rc_id=fields["rc_id"]).first())
        if row is None:
            match = party_match(raw_number=fields["counterpart"],
                                agent_id=agent.pk if agent is not None else None)
            row = Message(**owner, contact=match.contact, **fields)
            if match.e164:
                row.counterpart = match.e164
            if row.is_voicemail and agent is not None:
                row.call = _missed_call_for(agent, fields["counterpart"], row.created_at_rc)
            try:
                with transaction.atomic():
                    row.save()
            except IntegrityError:
                # Another worker stored the same message a moment ago.
                return Message.objects.get(**owner, rc_id=fields["rc_id"]), False
            return row, True
        newer = (fields["modified_at_rc"] is None or row.modified_at_rc is None
                 or fields["modified_at_rc"] >= row.modified_at_rc)
        if not newer:
            return row, False
        for name in ("status", "modified_at_rc", "audio_attachment_id", "audio_content_type",
                     "audio_duration", "transcript_attachment_id", "transcription_status",
                     "deleted"):
            if fields[name] not in ("", None):
                setattr(row, name, fields[name])
        if fields["text"] and not row.text:
            row.text = fields["text"]
        if not row.read_pending:
            row.read = fields["read"]
        row.save()
        return row, False
