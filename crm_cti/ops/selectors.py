"""What the operations page shows: subscriptions, agents' tokens, rate budget, queues,
recent errors and a per-minute activity series. Read-only; each query is cheap."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Q
from django.db.models.functions import TruncMinute
from django.utils import timezone

from crm_cti.accounts.models import Agent
from crm_cti.accounts.tokens import agent_user_key
from crm_cti.redis_client import redis_client
from crm_cti.ringcentral.budget import GROUPS, budget_usage
from crm_cti.telephony.models import Call, EventConnection, Subscription, TelephonyEvent

logger = logging.getLogger(__name__)

# A subscription closer than this to expiry is flagged (renewal runs well before).
EXPIRY_WARNING = timedelta(hours=1)


@dataclass(frozen=True)
class SubscriptionHealth:
    subscription: Subscription
    ok: bool
    problem: str


def subscription_health(*, now: datetime | None = None) -> list[SubscriptionHealth]:
    now = now or timezone.now()
    rows = []
    for sub in Subscription.objects.select_related("agent").order_by(
        "mode", "agent__extension_number"
    ):
        problem = ""
        if not sub.rc_id:
            # Recreating: the last try failed (last_error says why); beat tries again.
            problem = "being created" if not sub.status else f"status {sub.status}"
        elif sub.status and sub.status != "Active":
            problem = f"status {sub.status}"
        elif sub.expires_at and sub.expires_at <= now:
            problem = "expired"
        elif sub.expires_at and sub.expires_at - now < EXPIRY_WARNING:
            problem = "expires soon"
        if sub.last_error and not problem:
            problem = "last request failed"
        rows.append(SubscriptionHealth(sub, ok=not problem, problem=problem))
    return rows


def event_connections() -> list[dict[str, Any]]:
    """The WebSocket transport's connection per owner (the account, or each agent):
    connected since, last notification, recoveries and failed ones, the last reconcile."""
    rows = []
    for row in EventConnection.objects.select_related("agent").order_by("owner"):
        rows.append({
            "owner": row.agent if row.agent is not None else "Account",
            "transport": "WebSocket",
            "row": row,
            "ok": row.connected_since is not None,
        })
    return rows


def _connection_problems(agents: list[Agent]) -> list[dict[str, Any]]:
    """Over the WebSocket transport: signed-in agents whose owner has no open connection."""
    from crm_cti.telephony.services.subscriptions import account_mode_wanted

    rows = {row.owner: row for row in EventConnection.objects.all()}

    def problem_of(owner: str) -> str:
        row = rows.get(owner)
        if row is None:
            return "no WebSocket connection yet (is the events process running?)"
        if row.connected_since is None:
            return f"WebSocket disconnected{': ' + row.last_error if row.last_error else ''}"
        return ""

    if account_mode_wanted():
        problem = problem_of("account")
        return [{"agent": a, "problem": f"account {problem}"} for a in agents] if problem else []
    found = [{"agent": a, "problem": problem_of(f"agent:{a.pk}")} for a in agents]
    return [row for row in found if row["problem"]]


def agents_without_subscription(*, now: datetime | None = None) -> list[dict[str, Any]]:
    """Signed-in agents whose pops cannot arrive: their subscription is missing, not Active
    (Recreating, Blacklisted, ...) or expired — or, in account mode, the account one is."""
    from crm_cti.telephony.services.subscriptions import account_mode_wanted, agents_signed_in

    now = now or timezone.now()

    def problem_of(sub: Subscription | None) -> str:
        if sub is None:
            return "no subscription"
        if not sub.rc_id:
            problem = "being created" if not sub.status else f"status {sub.status}"
        elif sub.status != "Active":
            problem = f"status {sub.status or 'unknown'}"
        elif sub.expires_at is not None and sub.expires_at <= now:
            problem = "expired"
        else:
            return ""
        return f"{problem}: {sub.last_error}" if sub.last_error else problem

    agents = list(agents_signed_in().select_related("user").order_by("extension_number"))
    if settings.RC_EVENTS_TRANSPORT == "websocket":
        return _connection_problems(agents)
    if account_mode_wanted():
        account = Subscription.objects.filter(mode=Subscription.Mode.ACCOUNT).first()
        problem = problem_of(account)
        if not problem:
            return []
        return [{"agent": agent, "problem": f"account subscription {problem}"}
                for agent in agents]
    subs = {sub.agent_id: sub for sub in Subscription.objects.filter(agent__in=agents)}
    rows = []
    for agent in agents:
        problem = problem_of(subs.get(agent.pk))
        if problem:
            rows.append({"agent": agent, "problem": problem})
    return rows


def failed_events(*, limit: int = 20) -> dict[str, Any]:
    """Events given up on (outcome failed), newest first, with how many there are."""
    failed = TelephonyEvent.objects.filter(outcome=TelephonyEvent.Outcome.FAILED)
    return {
        "count": failed.count(),
        "recent": list(
            failed.order_by("-received_at").only(
                "uuid", "rc_extension_id", "sequence", "received_at", "error", "attempts"
            )[:limit]
        ),
    }


def agents_with_tokens() -> list[dict[str, Any]]:
    """Each agent with their token state: ok / refresh due / needs sign-in / none."""
    now = timezone.now()
    rows = []
    for agent in Agent.objects.select_related("rc_token", "user").order_by("extension_number"):
        token = getattr(agent, "rc_token", None)
        if agent.needs_signin:
            status, ok = "needs sign-in", False
        elif token is None:
            status, ok = "no token", False
        elif token.refresh_expires_at and token.refresh_expires_at <= now:
            status, ok = "refresh token expired", False
        elif token.access_expires_at <= now:
            status, ok = "access token expired (refreshed on next use)", True
        else:
            status, ok = "ok", True
        rows.append(
            {
                "agent": agent,
                "status": status,
                "ok": ok,
                "access_expires_at": token.access_expires_at if token else None,
                "refresh_expires_at": token.refresh_expires_at if token else None,
                "refresh_count": token.refresh_count if token else 0,
            }
        )
    return rows


def rate_budget(*, agents: list[Agent]) -> list[dict[str, Any]]:
    """Per agent and throttling group: requests used of the limit in the current window, and
    seconds until the next may be sent (a spent window or a 429 penalty)."""
    rows = []
    for agent in agents:
        cells = []
        for group in GROUPS:
            try:
                usage = budget_usage(user_key=agent_user_key(agent), group=group)
            except Exception as exc:  # the page must render even when Redis is down
                logger.warning("budget read failed: %s", exc)
                usage = None
            cells.append((group, usage))
        rows.append({"agent": agent, "groups": cells})
    return rows


def queue_depth() -> dict[str, Any]:
    """Tasks waiting in the broker and events on the applier stream (distributed mode), and
    events not yet applied."""
    unprocessed = TelephonyEvent.objects.filter(processed_at__isnull=True).count()
    pending_enrichment = Call.objects.filter(enrichment=Call.Enrichment.PENDING).count()
    broker: int | None = None
    rest_broker: int | None = None
    broker_error = ""
    if settings.REDIS_URL:
        try:
            client = redis_client()
            # With Redis as the broker, a Celery queue is a Redis list of that name.
            broker = int(client.llen(settings.CELERY_TASK_DEFAULT_QUEUE))
            rest_broker = int(client.llen(settings.CELERY_REST_QUEUE))
        except Exception as exc:
            broker_error = f"{type(exc).__name__}: {exc}"
    from crm_cti.telephony.stream import stream_backlog

    return {
        "broker": broker,
        # REST work (enrichment, polling) waits on its own queue (settings.CELERY_REST_QUEUE).
        "rest_broker": rest_broker,
        "broker_error": broker_error,
        # Announced events no applier has read yet / read but not yet acknowledged.
        "stream": stream_backlog(),
        "unprocessed_events": unprocessed,
        "pending_enrichment": pending_enrichment,
        "mode": settings.RUN_MODE,
    }


def recent_errors(*, limit: int = 20) -> list[dict[str, Any]]:
    """Newest problems from events, subscriptions and enrichment, newest first."""
    items: list[dict[str, Any]] = []
    for event in TelephonyEvent.objects.filter(
        Q(outcome=TelephonyEvent.Outcome.FAILED) | ~Q(error="")
    ).order_by("-received_at")[:limit]:
        items.append(
            {"at": event.received_at, "source": f"event {event.uuid}", "text": event.error}
        )
    for sub in Subscription.objects.exclude(last_error="").order_by("-updated_at")[:limit]:
        items.append(
            {"at": sub.updated_at, "source": f"subscription {sub}", "text": sub.last_error}
        )
    for call in Call.objects.filter(enrichment=Call.Enrichment.GAVE_UP).order_by("-updated_at")[
        :limit
    ]:
        items.append(
            {
                "at": call.updated_at,
                "source": f"call {call.session_id}",
                "text": "the call log never showed this call",
            }
        )
    items.sort(key=lambda i: i["at"], reverse=True)
    return items[:limit]


def activity_per_minute(*, minutes: int = 60, now: datetime | None = None) -> list[dict[str, Any]]:
    """Events received and pops (calls first seen) per minute over the last ``minutes``."""
    now = (now or timezone.now()).replace(second=0, microsecond=0)
    start = now - timedelta(minutes=minutes - 1)
    events = dict(
        TelephonyEvent.objects.filter(received_at__gte=start)
        .annotate(minute=TruncMinute("received_at"))
        .values_list("minute")
        .annotate(n=Count("id"))
        .values_list("minute", "n")
    )
    # A pop is a call the tracker created from presence events (it has a sequence); rows
    # created by the call-log import never popped.
    pops = dict(
        Call.objects.filter(created_at__gte=start, last_sequence__gt=0)
        .annotate(minute=TruncMinute("created_at"))
        .values_list("minute")
        .annotate(n=Count("id"))
        .values_list("minute", "n")
    )
    series = []
    for i in range(minutes):
        minute = start + timedelta(minutes=i)
        series.append(
            {"minute": minute, "events": events.get(minute, 0), "pops": pops.get(minute, 0)}
        )
    return series


def chart_bars(
    series: list[dict[str, Any]], *, width: int = 720, height: int = 160
) -> dict[str, Any]:
    """Geometry for an inline SVG bar chart (two bars per minute), so no JS library is needed."""
    peak = max([1] + [max(p["events"], p["pops"]) for p in series])
    slot = width / max(len(series), 1)
    bar = max(slot / 2 - 1, 1)
    bars = []
    for i, point in enumerate(series):
        x = i * slot
        for offset, key in ((0, "events"), (bar, "pops")):
            h = round(height * point[key] / peak, 1)
            bars.append(
                {
                    "x": round(x + offset, 1),
                    "y": round(height - h, 1),
                    "w": round(bar, 1),
                    "h": h,
                    "cls": f"bar-{key}",
                    "title": f"{point['minute']:%H:%M} {key}: {point[key]}",
                }
            )
    return {
        "width": width,
        "height": height,
        "bars": bars,
        "peak": peak,
        "first": series[0]["minute"] if series else None,
        "last": series[-1]["minute"] if series else None,
        "total_events": sum(p["events"] for p in series),
        "total_pops": sum(p["pops"] for p in series),
    }


def pop_receipts() -> dict[str, Any] | None:
    """Event → render as agents' browsers reported it, over the last hour and day, pops
    never acknowledged and calls that rang with no socket open (None in embedded mode)."""
    from crm_cti.telephony.receipts import receipts_summary

    return receipts_summary()
