"""Template context for every page: the signed-in ``agent`` and the ``needs_signin`` banner."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def agent(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"agent": None, "needs_signin": False}
    # RelatedObjectDoesNotExist is an AttributeError: a user without an Agent (a local admin).
    current = getattr(user, "agent", None)
    return {"agent": current, "needs_signin": bool(current and current.needs_signin)}
