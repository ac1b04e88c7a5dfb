"""Who may see what: an agent sees only their own calls; an admin sees every call."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from crm_cti.accounts.models import Agent
from crm_cti.telephony.models import Call


def agent_for(user: Any) -> Agent | None:
    """The Agent of a signed-in user, or None (a plain Django staff user has none)."""
    if user is None or not user.is_authenticated:
        return None
    # RelatedObjectDoesNotExist is an AttributeError, so a user without an Agent gives None.
    return getattr(user, "agent", None)


def is_admin(user: Any) -> bool:
    """A local superuser or staff user, or an agent who administers crm_cti; never an agent
    who must sign in with RingCentral again."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    agent = agent_for(user)
    if agent is not None and agent.needs_signin:
        return False
    return bool(user.is_superuser or user.is_staff or (agent is not None and agent.is_admin))


def calls_visible_to(user: Any) -> QuerySet[Call]:
    """Every call ``user`` may read: all for admins, their own for agents, none otherwise."""
    if is_admin(user):
        return Call.objects.all()
    agent = agent_for(user)
    if agent is None:
        return Call.objects.none()
    return Call.objects.filter(agent=agent)
