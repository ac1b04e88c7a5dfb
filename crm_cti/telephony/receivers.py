"""Sign-in and sign-out hooks: subscriptions and the first call-log import."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from crm_cti.accounts.signals import agent_signed_in, agent_signing_out
from crm_cti.telephony import dispatch
from crm_cti.telephony.models import CallLogSync, Subscription
from crm_cti.telephony.services.subscriptions import subscription_delete, subscription_wanted_for
from crm_cti.telephony.webhook.ingest import subscription_changed, subscription_forget

logger = logging.getLogger(__name__)


@receiver(agent_signed_in, dispatch_uid="telephony.on_agent_signed_in")
def on_agent_signed_in(sender: Any, agent: Any, first_time: bool = False, **kwargs: Any) -> None:
    def enqueue() -> None:
        # Never let a broker or platform problem break the sign-in itself.
        try:
            if subscription_wanted_for(agent):
                dispatch.send(dispatch.SUBSCRIPTION_ENSURE, agent.pk)
            # The first sign-in of an agent that was created before it (by seed_demo, or
            # an admin) imports its call log too: what counts is whether it ever did.
            if first_time or not CallLogSync.objects.filter(
                agent=agent, synced_until__isnull=False
            ).exists():
                dispatch.send(dispatch.CALLLOG_IMPORT, agent.pk)
        except Exception:
            logger.exception("post-sign-in work for %s could not be queued", agent)

    transaction.on_commit(enqueue)


@receiver(agent_signing_out, dispatch_uid="telephony.on_agent_signing_out")
def on_agent_signing_out(sender: Any, agent: Any, **kwargs: Any) -> None:
    """Delete the per-extension subscription while the agent's token still works."""
    try:
        subscription_delete(agent=agent)
    except Exception:
        logger.exception("could not delete the subscription of %s at sign-out", agent)


@receiver(post_save, sender=Subscription, dispatch_uid="telephony.subscription_saved")
@receiver(post_delete, sender=Subscription, dispatch_uid="telephony.subscription_deleted")
def on_subscription_changed(sender: Any, instance: Subscription, **kwargs: Any) -> None:
    """Cached webhook checks of this subscription are forgotten: in this process at once,
    and again with every other process (within a second, webhook.ingest.subscription_changed)
    once the change commits: a process that read the row before then cached what it was.
    Published once, after the commit (outside a transaction, at once)."""
    pk, token_hash = instance.pk, instance.verification_token_hash
    subscription_forget(pk, token_hash)
    transaction.on_commit(lambda: subscription_changed(pk, token_hash))
