"""Stored RingCentral tokens: encrypted rows, refreshed once under a shared lock.

Refresh tokens are single-use: when N requests in M processes find the access token
expired at once, exactly one of them may refresh. Each caller notes the token it found
stale, takes the lock (``crm_cti.accounts.locks.shared_lock``) and re-reads the row: if the
token changed meanwhile, somebody else refreshed and the caller simply uses the new one.

The row is written (and committed) before the lock is released, so never call this inside
an outer ``transaction.atomic`` block: the new token would stay invisible to the other
processes until that block commits, and they would spend the retired refresh token.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from crm_cti.accounts.crypto import InvalidToken, decrypt_token, encrypt_token
from crm_cti.accounts.locks import shared_lock
from crm_cti.accounts.models import Agent, RingCentralToken
from crm_cti.ringcentral.errors import NeedsSignIn, RingCentralError
from crm_cti.ringcentral.oauth import TokenSet, refresh_tokens

logger = logging.getLogger(__name__)


class TokenUnreadable(RingCentralError):
    """A stored token that ``TOKEN_ENCRYPTION_KEY`` cannot open: a configuration error.

    The process runs with another key than the one that encrypted the token (each process of
    a deployment generated its own, or the key was replaced without keeping the old one in
    the list). The token is still good for a process with the right key, so it is never
    deleted and the agent is not sent to sign in again; callers treat it as a failure of
    this request (it is a ``RingCentralError``) until the configuration is fixed.
    """


def agent_token_key(agent: Agent) -> str:
    return f"agent:{agent.rc_extension_id}"


def agent_user_key(agent: Agent) -> str:
    """The budget key of an agent: RingCentral counts requests per user (extension)."""
    return f"ext:{agent.rc_extension_id}"


def service_token_key(jwt: str) -> str:
    # A new RC_JWT gets a new row: the old credential's tokens are not reused.
    return "service:" + hashlib.sha256(jwt.encode()).hexdigest()[:24]


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def token_save(*, key: str, tokens: TokenSet, agent: Agent | None = None) -> RingCentralToken:
    """Store ``tokens`` under ``key`` (encrypted), replacing what was there."""
    values = {
        "agent": agent,
        "access_token_encrypted": encrypt_token(tokens.access_token),
        "refresh_token_encrypted": encrypt_token(tokens.refresh_token)
        if tokens.refresh_token
        else "",
        "access_expires_at": _dt(tokens.expires_at),
        "refresh_expires_at": _dt(tokens.refresh_expires_at)
        if tokens.refresh_expires_at
        else None,
        "issued_at": _dt(tokens.issued_at),
        "scope": tokens.scope,
        "owner_id": tokens.owner_id,
    }
    with transaction.atomic():
        row, created = RingCentralToken.objects.select_for_update().get_or_create(
            key=key, defaults=values
        )
        if not created:
            for name, value in values.items():
                setattr(row, name, value)
            row.refresh_count += 1
            row.save()
    return row


def token_delete(*, key: str) -> None:
    RingCentralToken.objects.filter(key=key).delete()


def token_row(key: str) -> RingCentralToken | None:
    return RingCentralToken.objects.filter(key=key).first()


def token_decrypt(row: RingCentralToken, field: str) -> str | None:
    """The clear text of ``row.<field>`` (None when empty); ``TokenUnreadable`` when the
    configured key cannot open it."""
    value = getattr(row, field)
    if not value:
        return None
    try:
        return decrypt_token(value)
    except InvalidToken:
        logger.error(
            "CONFIGURATION ERROR: stored RingCentral token %s cannot be decrypted: this "
            "process's TOKEN_ENCRYPTION_KEY differs from the key that encrypted it. Give web, "
            "worker and beat the same TOKEN_ENCRYPTION_KEY (keep an old key after the new one "
            "to rotate). The token is kept.",
            row.key,
        )
        raise TokenUnreadable(
            f"stored token {row.key} cannot be decrypted with TOKEN_ENCRYPTION_KEY"
        ) from None


def refresh_margin(row: RingCentralToken) -> timedelta:
    """How long before expiry to refresh: the setting, but at most a tenth of the lifetime."""
    lifetime = (row.access_expires_at - row.issued_at).total_seconds()
    return timedelta(seconds=max(min(settings.RC_TOKEN_REFRESH_MARGIN_SECONDS, lifetime / 10), 0))


class StoredTokenSource:
    """The ``TokenSource`` behind ``client_for_agent`` and ``service_client``.

    ``on_dead`` runs (under the lock) when the refresh token is refused for good; for the
    service credential ``regrant`` obtains a fresh token instead (JWT bearer grant).
    """

    def __init__(
        self,
        *,
        key: str,
        user_key: str,
        on_dead: Callable[[], None],
        regrant: Callable[[], TokenSet] | None = None,
        agent: Agent | None = None,
    ) -> None:
        self.key = key
        self._user_key = user_key
        self._on_dead = on_dead
        self._regrant = regrant
        self._agent = agent

    def __repr__(self) -> str:
        return f"StoredTokenSource(key={self.key!r})"

    @property
    def user_key(self) -> str:
        return self._user_key

    @staticmethod
    def _decrypt(row: RingCentralToken, field: str) -> str | None:
        return token_decrypt(row, field)

    def access_token(self) -> str:
        row = token_row(self.key)
        if row is None:
            if self._regrant is None:
                raise NeedsSignIn("no RingCentral token stored: sign in with RingCentral")
            return self._refresh(stale=None)
        token = self._decrypt(row, "access_token_encrypted")
        if token is not None and timezone.now() < row.access_expires_at - refresh_margin(row):
            return token
        return self._refresh(stale=token)

    def after_unauthorized(self, rejected: str) -> str:
        return self._refresh(stale=rejected)

    def _refresh(self, *, stale: str | None) -> str:
        with shared_lock(f"rc-token:{self.key}"):
            row = token_row(self.key)
            if row is not None:
                current = self._decrypt(row, "access_token_encrypted")
                fresh = timezone.now() < row.access_expires_at
                if current is not None and current != stale and fresh:
                    # Another thread or process refreshed while we waited for the lock.
                    return current
            refresh = self._decrypt(row, "refresh_token_encrypted") if row is not None else None
            refresh_alive = bool(refresh) and (
                row is not None
                and (row.refresh_expires_at is None or timezone.now() < row.refresh_expires_at)
            )
            if refresh_alive:
                try:
                    tokens = refresh_tokens(refresh_token=refresh or "", user_key=self.user_key)
                except NeedsSignIn as exc:
                    logger.info("refresh token of %s refused (%s)", self.key, exc.error_code)
                    if self._regrant is None:
                        self._on_dead()
                        raise
                    tokens = self._regrant()
            elif self._regrant is not None:
                tokens = self._regrant()
            else:
                logger.info("refresh token of %s expired", self.key)
                self._on_dead()
                raise NeedsSignIn("the RingCentral session expired: sign in again")
            token_save(key=self.key, tokens=tokens, agent=self._agent)
            logger.info("refreshed RingCentral token %s", self.key)
            return tokens.access_token
