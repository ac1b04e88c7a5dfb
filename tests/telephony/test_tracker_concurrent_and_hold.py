"""Concurrent calls on one extension, hold/resume, and internal calls."""

import pytest

from crm_cti.telephony.models import Call
from tests.telephony.conftest import agent_create, fixture_events
from tests.telephony.grace import grace_pass, short_grace  # noqa: F401 - fixture


@pytest.mark.usefixtures("short_grace")
def test_concurrent_calls_are_tracked_separately(webhook, agent):
    webhook.replay("concurrent_calls")
    grace_pass()
    first = Call.objects.get(session_id="880000000201")
    second = Call.objects.get(session_id="880000000202")
    assert first.state == "ended"
    assert first.duration == 60
    assert second.state == "missed"
    assert second.from_name == "Grace Hopper"


def test_hold_and_resume(webhook, agent):
    events = fixture_events("hold_resume")
    webhook.replay(events[:3])
    assert Call.objects.get().state == "on_hold"
    webhook.replay(events[3:4])
    assert Call.objects.get().state == "connected"
    webhook.replay(events[4:])
    call = Call.objects.get()
    assert call.state == "ended"
    assert call.duration == 30


def test_internal_caller_resolves_to_the_agent(webhook, agent):
    agent_create(extension="101", name="Ada Admin")
    webhook.replay("internal_call_from_extension")
    call = Call.objects.get()
    assert call.from_number == "101"
    assert call.from_e164 == ""
    assert call.from_name == "Ada Admin"
    assert call.contact is None
