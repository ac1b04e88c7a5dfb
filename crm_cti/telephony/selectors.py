"""Read queries of the telephony domain."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from crm_cti.telephony.models import Call


def calls_live(*, agent_id: int | None) -> QuerySet[Call]:
    """Calls a card is shown for: live ones, plus those ended within the linger time (so the
    card can show how it ended). ``agent_id=None`` means every agent (admin view)."""
    since = timezone.now() - timedelta(seconds=settings.LIVE_CALL_LINGER_SECONDS)
    qs = Call.objects.filter(Q(state__in=Call.LIVE_STATES) | Q(ended_at__gte=since))
    if agent_id is not None:
        qs = qs.filter(agent_id=agent_id)
    return qs.select_related("contact").order_by("started_at", "id")
