"""Sign-in with RingCentral (authorization code + PKCE) and sign-out: HTTP only.

The pending sign-in (state → PKCE verifier, ``next``) lives in the Django session, so a
callback is accepted only in the browser that started it, once, and within
``RC_SIGNIN_MAX_AGE_SECONDS``.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm_cti.accounts.access import agent_for
from crm_cti.accounts.refusals import refusal_for
from crm_cti.accounts.services import SignInRefused, agent_sign_out, signin_complete
from crm_cti.ringcentral.errors import (
    BadRequest,
    NeedsSignIn,
    PermissionDenied,
    PlatformUnavailable,
    RateLimited,
    RingCentralError,
    ServerError,
)
from crm_cti.ringcentral.oauth import authorization_request

logger = logging.getLogger(__name__)

PENDING_KEY = "rc_signin_pending"
# Several tabs may start a sign-in; keep a few, drop the oldest.
MAX_PENDING = 5


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return settings.LOGIN_REDIRECT_URL


def _start_url(next_url: str) -> str:
    return reverse("accounts:start") + "?" + urlencode({"next": next_url})


def _error_page(
    request: HttpRequest,
    *,
    title: str,
    message: str,
    status: int,
    next_url: str = "",
    detail: str = "",
) -> HttpResponse:
    context: dict[str, Any] = {
        "title": title,
        "message": message,
        "detail": detail,
        "try_again_url": _start_url(next_url or settings.LOGIN_REDIRECT_URL),
    }
    return render(request, "accounts/signin_error.html", context, status=status)


@require_GET
def signin(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request, request.GET.get("next"))
    agent = agent_for(request.user)
    if agent is not None and not agent.needs_signin:
        return redirect(next_url)
    return render(request, "accounts/signin.html", {"next": next_url})


@require_http_methods(["GET", "POST"])
def signin_start(request: HttpRequest) -> HttpResponse:
    """Remember state + PKCE verifier in the session and send the browser to RingCentral."""
    source = request.POST if request.method == "POST" else request.GET
    next_url = _safe_next(request, source.get("next"))
    auth = authorization_request(redirect_uri=settings.RC_REDIRECT_URI)
    now = time.time()
    pending = {
        state: entry
        for state, entry in (request.session.get(PENDING_KEY) or {}).items()
        if now - entry.get("t", 0) < settings.RC_SIGNIN_MAX_AGE_SECONDS
    }
    pending[auth.state] = {"v": auth.code_verifier, "next": next_url, "t": now}
    newest = sorted(pending.items(), key=lambda item: item[1]["t"])[-MAX_PENDING:]
    request.session[PENDING_KEY] = dict(newest)
    return HttpResponseRedirect(auth.url)


def _pop_pending(request: HttpRequest, state: str) -> dict[str, Any] | None:
    pending = dict(request.session.get(PENDING_KEY) or {})
    entry = pending.pop(state, None) if state else None
    request.session[PENDING_KEY] = pending
    if entry is None or time.time() - entry.get("t", 0) >= settings.RC_SIGNIN_MAX_AGE_SECONDS:
        return None
    return entry


def _invalid_link(request: HttpRequest) -> HttpResponse:
    return _error_page(
        request,
        title="This sign-in link is not valid",
        message="The sign-in did not start in this browser, was already completed, or took "
        "too long. Nothing was changed.",
        status=400,
    )


_REFUSED_TITLES = {
    "other_account": "This RingCentral account cannot use crm_cti",
    "no_account_configured": "Sign-in is not set up yet",
    "deactivated": "Your crm_cti account is deactivated",
}
_REFUSED_HINTS = {
    "other_account": "crm_cti here serves one company's RingCentral account only. Sign in "
    "with a user of that account (in RingCentral, sign out first if the browser remembers "
    "another user). Nothing was saved.",
    "no_account_configured": "An administrator must set RC_ACCOUNT_ID to the RingCentral "
    "account whose users may sign in. Nothing was saved.",
    "deactivated": "An administrator of crm_cti turned your access off. Ask them to "
    "reactivate it. Nothing was changed.",
}


# The page's title per kind of refusal; its words are crm_cti.accounts.refusals'.
_PLATFORM_TITLES: dict[type[RingCentralError], str] = {
    RateLimited: "RingCentral is busy",
    PlatformUnavailable: "RingCentral cannot be reached",
    ServerError: "RingCentral cannot be reached",
    PermissionDenied: "Missing RingCentral permission",
}


@require_GET
def signin_callback(request: HttpRequest) -> HttpResponse:
    entry = _pop_pending(request, request.GET.get("state", ""))
    if entry is None:
        # Whatever else the link says (an error and its description included) came from
        # whoever made it, not from a sign-in this browser started: show none of it.
        return _invalid_link(request)
    next_url = entry["next"]
    error = request.GET.get("error")
    if error:
        if error == "access_denied":
            return _error_page(
                request,
                title="Sign-in cancelled",
                message="You declined to let crm_cti use your RingCentral account, so you are "
                "not signed in.",
                status=403,
                next_url=next_url,
            )
        return _error_page(
            request,
            title="RingCentral did not sign you in",
            message="RingCentral refused the sign-in.",
            detail=request.GET.get("error_description", error)[:300],
            status=400,
            next_url=next_url,
        )
    code = request.GET.get("code", "")
    if not code:
        return _error_page(
            request,
            title="RingCentral did not sign you in",
            message="The answer from RingCentral had no authorization code.",
            status=400,
            next_url=next_url,
        )
    try:
        agent, _ = signin_complete(
            code=code, code_verifier=entry["v"], redirect_uri=settings.RC_REDIRECT_URI
        )
    except SignInRefused as exc:
        return _error_page(
            request,
            title=_REFUSED_TITLES.get(exc.reason, "Sign-in refused"),
            message=exc.message + " " + _REFUSED_HINTS.get(exc.reason, ""),
            status=403,
            next_url=next_url,
        )
    except (BadRequest, NeedsSignIn) as exc:
        # At the callback these say the code itself was refused, not that a session ended.
        return _error_page(
            request,
            title="This sign-in has expired",
            message="RingCentral did not accept the sign-in: the code expired or was already "
            "used. Nothing was saved.",
            detail=exc.message,
            status=400,
            next_url=next_url,
        )
    except RingCentralError as exc:
        detail = ""
        if isinstance(exc, PlatformUnavailable | ServerError):
            logger.warning("sign-in: RingCentral unavailable: %s", exc)
            detail = exc.message
        elif isinstance(exc, PermissionDenied):
            detail = exc.permission_name
        refusal = refusal_for(exc)
        return _error_page(
            request,
            title=_PLATFORM_TITLES.get(type(exc), "Sign-in failed"),
            message=f"{refusal.message} Nothing was saved.",
            detail=detail,
            status=refusal.status,
            next_url=next_url,
        )
    login(request, agent.user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect(next_url)


@require_POST
def signout(request: HttpRequest) -> HttpResponse:
    """Sign out everywhere: the token is revoked and every session and socket of the user
    ends, in every browser (``agent_sign_out``)."""
    agent = agent_for(request.user)
    if agent is not None:
        agent_sign_out(agent=agent)
    logout(request)
    messages.info(request, "You are signed out.")
    return redirect("accounts:signin")
