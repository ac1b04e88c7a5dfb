"""RingCentral admins administer crm_cti: sign-in grants them the Django admin."""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import receiver

from crm_cti.accounts.signals import agent_signed_in

logger = logging.getLogger(__name__)


@receiver(agent_signed_in, dispatch_uid="dashboard.admin_site_access")
def admin_site_access(sender: Any, agent: Any, **kwargs: Any) -> None:
    """Keep the user's Django admin access in line with the extension's admin flag.

    Access is revoked only from users that exist through RingCentral sign-in (no usable
    password): a local superuser made with ``createsuperuser`` keeps it whatever their
    extension's role.
    """
    user = agent.user
    want = bool(agent.is_admin)
    if not want and user.has_usable_password():
        return
    if user.is_staff == want and user.is_superuser == want:
        return
    user.is_staff = user.is_superuser = want
    user.save(update_fields=["is_staff", "is_superuser"])
    logger.info("admin site access for %s: %s", agent, "granted" if want else "revoked")
