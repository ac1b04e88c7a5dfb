"""Which RingCentral app permissions an agent's token carries (its OAuth ``scope``).

The platform grants an app's permissions to every token it issues; the token response's
``scope`` lists them and ``tokens.token_save`` keeps it. A feature that needs a permission
(Call Control needs ``CallControl``) asks here before it offers anything, so that an app
registered without it shows no button the platform would refuse with a 403.
"""

from __future__ import annotations

from crm_cti.accounts.models import Agent, RingCentralToken
from crm_cti.accounts.tokens import agent_token_key

CALL_CONTROL = "CallControl"


def agent_has_permission(agent: Agent | None, permission: str) -> bool:
    """Whether ``agent``'s stored token was granted ``permission`` (False without a token)."""
    if agent is None:
        return False
    scope = (
        RingCentralToken.objects.filter(key=agent_token_key(agent))
        .values_list("scope", flat=True)
        .first()
    )
    return permission in (scope or "").split()
