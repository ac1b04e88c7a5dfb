"""A batch holding whole calls (the applier under load) leaves the same rows, and pushes
the same changes in the same order, as the same events applied one at a time.

The tracker locks a batch's call rows in one query and saves each changed call once at
the end of the batch; this checks that nothing an intermediate event did is lost that way.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from crm_cti.telephony.models import Call, ExtensionState, TelephonyEvent
from crm_cti.telephony.tracker import (
    ApplyResult,
    EnrichmentPlan,
    calls_missed_expire,
    extensions_apply,
)
from tests.telephony.conftest import calls_state, fixture_events

pytestmark = pytest.mark.django_db

# Several fixtures share extension 400000102: each gets an extension id of its own, so that
# a batch holds several extensions, each with several calls and events.
FIXTURES = [
    "concurrent_calls",
    "hold_resume",
    "multi_device_transitional_nocall",
    "multi_device_intermediate_nocall",
    "seed_answered_inbound",
    "seed_missed_inbound",
    "flapping_status",
    "multi_device_nocall_then_ringing",
    "multi_device_missed_without_marker",
    "missed_inbound_final",
]


def _events() -> list[dict]:
    events = []
    for index, name in enumerate(FIXTURES):
        for event in fixture_events(name):
            event["body"]["extensionId"] = f"5000{index:02d}"
            event["uuid"] = f"{name}-{event['uuid']}"
            events.append(event)
    return events


def _store(event: dict, subscription) -> None:
    TelephonyEvent.objects.create(
        uuid=event["uuid"], subscription=subscription,
        rc_extension_id=event["body"]["extensionId"], sequence=event["body"]["sequence"],
        payload=event,
    )


def _apply(extension_ids: list[str], plan: EnrichmentPlan) -> ApplyResult:
    result = ApplyResult()
    with transaction.atomic():
        extensions_apply(extension_ids=extension_ids, result=result, enrichment=plan)
    return result


def _pushed(results: list[ApplyResult]) -> list[tuple[str, str]]:
    return [(m["session_id"], m["state"]) for r in results for m in r.messages]


def _enrichment() -> list[tuple]:
    return list(Call.objects.order_by("rc_extension_id", "session_id")
                .values_list("session_id", "enrichment"))


def _reset() -> None:
    Call.objects.all().delete()
    ExtensionState.objects.all().delete()
    TelephonyEvent.objects.all().delete()


def test_one_batch_gives_what_one_event_at_a_time_gives(subscription):
    events = _events()
    extensions = sorted({e["body"]["extensionId"] for e in events})
    # Account mode: every ended call waits for its call log, agent or not.
    plan = EnrichmentPlan(due_at=timezone.now(), account_mode=True)

    results = []
    for event in events:
        _store(event, subscription)
        results.append(_apply([event["body"]["extensionId"]], plan))
    one_by_one = calls_state(), _pushed(results), _enrichment()
    ended_one_by_one = sum(len(r.ended_call_ids) for r in results)

    _reset()
    for event in events:
        _store(event, subscription)
    batch = _apply(extensions, plan)

    assert len(one_by_one[0]) >= len(FIXTURES) + 1  # the concurrent fixture has two calls
    assert (calls_state(), _pushed([batch]), _enrichment()) == one_by_one
    assert len(batch.ended_call_ids) == ended_one_by_one
    assert not TelephonyEvent.objects.filter(processed_at__isnull=True).exists()
    # Calls that only rang wait out the grace after their NoCall before they end.
    with transaction.atomic():
        calls_missed_expire(now=timezone.now() + timedelta(hours=1), enrichment=plan)
    assert {state for _s, state in _enrichment()} == {Call.Enrichment.PENDING}


def test_applying_the_batch_again_changes_nothing(subscription):
    events = _events()
    extensions = sorted({e["body"]["extensionId"] for e in events})
    plan = EnrichmentPlan(due_at=timezone.now())
    for event in events:
        _store(event, subscription)
    _apply(extensions, plan)
    before = calls_state()
    # As if every event were redelivered and stored again under new uuids.
    for event in events:
        _store({**event, "uuid": event["uuid"] + "-again"}, subscription)
    again = _apply(extensions, plan)
    assert calls_state() == before
    assert again.messages == []
