"""A redelivered notification (same uuid) is answered 200 and changes nothing."""

from crm_cti.telephony.models import Call, TelephonyEvent
from tests.telephony.conftest import calls_state, fixture_events


def test_redelivery_is_200_and_dropped(webhook):
    events = fixture_events("seed_answered_inbound")
    assert webhook.replay(events) == [200, 200, 200]
    before = calls_state()
    assert webhook.replay(events) == [200, 200, 200]
    assert TelephonyEvent.objects.count() == 3
    assert calls_state() == before
    assert Call.objects.count() == 1
