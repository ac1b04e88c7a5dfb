"""A "needs sign-in" agent reaches no data page until they sign in with RingCentral again.

Their sessions are ended when the flag is set (``agent_mark_needs_signin``); this catches any
request that still carries one (a session created in the same instant, a flag set by hand):
the session ends here too and the browser goes to the sign-in page.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse

from crm_cti.accounts.access import agent_for
from crm_cti.accounts.refusals import SESSION_ENDED

# Paths that serve no agent data: sign-in itself, static files, probes and the webhook.
OPEN_PREFIXES = ("/auth/", "/static/", "/healthz", "/webhooks/", "/favicon")


class NeedsSignInMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(OPEN_PREFIXES):
            agent = agent_for(getattr(request, "user", None))
            if agent is not None and agent.needs_signin:
                return self._send_to_signin(request)
        return self.get_response(request)

    @staticmethod
    def _send_to_signin(request: HttpRequest) -> HttpResponse:
        logout(request)
        if request.path.startswith("/api/"):
            return JsonResponse(
                {"error": "needs_signin", "message": SESSION_ENDED},
                status=401,
            )
        messages.warning(request, SESSION_ENDED)
        query = urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(f"{settings.LOGIN_URL}?{query}")
