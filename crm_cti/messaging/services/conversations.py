"""Writing and reading conversations: a reply from a thread (SMS to a phone number, a pager
message to an extension number), the record of every SMS or pager message the dashboard
sends, read state kept here and given back to RingCentral, a voicemail's audio opened."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from crm_cti.accounts.models import Agent
from crm_cti.accounts.services import client_for_agent
from crm_cti.crm.phones import is_extension_number
from crm_cti.messaging.models import Message
from crm_cti.messaging.services.store import message_record_apply
from crm_cti.ringcentral.client import RecordingContent
from crm_cti.ringcentral.errors import NotFound, RingCentralError
from crm_cti.ringcentral.recording import range_header

logger = logging.getLogger(__name__)

SMS_MAX_CHARS = 1000
# A thread opened marks at most this many messages read on RingCentral at once (a Medium
# request each); the rest stay pending and the periodic sync sends them.
READ_PUSH_MAX = 20


class ReplyRefused(ValueError):
    """A reply that cannot be sent as asked (no text, too long, no SMS number)."""


def message_sent_record(*, agent: Agent, record: dict[str, Any]) -> Message | None:
    """Store what RingCentral answered to a send (an outbound record of the agent's store):
    the event and the sync about it later land on the same row."""
    try:
        message, _ = message_record_apply(agent=agent, record=record)
    except Exception:
        # The message went out; failing to keep it here must not say otherwise.
        logger.exception("could not store sent message %s", record.get("id"))
        return None
    return message


def reply_send(*, agent: Agent, counterpart: str, text: str,
               from_number: str = "") -> Message | None:
    """Send ``text`` to the thread's other party as ``agent`` and store it. Raises
    ReplyRefused, or a RingCentralError when RingCentral refuses (never retried)."""
    text = (text or "").strip()
    if not text:
        raise ReplyRefused("Write a message first.")
    if len(text) > SMS_MAX_CHARS:
        raise ReplyRefused(f"A message has at most {SMS_MAX_CHARS} characters.")
    client = client_for_agent(agent)
    if is_extension_number(counterpart):
        record = client.send_pager(from_extension_number=agent.extension_number,
                                   to_extension_numbers=[counterpart], text=text)
    else:
        numbers = agent.sms_numbers
        if from_number and from_number not in numbers:
            raise ReplyRefused("That number is not one of your SMS numbers.")
        sender = from_number or (numbers[0] if numbers else "")
        if not sender:
            raise ReplyRefused("Your extension has no number that can send SMS.")
        record = client.send_sms(from_number=sender, to_numbers=[counterpart], text=text)
    return message_sent_record(agent=agent, record=record)


def thread_mark_read(*, agent: Agent, counterpart: str) -> int:
    """Mark the thread's unread inbound messages read here, then on RingCentral; returns
    how many changed here. A refused update stays pending (``read_pending``)."""
    with transaction.atomic():
        unread = list(
            Message.objects.select_for_update()
            .filter(agent=agent, counterpart=counterpart, read=False,
                    direction=Message.Direction.INBOUND)
            .values_list("pk", flat=True)
        )
        Message.objects.filter(pk__in=unread).update(read=True, read_pending=True)
    if unread:
        messages_read_push(agent=agent)
    return len(unread)


def message_mark_read(*, agent: Agent, message: Message) -> bool:
    """Mark one of the agent's messages (a voicemail played) read here, then on RingCentral;
    False when it already was."""
    changed = Message.objects.filter(pk=message.pk, agent=agent, read=False).update(
        read=True, read_pending=True)
    if changed:
        messages_read_push(agent=agent)
    return bool(changed)


def messages_read_push(*, agent: Agent) -> int:
    """Tell RingCentral about read state changed here; returns how many it took."""
    pending = list(Message.objects.filter(agent=agent, read_pending=True)
                   .order_by("-created_at_rc")[:READ_PUSH_MAX])
    if not pending:
        return 0
    try:
        client = client_for_agent(agent)
    except RingCentralError:
        return 0
    done = 0
    for message in pending:
        try:
            client.update_message_read_status(message.rc_id, read=message.read)
        except NotFound:
            # Deleted on RingCentral meanwhile: nothing left there to mark.
            Message.objects.filter(pk=message.pk).update(read_pending=False)
            continue
        except RingCentralError as exc:
            logger.info("read state of message %s not sent: %s", message.pk, exc)
            break
        Message.objects.filter(pk=message.pk, read=message.read).update(read_pending=False)
        done += 1
    return done


def voicemail_open(*, agent: Agent, message: Message, byte_range: str = "") -> RecordingContent:
    """Open the voicemail's audio with ``agent``'s credential (its owner's, or an admin's),
    for streaming; the caller closes it."""
    return client_for_agent(agent).stream_message_content(
        message.rc_id, message.audio_attachment_id, byte_range=range_header(byte_range)
    )
