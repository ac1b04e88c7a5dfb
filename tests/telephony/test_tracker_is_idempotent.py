"""Applying any event twice changes nothing (even when the task itself runs twice)."""

import pytest

from crm_cti.telephony import services, tracker
from crm_cti.telephony.models import TelephonyEvent
from tests.telephony.conftest import calls_state

FLOWS = [
    "seed_missed_inbound",
    "seed_answered_inbound",
    "multi_device_transitional_nocall",
    "concurrent_calls",
    "flapping_status",
]


@pytest.mark.parametrize("flow", FLOWS)
def test_reapplying_every_event_changes_nothing(webhook, flow):
    webhook.replay(flow)
    before = calls_state()
    # A worker that crashed after applying but before acking runs the task again...
    for event in TelephonyEvent.objects.order_by("pk"):
        services.event_process(event_id=event.pk)
    assert calls_state() == before
    # ...and even with the processed mark lost, the tracker itself is idempotent.
    TelephonyEvent.objects.update(processed_at=None, outcome="")
    for event in TelephonyEvent.objects.order_by("pk"):
        result = tracker.event_apply(event=event)
        assert result.changed_call_ids == []
    assert calls_state() == before
