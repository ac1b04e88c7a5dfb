"""Messaging's Celery tasks: thin, they call services/sync.py."""

from __future__ import annotations

import logging

from celery import shared_task

from crm_cti.accounts.models import Agent
from crm_cti.messaging.services.conversations import messages_read_push
from crm_cti.messaging.services.queues import queue_boxes_sync
from crm_cti.messaging.services.sync import agents_to_sync, message_events_apply, messages_sync
from crm_cti.ringcentral.errors import NeedsSignIn, RateLimited, RingCentralError
from crm_cti.telephony import dispatch

logger = logging.getLogger(__name__)


@shared_task(name=dispatch.MESSAGE_EVENTS_APPLY)
def message_events_apply_task(event_ids: list[int]) -> None:
    try:
        message_events_apply(event_ids=event_ids)
    except RateLimited as exc:
        # The events are stored; the incremental sync reads what they announced.
        logger.info("message events wait %.0fs for the budget", exc.retry_after or 0)
    except RingCentralError as exc:
        logger.warning("message events %s: %s (the periodic sync repairs)", event_ids, exc)


@shared_task(name=dispatch.MESSAGES_IMPORT)
def messages_import(agent_id: int) -> None:
    agent = Agent.objects.filter(pk=agent_id).first()
    if agent is None:
        return
    try:
        count = messages_sync(agent=agent)
        logger.info("message import for %s: %d new", agent, count)
        if agent.rc_admin:
            # An admin signed in: the call queues' voicemail boxes can be read now.
            _queue_boxes()
    except RateLimited as exc:
        dispatch.later(dispatch.MESSAGES_IMPORT, args=[agent_id],
                       countdown=exc.retry_after or 30)
    except NeedsSignIn:
        logger.info("message import for %s waits for a new sign-in", agent)
    except RingCentralError as exc:
        logger.warning("message import for %s: %s", agent, exc)


def _queue_boxes() -> None:
    """The call queues' voicemail boxes (services/queues.py); a failure waits for the next
    periodic sync."""
    try:
        count = queue_boxes_sync()
        logger.info("call queue voicemail: %d new", count)
    except RingCentralError as exc:
        logger.info("call queue voicemail not synced: %s", exc)


@shared_task(name="messaging.messages_sync_all")
def messages_sync_all() -> int:
    """Beat: an incremental sync per signed-in agent repairs a lost message event, and read
    state changed here that RingCentral has not taken yet is sent again; the call queues'
    boxes (read by no event subscription) are kept current here."""
    done = 0
    for agent in agents_to_sync():
        try:
            messages_sync(agent=agent)
            messages_read_push(agent=agent)
            done += 1
        except RingCentralError as exc:
            logger.info("message sync of %s: %s", agent, exc)
    _queue_boxes()
    return done
