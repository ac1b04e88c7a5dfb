"""OAuth 2.0 with RingCentral, built on requests-oauthlib's ``OAuth2Session``.

The authorization code flow with PKCE (S256) for agents, the refresh grant, revocation and
the JWT bearer grant for the service credential. Storing tokens and serialising refreshes
is the caller's business (``crm_cti.accounts``): this module only speaks the protocol and
turns every failure into a typed error.

Nothing here logs a token: requests-oauthlib logs whole token responses at DEBUG, so its
loggers are held at WARNING (``crm_cti.ringcentral.__init__``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from django.conf import settings
from oauthlib.oauth2 import Client, WebApplicationClient
from oauthlib.oauth2.rfc6749.parameters import prepare_token_request
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth2Session

from crm_cti.ringcentral import allow_plain_http_to_loopback
from crm_cti.ringcentral.budget import budget_observe, budget_take
from crm_cti.ringcentral.errors import (
    BadRequest,
    NeedsSignIn,
    PlatformUnavailable,
    RateLimited,
    RingCentralError,
    ServerError,
)
from crm_cti.ringcentral.http import error_from_response

logger = logging.getLogger(__name__)

AUTHORIZE_PATH = "/restapi/oauth/authorize"
TOKEN_PATH = "/restapi/oauth/token"
REVOKE_PATH = "/restapi/oauth/revoke"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@dataclass(frozen=True)
class TokenSet:
    """One token response. ``expires_at``/``refresh_expires_at`` are Unix times."""

    access_token: str = field(repr=False)
    expires_at: float
    refresh_token: str = field(default="", repr=False)
    refresh_expires_at: float | None = None
    scope: str = ""
    owner_id: str = ""
    endpoint_id: str = ""
    issued_at: float = 0.0

    @classmethod
    def from_response(cls, data: dict[str, Any], *, now: float | None = None) -> TokenSet:
        now = time.time() if now is None else now
        refresh_in = data.get("refresh_token_expires_in")
        scope = data.get("scope", "")
        if isinstance(scope, list):  # oauthlib turns the scope string into a list
            scope = " ".join(scope)
        return cls(
            access_token=data["access_token"],
            expires_at=now + float(data.get("expires_in") or 3600),
            refresh_token=data.get("refresh_token") or "",
            refresh_expires_at=now + float(refresh_in) if refresh_in else None,
            scope=scope,
            owner_id=str(data.get("owner_id") or ""),
            endpoint_id=str(data.get("endpoint_id") or ""),
            issued_at=now,
        )


@dataclass(frozen=True)
class AuthorizationRequest:
    """Where to send the browser, and what the callback needs to finish (keep it server-side)."""

    url: str
    state: str
    code_verifier: str = field(repr=False)


def _url(path: str) -> str:
    allow_plain_http_to_loopback(settings.RC_SERVER_URL)
    return settings.RC_SERVER_URL + path


def _basic_auth() -> HTTPBasicAuth:
    return HTTPBasicAuth(settings.RC_CLIENT_ID, settings.RC_CLIENT_SECRET)


def _raise_for_token_response(
    *, user_key: str | None, sent_at: float
) -> Callable[[requests.Response], requests.Response]:
    """A compliance hook: feed the budget, then turn any non-2xx into a typed error.

    It runs before oauthlib parses the body, so an error never reaches oauthlib (whose
    exceptions would carry the raw response) and a 429 keeps its ``Retry-After``.
    """

    def hook(response: requests.Response) -> requests.Response:
        if user_key:
            budget_observe(
                user_key=user_key,
                group="Auth",
                status=response.status_code,
                headers=response.headers,
                sent_at=sent_at,
            )
        if response.status_code >= 400:
            raise error_from_response(response, group="Auth")
        return response

    return hook


def _check_budget(user_key: str | None) -> float:
    if user_key:
        wait = budget_take(user_key=user_key, group="Auth")
        if wait > 0:
            raise RateLimited(retry_after=wait, group="Auth", sent=False)
    return time.time()


def _token_call(
    session: OAuth2Session,
    *,
    hook_type: str,
    user_key: str | None,
    call: Callable[[], dict[str, Any]],
) -> TokenSet:
    sent_at = _check_budget(user_key)
    session.register_compliance_hook(
        hook_type, _raise_for_token_response(user_key=user_key, sent_at=sent_at)
    )
    try:
        data = call()
    except RingCentralError:
        raise
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise PlatformUnavailable(
            f"RingCentral token endpoint unreachable: {type(exc).__name__}"
        ) from None
    except ValueError as exc:
        # oauthlib's complaints about a malformed token response (missing access_token...).
        raise ServerError(f"unusable token response: {type(exc).__name__}") from None
    return TokenSet.from_response(dict(data))


def authorization_request(*, redirect_uri: str, state: str | None = None) -> AuthorizationRequest:
    """Build the authorize URL (random ``state``, PKCE S256 challenge) for the browser."""
    client = WebApplicationClient(settings.RC_CLIENT_ID)
    code_verifier = client.create_code_verifier(64)
    challenge = client.create_code_challenge(code_verifier, "S256")
    session = OAuth2Session(client=client, redirect_uri=redirect_uri)
    # The browser's address of the platform (RC_AUTHORIZE_URL), which only differs from the
    # servers' one when they reach it by another name (docker-compose's sandbox).
    authorize_url = settings.RC_AUTHORIZE_URL or _url(AUTHORIZE_PATH)
    allow_plain_http_to_loopback(settings.RC_SERVER_URL)
    allow_plain_http_to_loopback(authorize_url)
    url, state = session.authorization_url(
        authorize_url, state=state, code_challenge=challenge,
        code_challenge_method="S256",
    )
    return AuthorizationRequest(url=url, state=state, code_verifier=code_verifier)


def exchange_code(*, code: str, redirect_uri: str, code_verifier: str) -> TokenSet:
    """Trade an authorization code for tokens.

    Raises ``BadRequest`` when the platform refuses the code (expired, reused, wrong
    verifier: its ``message`` says which), ``RateLimited``, ``ServerError`` or
    ``PlatformUnavailable``.
    """
    session = OAuth2Session(settings.RC_CLIENT_ID, redirect_uri=redirect_uri)
    return _token_call(
        session,
        hook_type="access_token_response",
        # Before the exchange nobody knows whose Auth bucket this is: no budget, but a 429
        # still comes back typed.
        user_key=None,
        call=lambda: session.fetch_token(
            _url(TOKEN_PATH),
            code=code,
            auth=_basic_auth(),
            code_verifier=code_verifier,
            timeout=settings.RC_TIMEOUT_SECONDS,
        ),
    )


def refresh_tokens(*, refresh_token: str, user_key: str) -> TokenSet:
    """Use (and so retire) ``refresh_token``.

    Raises ``NeedsSignIn`` when the platform refuses the refresh token for good (expired,
    revoked, already used); transient failures raise ``RateLimited``, ``ServerError`` or
    ``PlatformUnavailable`` and leave the stored token usable for a later attempt.
    """
    session = OAuth2Session(settings.RC_CLIENT_ID)
    try:
        return _token_call(
            session,
            hook_type="refresh_token_response",
            user_key=user_key,
            call=lambda: session.refresh_token(
                _url(TOKEN_PATH),
                refresh_token=refresh_token,
                auth=_basic_auth(),
                timeout=settings.RC_TIMEOUT_SECONDS,
            ),
        )
    except (BadRequest, NeedsSignIn) as exc:
        # 400 invalid_grant / 401: the refresh token is dead. Nothing but a new sign-in helps.
        raise NeedsSignIn(
            exc.message, status=exc.status, error_code=exc.error_code, body=exc.body
        ) from None


class JWTBearerClient(Client):
    """oauthlib client for RFC 7523 (``grant_type=urn:...:jwt-bearer``, ``assertion=<jwt>``)."""

    grant_type = JWT_BEARER_GRANT

    def prepare_request_body(  # type: ignore[override]
        self, body: str = "", assertion: str = "", include_client_id: bool = False, **kwargs: Any
    ) -> str:
        kwargs.pop("code", None)
        kwargs.pop("redirect_uri", None)
        return prepare_token_request(
            self.grant_type,
            body=body,
            assertion=assertion,
            include_client_id=include_client_id,
            **kwargs,
        )


def jwt_bearer_tokens(*, assertion: str, user_key: str | None = None) -> TokenSet:
    """The JWT bearer grant for the service credential (``RC_JWT``).

    A refused JWT (revoked, expired, wrong app) raises ``NeedsSignIn``.
    """
    session = OAuth2Session(client=JWTBearerClient(settings.RC_CLIENT_ID))
    try:
        return _token_call(
            session,
            hook_type="access_token_response",
            user_key=user_key,
            call=lambda: session.fetch_token(
                _url(TOKEN_PATH),
                assertion=assertion,
                auth=_basic_auth(),
                timeout=settings.RC_TIMEOUT_SECONDS,
            ),
        )
    except (BadRequest, NeedsSignIn) as exc:
        raise NeedsSignIn(
            f"the service credential (RC_JWT) was refused: {exc.message}",
            status=exc.status,
            error_code=exc.error_code,
        ) from None


def revoke_token(*, token: str, user_key: str | None) -> None:
    """Revoke ``token`` (access or refresh: RingCentral ends the whole session either way).

    An already invalid token counts as revoked. Raises ``RateLimited``, ``ServerError`` or
    ``PlatformUnavailable`` when the platform could not be told.
    """
    sent_at = _check_budget(user_key)
    session = OAuth2Session(settings.RC_CLIENT_ID)
    try:
        response = session.post(
            _url(REVOKE_PATH),
            data={"token": token},
            auth=_basic_auth(),
            timeout=settings.RC_TIMEOUT_SECONDS,
            withhold_token=True,
            headers={"Accept": "application/json"},
        )
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise PlatformUnavailable(
            f"RingCentral revoke endpoint unreachable: {type(exc).__name__}"
        ) from None
    if user_key:
        budget_observe(
            user_key=user_key,
            group="Auth",
            status=response.status_code,
            headers=response.headers,
            sent_at=sent_at,
        )
    if response.status_code < 400:
        return
    error = error_from_response(response, group="Auth")
    if isinstance(error, BadRequest | NeedsSignIn):
        logger.info("revoke: the platform no longer knows the token (%s)", error.error_code)
        return
    raise error
