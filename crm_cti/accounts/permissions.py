"""Which RingCentral app permissions a token carries (its OAuth ``scope``): the one rule for
"may this token do X", asked by every feature that needs a permission.

The platform grants an app's permissions to every token it issues; the token response's
``scope`` lists them (white-space separated; a comma-separated list is read the same) and
``tokens.token_save`` keeps it. A feature that needs a permission asks here before it
offers anything: Call Control's buttons (an app registered without ``CallControl`` shows
none the platform would refuse with a 403) and the subscriptions' telephony-session filters
(``telephony.services.subscriptions.event_filters_wanted``, for an agent's token or the
service credential's).
"""

from __future__ import annotations

from django.conf import settings

from crm_cti.accounts.models import Agent, RingCentralToken
from crm_cti.accounts.tokens import agent_token_key, service_token_key

CALL_CONTROL = "CallControl"


def scope_has_permission(scope: str, permission: str) -> bool:
    """Whether an OAuth ``scope`` string lists ``permission``."""
    return permission in (scope or "").replace(",", " ").split()


def _stored_scope(key: str) -> str:
    scope = RingCentralToken.objects.filter(key=key).values_list("scope", flat=True).first()
    return scope or ""


def agent_has_permission(agent: Agent | None, permission: str) -> bool:
    """Whether ``agent``'s stored token was granted ``permission`` (False without a token)."""
    if agent is None:
        return False
    return scope_has_permission(_stored_scope(agent_token_key(agent)), permission)


def service_has_permission(permission: str) -> bool:
    """Whether the service credential's (``RC_JWT``) stored token was granted ``permission``
    (False without the credential, or before its first token was fetched)."""
    if not settings.RC_JWT:
        return False
    return scope_has_permission(_stored_scope(service_token_key(settings.RC_JWT)), permission)
