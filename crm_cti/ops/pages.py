"""The operations page at /ops/ (admins only)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from crm_cti.accounts.access import is_admin
from crm_cti.ops.health import run_checks
from crm_cti.ops.selectors import (
    activity_per_minute,
    agents_with_tokens,
    agents_without_subscription,
    chart_bars,
    event_connections,
    failed_events,
    pop_receipts,
    queue_depth,
    rate_budget,
    recent_errors,
    subscription_health,
)


@login_required
def operations(request: HttpRequest) -> HttpResponse:
    if not is_admin(request.user):
        raise PermissionDenied("The operations page is for admins.")
    agents = agents_with_tokens()
    series = activity_per_minute(minutes=60)
    receipts = pop_receipts()
    return render(
        request,
        "ops/operations.html",
        {
            "subscriptions": subscription_health(),
            "transport": settings.RC_EVENTS_TRANSPORT,
            "connections": event_connections(),
            "unsubscribed": agents_without_subscription(),
            "failed_events": failed_events(),
            "max_attempts": settings.EVENT_MAX_ATTEMPTS,
            "agents": agents,
            "budget": rate_budget(agents=[row["agent"] for row in agents]),
            "queues": queue_depth(),
            "errors": recent_errors(),
            "chart": chart_bars(series),
            "receipts": receipts,
            "receipts_rows": [("last hour", receipts["hour"]), ("last day", receipts["day"])]
            if receipts else [],
            # /healthz says only ok or failed to the public; why is shown here.
            "health": run_checks(),
        },
    )
