"""Several devices ringing: a transitional NoCall neither ends the call nor pops twice."""

from crm_cti.telephony.models import Call
from tests.telephony.conftest import fixture_events


def test_transitional_nocall_keeps_one_answered_call(webhook, agent):
    webhook.replay("multi_device_transitional_nocall")
    call = Call.objects.get()
    assert call.agent == agent
    assert call.state == "ended"
    assert call.answered_at is not None
    assert call.duration == 60


def test_intermediate_nocall_never_ends_the_call(webhook, agent):
    events = fixture_events("multi_device_intermediate_nocall")
    webhook.replay(events[:2])
    call = Call.objects.get()
    assert call.state == "ringing"
    assert call.ended_at is None
    webhook.replay(events[2:3])
    assert Call.objects.get().state == "connected"
    webhook.replay(events[3:])
    call = Call.objects.get()
    assert call.state == "ended"
    assert call.duration == 30


def test_flapping_session_is_one_call_answered(webhook, agent):
    webhook.replay("flapping_status")
    call = Call.objects.get()
    assert call.state == "ended"
    assert call.duration == 20
