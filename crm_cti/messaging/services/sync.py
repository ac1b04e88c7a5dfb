"""Keeping an agent's messages current: the import at sign-in (the last
``MESSAGE_IMPORT_DAYS`` days through message-sync: one Light request, where the message
store's list would be a page each), message-store events as they come, and the periodic
incremental sync that repairs a lost event — like the call log's import and sweep.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from crm_cti.accounts.models import Agent
from crm_cti.accounts.permissions import agent_has_permission
from crm_cti.accounts.services import client_for_agent
from crm_cti.messaging.models import CallQueue, Message, MessageSync
from crm_cti.messaging.serializers import message_to_dict
from crm_cti.messaging.services.followups import (
    followup_for_queue_voicemail,
    followup_for_voicemail,
)
from crm_cti.messaging.services.store import message_record_apply
from crm_cti.ringcentral.errors import BadRequest, NotFound, RateLimited, RingCentralError
from crm_cti.telephony.models import TelephonyEvent
from crm_cti.telephony.notifications import InvalidEvent
from crm_cti.telephony.notifications.messages import message_event_read
from crm_cti.telephony.push import push_agent

logger = logging.getLogger(__name__)

# Records per message-sync or list page, and the most pages one sync reads (a store with
# more changes than that is read on by the next sync, from the token saved meanwhile).
SYNC_RECORD_COUNT = 250
SYNC_MAX_PAGES = 20
# A message stored this long after it was sent is history, not news: no toast.
ANNOUNCE_WITHIN = timedelta(minutes=15)


def _applied(agent: Agent | None, message: Message, created: bool, *, announce: bool) -> None:
    """What a stored message sets off: a voicemail's follow-up, and the agent's browser told
    of a new inbound message (after the commit: nobody is shown a row that rolls back). A
    call queue's voicemail (no agent) opens an unassigned follow-up and is announced to
    nobody: it is the admins' to hand out."""
    if message.is_voicemail and message.direction == Message.Direction.INBOUND:
        if agent is None:
            followup_for_queue_voicemail(message=message)
            return
        followup_for_voicemail(message=message)
    # Only what just arrived is announced: not a voicemail's transcript coming later, not
    # the history an import brings in.
    recent = message.created_at_rc >= timezone.now() - ANNOUNCE_WITHIN
    if (not (created and announce and recent) or message.deleted
            or message.direction != Message.Direction.INBOUND):
        return
    kind = "voicemail" if message.is_voicemail else "sms"
    payload = {"type": kind, "message": message_to_dict(message)}

    def push() -> None:
        try:
            push_agent(agent_id=agent.pk, message=payload)
        except Exception:
            logger.warning("could not push message %s", message.pk, exc_info=True)

    transaction.on_commit(push)


def records_apply(*, agent: Agent | None, records: list[dict[str, Any]], announce: bool = True,
                  queue: CallQueue | None = None, client: Any = None) -> int:
    """Store each record (idempotent by id) in the agent's store or the ``queue``'s box;
    returns how many were new. Transcripts that RingCentral completed are read afterwards,
    outside any transaction (``client``: the one that read the queue's box)."""
    new = 0
    transcripts: list[Message] = []
    for record in records:
        with transaction.atomic():
            message, created = message_record_apply(agent=agent, queue=queue, record=record)
            if message is None:
                continue
            _applied(agent, message, created, announce=announce)
            new += int(created)
        if (message.is_voicemail and message.transcription_status == "Completed"
                and not message.transcript and message.transcript_attachment_id):
            transcripts.append(message)
    for message in transcripts:
        voicemail_transcript_fetch(message=message, client=client)
    return new


def voicemail_transcript_fetch(*, message: Message, client: Any = None) -> bool:
    """Read a Completed transcription's text (a Medium request); False when it could not be
    (the next sync tries again). A queue's voicemail is read with ``client`` (its box's)."""
    try:
        if message.queue is not None:
            text = client.message_content_text(
                message.rc_id, message.transcript_attachment_id,
                extension_id=message.queue.rc_extension_id)
        else:
            text = client_for_agent(message.agent).message_content_text(
                message.rc_id, message.transcript_attachment_id)
    except RingCentralError as exc:
        logger.info("transcript of voicemail %s not read: %s", message.pk, exc)
        return False
    Message.objects.filter(pk=message.pk).update(transcript=text[:10_000])
    message.transcript = text[:10_000]
    return True


def messages_sync(*, agent: Agent) -> int:
    """Bring the agent's messages up to date: a full sync of the last
    ``MESSAGE_IMPORT_DAYS`` days the first time, an incremental one from the saved token
    after. Returns how many messages were new. Raises RateLimited (the caller waits) and
    NeedsSignIn."""
    if not agent_has_permission(agent, "ReadMessages"):
        return 0
    client = client_for_agent(agent)
    sync, _ = MessageSync.objects.get_or_create(agent=agent)
    new = 0
    try:
        if sync.sync_token:
            try:
                new += sync_incremental(agent=agent, client=client, sync=sync)
                return new
            except (NotFound, BadRequest):
                # The token expired or the store was reset: start over with a full sync.
                logger.info("message sync token of %s refused; full sync", agent)
        new += sync_full(agent=agent, client=client, sync=sync)
    except RingCentralError as exc:
        if not isinstance(exc, RateLimited):
            sync.last_error = str(exc)[:500]
            sync.save(update_fields=["last_error", "updated_at"])
        raise
    return new


def _records(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in data.get("records") or [] if isinstance(r, dict)]


def _token_save(sync: MessageSync, data: dict[str, Any]) -> None:
    """Saved after each page: a rate limit between pages loses nothing already applied."""
    info = data.get("syncInfo") or {}
    sync.sync_token = str(info.get("syncToken") or sync.sync_token)
    sync.synced_at = timezone.now()
    sync.last_error = ""
    sync.save(update_fields=["sync_token", "synced_at", "last_error", "updated_at"])


def sync_incremental(*, agent: Agent | None, client: Any, sync: MessageSync,
                 queue: CallQueue | None = None) -> int:
    """Every change since the token, page after page (a full page means more follow)."""
    new = 0
    for _ in range(SYNC_MAX_PAGES):
        data = client.sync_messages(sync_token=sync.sync_token, record_count=SYNC_RECORD_COUNT,
                                    extension_id=_box(queue))
        records = _records(data)
        new += records_apply(agent=agent, records=records, queue=queue, client=client)
        _token_save(sync, data)
        if len(records) < SYNC_RECORD_COUNT:
            break
    return new


def _box(queue: CallQueue | None) -> str:
    """The extension whose store a sync reads: the token's own, or the queue's."""
    return "~" if queue is None else queue.rc_extension_id


def sync_full(*, agent: Agent | None, client: Any, sync: MessageSync,
          queue: CallQueue | None = None) -> int:
    """The last ``MESSAGE_IMPORT_DAYS`` days: the newest ``SYNC_RECORD_COUNT`` by message-sync
    (which also gives the token), older ones of the window from the store's list."""
    since = timezone.now() - timedelta(days=settings.MESSAGE_IMPORT_DAYS)
    data = client.sync_messages(date_from=since, record_count=SYNC_RECORD_COUNT,
                                extension_id=_box(queue))
    records = _records(data)
    new = records_apply(agent=agent, records=records, announce=False, queue=queue,
                        client=client)
    _token_save(sync, data)
    older = bool((data.get("syncInfo") or {}).get("olderRecordsExist"))
    if not older or len(records) < SYNC_RECORD_COUNT:
        return new
    oldest = min((str(r.get("creationTime") or "") for r in records), default="")
    for page in range(1, SYNC_MAX_PAGES + 1):
        listed = client.list_messages(date_from=since, date_to=oldest or None, page=page,
                                      per_page=SYNC_RECORD_COUNT, extension_id=_box(queue))
        new += records_apply(agent=agent, records=_records(listed), announce=False,
                             queue=queue, client=client)
        if not (listed.get("navigation") or {}).get("nextPage"):
            break
    return new


def message_events_apply(*, event_ids: list[int]) -> int:
    """Apply stored message-store notifications: an instant SMS is the record itself; a
    store change is read by an incremental sync (once per agent per batch). A redelivered
    or replayed event lands on the same row. Returns how many messages were new."""
    events = TelephonyEvent.objects.filter(pk__in=event_ids).order_by("pk")
    agents = {a.rc_extension_id: a for a in Agent.objects.filter(
        rc_extension_id__in={e.rc_extension_id for e in events})}
    new = 0
    to_sync: set[int] = set()
    for event in events:
        agent = agents.get(event.rc_extension_id)
        if agent is None:
            continue
        try:
            parsed = message_event_read(event.payload)
        except InvalidEvent as exc:
            logger.warning("message event %s: %s", event.pk, exc)
            continue
        if parsed.record is not None:
            new += records_apply(agent=agent, records=[parsed.record])
        elif parsed.changes:
            to_sync.add(agent.pk)
    by_pk = {a.pk: a for a in agents.values()}
    for agent_id in sorted(to_sync):
        new += messages_sync(agent=by_pk[agent_id])
    return new


def agents_to_sync() -> list[Agent]:
    """Signed-in agents whose messages the periodic sync keeps current."""
    return list(Agent.objects.filter(needs_signin=False, rc_token__isnull=False,
                                     rc_token__scope__contains="ReadMessages"))
