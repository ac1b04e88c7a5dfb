"""Call queues' voicemail boxes: the account's queues (Department extensions) and the
voicemail callers leave on a queue nobody answered, imported and kept current for admins.

A queue's message store is another extension's: RingCentral lets only an admin read it. The
credential is the one account-level work already uses, the service credential (``RC_JWT``),
or without it the token of an agent RingCentral signed in as an admin; ``queue_client`` is
the one place that chooses.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings

from crm_cti.accounts.models import Agent
from crm_cti.accounts.services import client_for_agent, service_client
from crm_cti.messaging.models import CallQueue, Message, MessageSync
from crm_cti.messaging.services.sync import sync_full, sync_incremental
from crm_cti.ringcentral.errors import (
    BadRequest,
    NeedsSignIn,
    NotFound,
    RateLimited,
    RingCentralError,
)
from crm_cti.ringcentral.recording import RecordingContent, range_header

logger = logging.getLogger(__name__)


def queue_client() -> Any | None:
    """A client that may read the queues' boxes, or None (no service credential and no
    admin signed in with ``ReadMessages``)."""
    if settings.RC_JWT:
        return service_client()
    admins = Agent.objects.filter(rc_admin=True, needs_signin=False, rc_token__isnull=False,
                                  rc_token__scope__contains="ReadMessages").order_by("pk")
    for admin in admins:
        try:
            return client_for_agent(admin)
        except NeedsSignIn:
            continue
    return None


def call_queues_refresh(*, client: Any) -> list[CallQueue]:
    """The account's queues as RingCentral lists them, stored (names and numbers kept
    current; a queue that is gone keeps its box, which stays readable here)."""
    queues = []
    for record in client.list_call_queues():
        rc_id = str(record.get("id") or "")[:32]
        if not rc_id:
            continue
        queue, _ = CallQueue.objects.update_or_create(rc_extension_id=rc_id, defaults={
            "extension_number": str(record.get("extensionNumber") or "")[:16],
            "name": str(record.get("name") or "")[:200]})
        queues.append(queue)
    return queues


def queue_box_sync(*, queue: CallQueue, client: Any) -> int:
    """One queue's box: a full sync the first time, incremental after (as an agent's)."""
    sync, _ = MessageSync.objects.get_or_create(queue=queue)
    try:
        if sync.sync_token:
            try:
                return sync_incremental(agent=None, client=client, sync=sync, queue=queue)
            except (NotFound, BadRequest):
                logger.info("message sync token of %s refused; full sync", queue)
        return sync_full(agent=None, client=client, sync=sync, queue=queue)
    except RingCentralError as exc:
        if not isinstance(exc, RateLimited):
            sync.last_error = str(exc)[:500]
            sync.save(update_fields=["last_error", "updated_at"])
        raise


def queue_boxes_sync() -> int:
    """Every queue's box brought up to date; returns how many messages were new. Raises
    RateLimited (the caller waits); a box that cannot be read is logged and skipped."""
    client = queue_client()
    if client is None:
        return 0
    new = 0
    for queue in call_queues_refresh(client=client):
        try:
            new += queue_box_sync(queue=queue, client=client)
        except RateLimited:
            raise
        except RingCentralError as exc:
            logger.info("voicemail box of %s not read: %s", queue, exc)
    return new


def queue_voicemail_open(*, message: Message, byte_range: str = "") -> RecordingContent:
    """Open a queue voicemail's audio for streaming with the queue client; the caller
    closes it. NeedsSignIn when nobody may read the box any more."""
    client = queue_client()
    if client is None or message.queue is None:
        raise NeedsSignIn("no credential may read the call queues' voicemail")
    return client.stream_message_content(
        message.rc_id, message.audio_attachment_id, byte_range=range_header(byte_range),
        extension_id=message.queue.rc_extension_id)
