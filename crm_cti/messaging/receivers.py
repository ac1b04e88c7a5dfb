"""Messaging's hooks on what happens elsewhere: a call that ends missed opens a follow-up
and one called back and connected closes it (``post_save`` of telephony's Call: telephony
knows nothing of messaging), and an agent's sign-in imports their recent messages."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from crm_cti.accounts.signals import agent_signed_in
from crm_cti.messaging.services.followups import (
    followup_for_missed_call,
    followups_close_by_call,
)
from crm_cti.telephony import dispatch
from crm_cti.telephony.models import Call

logger = logging.getLogger(__name__)


@receiver(post_save, sender=Call, dispatch_uid="messaging.call_saved")
def on_call_saved(sender: Any, instance: Call, **kwargs: Any) -> None:
    # Cheap tests first: this runs for every save of every call on the hot path.
    if instance.direction == Call.Direction.INBOUND:
        if instance.state not in (Call.State.MISSED, Call.State.VOICEMAIL):
            return
        work = followup_for_missed_call
    elif instance.answered_at is not None and instance.to_e164:
        work = followups_close_by_call
    else:
        return
    try:
        # A savepoint: a follow-up that cannot be written never fails the call's batch.
        with transaction.atomic():
            work(call=instance)
    except Exception:
        logger.exception("follow-up of call %s not updated", instance.pk)


@receiver(agent_signed_in, dispatch_uid="messaging.on_agent_signed_in")
def on_agent_signed_in(sender: Any, agent: Any, **kwargs: Any) -> None:
    def enqueue() -> None:
        try:
            dispatch.send(dispatch.MESSAGES_IMPORT, agent.pk)
        except Exception:
            logger.exception("message import for %s could not be queued", agent)

    transaction.on_commit(enqueue)
