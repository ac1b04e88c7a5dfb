"""An agent whose token has ReadMessages is subscribed to the inbound SMS and message-store
filters (a live subscription gains them when the permission comes later); without it,
presence only, and no message import is asked for."""

from __future__ import annotations

import pytest

from crm_cti.accounts.models import RingCentralToken
from crm_cti.messaging.models import MessageSync
from crm_cti.messaging.services.sync import messages_sync
from crm_cti.telephony.services.subscriptions import MESSAGE_EVENT_FILTERS, filter_key

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def _remote_filters(pipeline, rc_id: str) -> set[str]:
    """The subscription's filters on the platform, ``~`` for the ids it filled in."""
    remote = next(s for s in pipeline.sandbox.subscriptions() if s["id"] == rc_id)
    return {filter_key(f) for f in remote["eventFilters"]}


def test_message_filters_follow_read_messages(pipeline):
    agent = pipeline.sign_in("102")
    token = RingCentralToken.objects.get(agent=agent)
    granted = token.scope
    RingCentralToken.objects.filter(pk=token.pk).update(
        scope=" ".join(p for p in granted.split() if p != "ReadMessages"))
    sub = pipeline.subscribe(agent)
    assert not set(MESSAGE_EVENT_FILTERS) & _remote_filters(pipeline, sub.rc_id)
    assert messages_sync(agent=agent) == 0
    assert not MessageSync.objects.filter(agent=agent).exists()

    RingCentralToken.objects.filter(pk=token.pk).update(scope=granted)
    sub = pipeline.subscribe(agent)
    assert set(MESSAGE_EVENT_FILTERS) <= _remote_filters(pipeline, sub.rc_id)
    assert set(MESSAGE_EVENT_FILTERS) <= {filter_key(f) for f in sub.event_filters}
    rc_id = sub.rc_id
    # Asked again, nothing changes: the same subscription, no update sent.
    def updates() -> int:
        ops = pipeline.sandbox.stats()["by_operation"]
        return sum(n for op, n in ops.items() if op.startswith("PUT /restapi/v1.0/subscription"))
    before = updates()
    assert before == 1
    assert pipeline.subscribe(agent).rc_id == rc_id
    assert updates() == before
