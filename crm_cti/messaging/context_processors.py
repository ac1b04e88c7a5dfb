"""Every page's nav shows how many follow-ups are open for the user (one COUNT query)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from crm_cti.messaging.selectors import followups_open_count


def followups(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"followups_open": followups_open_count(user)}
