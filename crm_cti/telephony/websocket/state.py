"""An owner's ``EventConnection`` row: what the next connection recovers (``wsc`` and the
last sequence whose notification is stored) and what the operations page shows."""

from __future__ import annotations

from django.db.models import F
from django.utils import timezone

from crm_cti.accounts.models import Agent
from crm_cti.telephony.models import EventConnection


def connection_row(*, owner: str, agent: Agent | None) -> EventConnection:
    row, _created = EventConnection.objects.get_or_create(owner=owner,
                                                          defaults={"agent": agent})
    if row.agent_id != (agent.pk if agent is not None else None):
        row.agent = agent
        row.save(update_fields=["agent", "updated_at"])
    return row


def connection_opened(*, row: EventConnection, wsc: str, holder: str, recovery: str | None,
                      planned: bool) -> None:
    """A connection is open. ``recovery``: the platform's ``recoveryState`` (None: a new
    session was asked for); ``planned``: we closed the last one ourselves (absolute timeout
    ahead), which is not counted as a recovery."""
    now = timezone.now()
    updates: dict[str, object] = {"wsc": wsc, "holder": holder, "connected_since": now,
                                  "last_error": ""}
    if recovery == "Successful" and not planned:
        updates["recoveries"] = F("recoveries") + 1
    elif recovery == "Failed":
        updates["failed_recoveries"] = F("failed_recoveries") + 1
    if recovery != "Successful":
        updates.update(sequence=0, subscription_id="")
    EventConnection.objects.filter(pk=row.pk).update(**updates)
    row.refresh_from_db()


def sequence_seen(*, row: EventConnection, sequence: int, notification: bool) -> None:
    """Everything up to ``sequence`` is stored (a notification, or ConnectionDetails)."""
    row.sequence = sequence
    updates: dict[str, object] = {"sequence": sequence}
    if notification:
        updates["last_notification_at"] = timezone.now()
    EventConnection.objects.filter(pk=row.pk).update(**updates)


def subscribed(*, row: EventConnection, subscription_id: str) -> None:
    row.subscription_id = subscription_id
    EventConnection.objects.filter(pk=row.pk).update(subscription_id=subscription_id)


def reconciled(*, row: EventConnection, why: str) -> None:
    EventConnection.objects.filter(pk=row.pk).update(reconciled_at=timezone.now(),
                                                     last_error=why[:500])


def connection_closed(*, row: EventConnection, error: str = "") -> None:
    EventConnection.objects.filter(pk=row.pk).update(connected_since=None,
                                                     last_error=error[:500])


def connection_forget(*, owner: str) -> None:
    """The owner no longer wants a connection (signed out, account mode off)."""
    EventConnection.objects.filter(owner=owner).update(
        connected_since=None, wsc="", sequence=0, subscription_id="")
