"""Agents and their RingCentral credentials: sign-in, clients, sign-out.

Public entry points:

- ``client_for_agent(agent)``: a ``RingCentralClient`` with the agent's token, refreshed
  under the shared lock. Raises ``NeedsSignIn`` at once, without any network I/O, when the
  agent must sign in again: background work catches it and stops for that agent.
- ``service_client()``: a client for account-level work with the ``RC_JWT`` service
  credential, or ``None`` when no JWT is configured.
- ``signin_complete(...)``: the callback's work (code → tokens → extension → Agent). Raises
  ``SignInRefused`` for a user of another account or one an admin deactivated here.
- ``agent_sign_out(agent=...)`` and ``agent_mark_needs_signin(agent=...)``: both end every
  session and socket of the agent's user (``crm_cti.accounts.sessions``).

Never call these inside ``transaction.atomic``: token refreshes commit under a lock (see
``crm_cti.accounts.tokens``).
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from crm_cti.accounts.admin_access import extension_is_admin, user_admin_access_set
from crm_cti.accounts.models import Agent, RingCentralToken
from crm_cti.accounts.sessions import user_sessions_end
from crm_cti.accounts.signals import agent_needs_signin, agent_signed_in, agent_signing_out
from crm_cti.accounts.tokens import (
    StoredTokenSource,
    TokenUnreadable,
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


class SignInRefused(Exception):
    """RingCentral signed the user in, but crm_cti does not let them in (nothing is stored).

    ``reason``: ``"other_account"`` (their extension belongs to another account than
    ``RC_ACCOUNT_ID``), ``"no_account_configured"`` (``RC_ACCOUNT_ID`` unset with ``DEBUG``
    off) or ``"deactivated"`` (an admin deactivated the user here).
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def signin_account_check(extension: dict[str, Any]) -> None:
    """Only users of ``RC_ACCOUNT_ID`` get in; without it only a DEBUG trial lets anyone in."""
    account = extension.get("account")
    account_id = str((account.get("id") if isinstance(account, dict) else "") or "")
    expected = settings.RC_ACCOUNT_ID
    if not expected:
        if not settings.DEBUG:
            raise SignInRefused(
                "no_account_configured",
                "RC_ACCOUNT_ID is not set: crm_cti does not know which RingCentral account "
                "may sign in.",
            )
        logger.warning("RC_ACCOUNT_ID is not set: letting account %s in (DEBUG)", account_id)
        return
    if account_id != expected:
        logger.warning(
            "sign-in refused: extension %s belongs to account %s, not %s",
            extension.get("id"), account_id, expected,
        )
        raise SignInRefused(
            "other_account", "Your RingCentral user belongs to another company's account."
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

    agent = (
        Agent.objects.select_for_update().select_related("user")
        .filter(rc_extension_id=extension_id).first()
    )
    first_time = agent is None
    if agent is None:
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(username=f"rc-{extension_id}")
        if created:
            user.set_unusable_password()
        agent = Agent(user=user, rc_extension_id=extension_id)
    user = agent.user
    # Deactivation is an admin's decision here: RingCentral signing the user in undoes nothing.
    if not user.is_active:
        raise SignInRefused("deactivated", "An administrator deactivated your crm_cti account.")
    user.first_name, user.last_name, user.email = first_name, last_name, email
    user.save()

    agent.rc_account_id = account_id
    agent.extension_number = str(extension.get("extensionNumber") or "")
    agent.name = name
    agent.email = email
    agent.phone_numbers = phone_numbers
    agent.rc_admin = extension_is_admin(extension)
    # An admin's decision here (demoted, or promoted) outlives what RingCentral says.
    agent.is_admin = agent.rc_admin if agent.admin_override is None else agent.admin_override
    agent.needs_signin = False
    agent.save()
    user_admin_access_set(user=user, admin=agent.is_admin)
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

    Raises the typed errors of the exchange or of the reads, or ``SignInRefused``; in that
    case nothing is stored (and a token already obtained is revoked), so a retry starts clean.
    """
    tokens = exchange_code(code=code, redirect_uri=redirect_uri, code_verifier=code_verifier)
    user_key = f"ext:{tokens.owner_id}" if tokens.owner_id else ""
    client = RingCentralClient(StaticToken(tokens.access_token, user_key=user_key))
    try:
        extension = client.get_extension()
        # Before anything is created: a user of another account leaves no trace here.
        signin_account_check(extension)
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
    """Revoke the agent's token at RingCentral, delete it here, and end every session and
    socket of the agent's user (in every browser). Returns whether RingCentral confirmed the
    revocation (a local sign-out happens either way)."""
    for receiver, result in agent_signing_out.send_robust(sender=Agent, agent=agent):
        if isinstance(result, Exception):
            logger.error("agent_signing_out receiver %r failed: %r", receiver, result)
    key = agent_token_key(agent)
    revoked = False
    row = token_row(key)
    if row is not None:
        # The refresh token outlives the access token; revoking it ends the whole session.
        try:
            secret = token_decrypt(row, "refresh_token_encrypted") or token_decrypt(
                row, "access_token_encrypted"
            )
        except TokenUnreadable:
            # Logged loudly by token_decrypt; the user asked to sign out, so they are.
            secret = None
        if secret:
            revoked = _revoke_quietly(secret, user_key=agent_user_key(agent))
    token_delete(key=key)
    user_sessions_end(user_id=agent.user_id)
    logger.info("agent %s signed out (revoked at RingCentral: %s)", agent.pk, revoked)
    return revoked


def agent_mark_needs_signin(*, agent: Agent) -> None:
    """The agent's refresh token is dead: flag them (paused work, no data page until they
    sign in again), drop the token, and end their sessions and sockets everywhere."""
    with transaction.atomic():
        Agent.objects.filter(pk=agent.pk).update(needs_signin=True)
        RingCentralToken.objects.filter(key=agent_token_key(agent)).delete()
    agent.needs_signin = True
    user_sessions_end(user_id=agent.user_id)
    logger.warning("agent %s must sign in with RingCentral again", agent.pk)
    for receiver, result in agent_needs_signin.send_robust(sender=Agent, agent=agent):
        if isinstance(result, Exception):
            logger.error("agent_needs_signin receiver %r failed: %r", receiver, result)


def agent_deactivate(*, agent: Agent) -> None:
    """An admin's decision: the user can no longer sign in (a RingCentral sign-in is refused),
    and they are signed out now: token revoked, every session and socket ended, their
    background work stopped (``agent_signing_out``)."""
    user = agent.user
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
    agent_sign_out(agent=agent)
    logger.info("agent %s deactivated", agent.pk)


def agent_reactivate(*, agent: Agent) -> None:
    user = agent.user
    if not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
    logger.info("agent %s reactivated", agent.pk)


def agent_admin_override_set(*, agent: Agent, admin: bool | None) -> None:
    """An admin decides here whether ``agent`` administers crm_cti (None: RingCentral does);
    every later sign-in keeps the decision."""
    agent.admin_override = admin
    agent.is_admin = agent.rc_admin if admin is None else admin
    agent.save(update_fields=["admin_override", "is_admin", "updated_at"])
    user_admin_access_set(user=agent.user, admin=agent.is_admin)
