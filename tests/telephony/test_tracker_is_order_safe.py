"""Out-of-order delivery: any order of a flow's events gives the same final call."""

import itertools

import pytest

from crm_cti.telephony.models import Call, ExtensionState, TelephonyEvent
from tests.telephony.conftest import calls_state, fixture_events
from tests.telephony.grace import grace_pass, short_grace  # noqa: F401 - fixture

FLOWS = ["seed_answered_inbound", "hold_resume", "concurrent_calls"]


def _replay_in(webhook, events):
    Call.objects.all().delete()
    TelephonyEvent.objects.all().delete()
    ExtensionState.objects.all().delete()
    assert set(webhook.replay(events)) == {200}
    return calls_state()


@pytest.mark.parametrize("flow", FLOWS)
def test_every_order_gives_the_same_calls(webhook, flow):
    events = fixture_events(flow)
    expected = _replay_in(webhook, events)
    orders = list(itertools.permutations(events))
    # Enough orders to cover every swap without running 120 permutations of 5 events.
    for order in orders[:: max(len(orders) // 24, 1)]:
        assert _replay_in(webhook, list(order)) == expected


@pytest.mark.usefixtures("short_grace")
def test_late_connected_turns_missed_into_answered(webhook):
    ringing, connected, nocall = fixture_events("seed_answered_inbound")
    webhook.replay([ringing, nocall])
    grace_pass()
    assert Call.objects.get().state == "missed"
    webhook.replay([connected])
    call = Call.objects.get()
    assert call.state == "ended"
    assert call.answered_at is not None
    assert call.duration == 15


def test_older_ringing_does_not_reopen_an_ended_call(webhook):
    ringing, connected, nocall = fixture_events("seed_answered_inbound")
    webhook.replay([connected, nocall, ringing])
    assert Call.objects.get().state == "ended"
    outcomes = dict(TelephonyEvent.objects.values_list("uuid", "outcome"))
    assert outcomes[ringing["uuid"]] == "stale"
