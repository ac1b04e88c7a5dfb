"""Applying any event twice changes nothing (even when the task itself runs twice)."""

import pytest
from django.db import transaction

from crm_cti.telephony.models import TelephonyEvent
from crm_cti.telephony.services import events
from crm_cti.telephony.tracker import ApplyResult, extensions_apply
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
        events.event_process(event_id=event.pk)
    assert calls_state() == before
    # ...and even with the processed mark lost, the tracker itself is idempotent.
    TelephonyEvent.objects.update(processed_at=None, outcome="")
    for event in TelephonyEvent.objects.order_by("pk"):
        result = ApplyResult()
        with transaction.atomic():
            extensions_apply(extension_ids=[event.rc_extension_id], result=result)
        assert result.changed_call_ids == []
    assert calls_state() == before
