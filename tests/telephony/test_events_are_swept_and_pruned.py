"""Events stored while the broker was down are enqueued by the sweeper; old ones are pruned."""

from datetime import timedelta

from django.utils import timezone

from crm_cti.telephony import stream as event_stream
from crm_cti.telephony.models import Call, ExtensionState, TelephonyEvent
from crm_cti.telephony.services import events
from tests.telephony.conftest import fixture_events


def test_sweeper_applies_events_that_were_never_enqueued(subscription, eager_tasks, agent):
    # As the webhook leaves them when the broker is down: stored, processed_at NULL.
    for event in fixture_events("hold_resume"):
        TelephonyEvent.objects.create(
            uuid=event["uuid"], subscription=subscription,
            rc_extension_id=event["body"]["extensionId"], sequence=event["body"]["sequence"],
            payload=event,
        )
    TelephonyEvent.objects.update(received_at=timezone.now() - timedelta(minutes=5))
    assert event_stream.events_sweep() == 5
    assert not TelephonyEvent.objects.filter(processed_at__isnull=True).exists()
    call = Call.objects.get()
    assert call.state == "ended"
    assert call.agent == agent


def test_recent_unprocessed_events_are_left_to_their_task(subscription, eager_tasks):
    event = fixture_events("hold_resume")[0]
    TelephonyEvent.objects.create(
        uuid=event["uuid"], subscription=subscription, rc_extension_id="400000102",
        sequence=1, payload=event,
    )
    assert event_stream.events_sweep() == 0


def test_old_applied_events_are_pruned(webhook):
    webhook.replay("seed_answered_inbound")
    TelephonyEvent.objects.update(received_at=timezone.now() - timedelta(days=30))
    assert events.events_prune() == 3
    assert Call.objects.get().state == "ended"


def test_a_telephony_sessions_ordering_row_goes_with_its_events(webhook):
    webhook.replay("sessions_answered_with_presence")
    assert ExtensionState.objects.count() == 2  # the extension's and the session's
    TelephonyEvent.objects.update(received_at=timezone.now() - timedelta(days=30))
    ExtensionState.objects.update(updated_at=timezone.now() - timedelta(days=30))
    assert events.events_prune() == 7
    # The extension's sequence goes on; the session is over.
    assert list(ExtensionState.objects.values_list("rc_extension_id", flat=True)) == [
        "400000102"]
    assert Call.objects.get().state == "ended"
