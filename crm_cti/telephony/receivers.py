"""Sign-in and sign-out hooks: subscriptions and the first call-log import."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.dispatch import receiver

from crm_cti.accounts.signals import agent_signed_in, agent_signing_out

logger = logging.getLogger(__name__)


@receiver(agent_signed_in, dispatch_uid="telephony.on_agent_signed_in")
def on_agent_signed_in(sender: Any, agent: Any, first_time: bool = False, **kwargs: Any) -> None:
    from crm_cti.telephony import services, tasks

    def enqueue() -> None:
        # Never let a broker or platform problem break the sign-in itself.
        try:
            if services.subscription_wanted_for(agent):
                tasks.subscription_ensure.delay(agent.pk)
            if first_time:
                tasks.calllog_import.delay(agent.pk)
        except Exception:
            logger.exception("post-sign-in work for %s could not be queued", agent)

    transaction.on_commit(enqueue)


@receiver(agent_signing_out, dispatch_uid="telephony.on_agent_signing_out")
def on_agent_signing_out(sender: Any, agent: Any, **kwargs: Any) -> None:
    """Delete the per-extension subscription while the agent's token still works."""
    from crm_cti.telephony import services

    try:
        services.subscription_delete(agent=agent)
    except Exception:
        logger.exception("could not delete the subscription of %s at sign-out", agent)
