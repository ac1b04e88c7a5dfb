"""Template context for every page: the signed-in ``agent`` and the ``needs_signin`` banner."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from crm_cti.accounts.access import agent_for


def agent(request: HttpRequest) -> dict[str, Any]:
    current = agent_for(getattr(request, "user", None))
    return {"agent": current, "needs_signin": bool(current and current.needs_signin)}
