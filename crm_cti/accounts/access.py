"""Who is this user, are they an admin, whose calls may they watch: the one rule.

The websocket (``/ws/agent/?agent=``), the JSON API (``/api/calls/live/?agent=``) and the
pages (``/?agent=``) all ask ``watch_target``, so each door gives the same answer for the
same watcher:

=======================================  =================  ==========  ==============
watcher, ``?agent=``                     answer             socket      API
=======================================  =================  ==========  ==============
anonymous, or an agent who must sign in  ``SIGN_IN``        4401        401
again (whatever is asked)
an agent: nothing, or their own id       their own calls    open        200
an admin: ``all``                        every agent        open        200
an admin: an existing agent's id         that agent         open        200
anything else: another agent's id, an    ``FORBIDDEN``      4403        403
unknown id, ``all`` or garbage from a
non-admin; nothing from a user without
an agent
=======================================  =================  ==========  ==============

A non-admin asking for another agent is refused exactly as for an id that does not exist,
so the answer says nothing about which agents exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from crm_cti.accounts.models import Agent

ALL_AGENTS = "all"
SIGN_IN = "sign_in"
FORBIDDEN = "forbidden"


class WatchRefused(Exception):
    """``reason`` is ``SIGN_IN`` (no usable session) or ``FORBIDDEN`` (not theirs to see)."""

    def __init__(self, reason: Literal["sign_in", "forbidden"]) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Watch:
    """Whose live calls to show: ``agent_id`` None means every agent (an admin's ``all``)."""

    agent_id: int | None


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


def watch_target(*, user: Any, requested: str = "") -> Watch:
    """Whose live calls ``user`` may watch when asking for ``?agent=<requested>``.

    Raises ``WatchRefused`` (see the module's table). Reads the database: call it from a
    synchronous context.
    """
    if user is None or not user.is_authenticated:
        raise WatchRefused(SIGN_IN)
    agent = agent_for(user)
    if agent is not None and agent.needs_signin:
        raise WatchRefused(SIGN_IN)
    requested = (requested or "").strip()
    if agent is not None and requested in ("", str(agent.pk)):
        return Watch(agent_id=agent.pk)
    if requested and is_admin(user):
        if requested == ALL_AGENTS:
            return Watch(agent_id=None)
        if requested.isdigit() and Agent.objects.filter(pk=int(requested)).exists():
            return Watch(agent_id=int(requested))
    raise WatchRefused(FORBIDDEN)
