"""Agents and their RingCentral credentials: sign-in, clients, sign-out.

Public entry points:

- ``client_for_agent(agent)``: a ``RingCentralClient`` with the agent's token, refreshed
  under the shared lock. Raises ``NeedsSignIn`` at once, without any network I/O, when the
  agent must sign in again: background work catches it and stops for that agent.
- ``service_client()``: a client for account-level work with the ``RC_JWT`` service
  credential, or ``None`` when no JWT is configured.
- ``signin_complete(...)``: the callback's work (code → tokens → extension → Agent).
- ``agent_sign_out(agent=...)`` and ``agent_mark_needs_signin(agent=...)``.

Never call these inside ``transaction.atomic``: token refreshes commit under a lock (see
``crm_cti.accounts.tokens``).
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from crm_cti.accounts.models import Agent, RingCentralToken
from crm_cti.accounts.signals import agent_needs_signin, agent_signed_in, agent_signing_out
from crm_cti.accounts.tokens import (
    StoredTokenSource,
    agent_token_key,
    agent_user_key,
    service_token_key,
    token_decrypt,
    token_delete,
    token_row,
    token_save,
)
from crm_cti.ringcentral.client import RingCentralClient, StaticToken
from crm_cti.ringcentral.errors import NeedsSignIn, RingCentralError
from crm_cti.ringcentral.oauth import TokenSet, exchange_code, jwt_bearer_tokens, revoke_token

logger = logging.getLogger(__name__)


# -- clients -----------------------------------------------------------------------------


def agent_token_source(agent: Agent) -> StoredTokenSource:
    return StoredTokenSource(
        key=agent_token_key(agent),
        user_key=agent_user_key(agent),
        on_dead=lambda: agent_mark_needs_signin(agent=agent),
        agent=agent,
    )


def client_for_agent(agent: Agent) -> RingCentralClient:
    """A client acting as ``agent``; ``NeedsSignIn`` (no network I/O) if they must sign in.

    The flag is read from the database, not from ``agent``: a task may hold an Agent loaded
    before the refresh token died.
    """
    needs = Agent.objects.filter(pk=agent.pk).values_list("needs_signin", flat=True).first()
    if needs is None or needs:
        raise NeedsSignIn(f"agent {agent.pk} must sign in with RingCentral again")
    return RingCentralClient(agent_token_source(agent))


def service_client() -> RingCentralClient | None:
    """A client with the service credential (JWT bearer grant), or None without ``RC_JWT``.

    The token is stored and refreshed like an agent's; when the refresh token is refused the
    JWT simply grants a new one. A refused JWT raises ``NeedsSignIn`` from the first request.
    """
    jwt = settings.RC_JWT
    if not jwt:
        return None
    key = service_token_key(jwt)
    row = token_row(key)
    user_key = f"ext:{row.owner_id}" if row is not None and row.owner_id else "service"

    def regrant() -> TokenSet:
        return jwt_bearer_tokens(assertion=jwt, user_key=user_key)

    def on_dead() -> None:
        token_delete(key=key)

    return RingCentralClient(
        StoredTokenSource(key=key, user_key=user_key, on_dead=on_dead, regrant=regrant)
    )


# -- sign-in -----------------------------------------------------------------------------


def extension_is_admin(extension: dict[str, Any]) -> bool:
    """Admin per the extension's permissions, or a role whose name says administrator."""
    permissions = extension.get("permissions") or {}
    if (permissions.get("admin") or {}).get("enabled"):
        return True
    return any(
        "admin" in str(role.get("displayName", "")).lower()
        for role in extension.get("roles") or []
        if isinstance(role, dict)
    )


def phone_numbers_from_records(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``Agent.phone_numbers`` shape from ``UserPhoneNumberInfo`` records."""
    numbers = []
    for record in records:
        number = record.get("phoneNumber")
        if not number or record.get("status") not in (None, "Normal"):
            continue
        numbers.append(
            {
                "phone_number": number,
                "usage_type": record.get("usageType", ""),
                "features": list(record.get("features") or []),
            }
        )
    return numbers


@transaction.atomic
def agent_upsert_from_extension(
    *,
    extension: dict[str, Any],
    phone_numbers: list[dict[str, Any]],
    tokens: TokenSet,
) -> tuple[Agent, bool]:
    """Create or update the Django user, the Agent and its stored token, all or nothing."""
    extension_id = str(extension["id"])
    contact = extension.get("contact") or {}
    first_name = str(contact.get("firstName") or "")[:150]
    last_name = str(contact.get("lastName") or "")[:150]
    name = str(extension.get("name") or f"{first_name} {last_name}".strip())
    email = str(contact.get("email") or "")
    account_id = str((extension.get("account") or {}).get("id") or "")

    agent = Agent.objects.select_for_update().filter(rc_extension_id=extension_id).first()
    first_time = agent is None
    if agent is None:
        user_model = get_user_model()
        user, _ = user_model.objects.get_or_create(username=f"rc-{extension_id}")
        user.set_unusable_password()
        agent = Agent(user=user, rc_extension_id=extension_id)
    user = agent.user
    user.first_name, user.last_name, user.email = first_name, last_name, email
    user.is_active = True
    user.save()

    agent.rc_account_id = account_id
    agent.extension_number = str(extension.get("extensionNumber") or "")
    agent.name = name
    agent.email = email
    agent.phone_numbers = phone_numbers
    agent.is_admin = extension_is_admin(extension)
    agent.needs_signin = False
    agent.save()
    token_save(key=agent_token_key(agent), tokens=tokens, agent=agent)
    return agent, first_time


def _revoke_quietly(token: str, *, user_key: str | None) -> bool:
    try:
        revoke_token(token=token, user_key=user_key)
    except RingCentralError as exc:
        logger.warning("could not revoke a RingCentral token: %s", exc)
        return False
    return True


def signin_complete(*, code: str, code_verifier: str, redirect_uri: str) -> tuple[Agent, bool]:
    """Exchange ``code``, read the extension and its numbers, then store the agent.

    Raises the typed errors of the exchange or of the reads; in that case nothing is stored
    (and a token already obtained is revoked), so a retry starts clean.
    """
    tokens = exchange_code(code=code, redirect_uri=redirect_uri, code_verifier=code_verifier)
    user_key = f"ext:{tokens.owner_id}" if tokens.owner_id else ""
    client = RingCentralClient(StaticToken(tokens.access_token, user_key=user_key))
    try:
        extension = client.get_extension()
        numbers = phone_numbers_from_records(client.list_phone_numbers().get("records", []))
        agent, first_time = agent_upsert_from_extension(
            extension=extension, phone_numbers=numbers, tokens=tokens
        )
    except Exception:
        _revoke_quietly(tokens.refresh_token or tokens.access_token, user_key=user_key or None)
        raise
    finally:
        client.close()
    logger.info(
        "agent %s (ext. %s) signed in%s",
        agent.pk,
        agent.extension_number,
        " for the first time" if first_time else "",
    )
    for receiver, result in agent_signed_in.send_robust(
        sender=Agent, agent=agent, first_time=first_time
    ):
        if isinstance(result, Exception):
            logger.error("agent_signed_in receiver %r failed: %r", receiver, result)
    return agent, first_time


# -- sign-out and dead tokens ------------------------------------------------------------


def agent_sign_out(*, agent: Agent) -> bool:
    """Revoke the agent's token at RingCentral and delete it here. Ending the Django session
    is the view's job. Returns whether RingCentral confirmed the revocation (a local sign-out
    happens either way)."""
    for receiver, result in agent_signing_out.send_robust(sender=Agent, agent=agent):
        if isinstance(result, Exception):
            logger.error("agent_signing_out receiver %r failed: %r", receiver, result)
    key = agent_token_key(agent)
    revoked = False
    row = token_row(key)
    if row is not None:
        # The refresh token outlives the access token; revoking it ends the whole session.
        secret = token_decrypt(row, "refresh_token_encrypted") or token_decrypt(
            row, "access_token_encrypted"
        )
        if secret:
            revoked = _revoke_quietly(secret, user_key=agent_user_key(agent))
    token_delete(key=key)
    logger.info("agent %s signed out (revoked at RingCentral: %s)", agent.pk, revoked)
    return revoked


def agent_mark_needs_signin(*, agent: Agent) -> None:
    """The agent's refresh token is dead: flag them (banner, paused work), drop the token."""
    with transaction.atomic():
        Agent.objects.filter(pk=agent.pk).update(needs_signin=True)
        RingCentralToken.objects.filter(key=agent_token_key(agent)).delete()
    agent.needs_signin = True
    logger.warning("agent %s must sign in with RingCentral again", agent.pk)
    for receiver, result in agent_needs_signin.send_robust(sender=Agent, agent=agent):
        if isinstance(result, Exception):
            logger.error("agent_needs_signin receiver %r failed: %r", receiver, result)
