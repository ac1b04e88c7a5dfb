"""Delivery faults end to end: out-of-order, duplicated, dropped and slow notifications.

The sandbox injects the fault into its webhook deliveries; the browser must still end up
with the right call, and a lost NoCall is repaired by reconciliation from active calls.
"""

import pytest

from crm_cti.telephony.models import Call, TelephonyEvent
from tests.sandbox.session_helpers import LIMITED_CLIENT
from tests.telephony.pipeline import call_enriched, states_in_order

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


@pytest.fixture(autouse=True)
def presence_only(settings):
    """These faults are presence's: the agent signs in through the app without CallControl,
    so presence is all crm_cti hears (test_e2e_telephony_sessions.py has faults with
    telephony sessions)."""
    settings.RC_CLIENT_ID, settings.RC_CLIENT_SECRET = LIMITED_CLIENT

CALLER = "+14155550100"


def _enriched(sock, session_id):
    return call_enriched(sock, session_id, states=("ended", "missed", "voicemail"))


def _call_with_faults(pipeline, faults, scenario="inbound_answered", **kw):
    agent = pipeline.sign_in("102")
    pipeline.subscribe(agent)
    sock = pipeline.socket(agent)
    started = pipeline.sandbox.start_call(scenario, extension="102", from_=CALLER,
                                          faults=faults, **kw)
    session_id = started["sessionId"]
    sock.wait_for(_enriched(sock, session_id), timeout=90, what="the call to be enriched")
    return sock, session_id


def test_out_of_order_delivery(pipeline):
    sock, session_id = _call_with_faults(pipeline, ["out_of_order"])
    states = states_in_order(sock.calls(session_id))
    # Connected was delivered before Ringing: the late Ringing never takes the card back.
    assert states in (["connected", "ended"], ["ringing", "connected", "ended"])
    final = sock.calls(session_id)[-1]
    assert final["result"] == "Accepted"
    assert final["answered_at"] is not None
    delivered = [d for d in pipeline.sandbox.deliveries() if d.get("fault") == "out_of_order"]
    assert delivered, "the sandbox did not reorder anything"


def test_duplicated_delivery(pipeline):
    sock, session_id = _call_with_faults(pipeline, ["duplicate"])
    assert states_in_order(sock.calls(session_id)) == ["ringing", "connected", "ended"]
    deliveries = pipeline.sandbox.deliveries()
    assert any(d.get("fault") == "duplicate" for d in deliveries)
    assert all(d.get("status") == 200 for d in deliveries)
    uuids = {d["uuid"] for d in deliveries}
    assert TelephonyEvent.objects.count() == len(uuids) < len(deliveries)
    assert Call.objects.count() == 1


def test_dropped_connected_is_repaired_by_the_call_log(pipeline):
    sock, session_id = _call_with_faults(pipeline, [{"type": "drop", "index": 1}])
    # Without the CallConnected event the call looks missed, until the call log says
    # it was answered.
    assert states_in_order(sock.calls(session_id)) == ["ringing", "missed", "ended"]
    assert sock.calls(session_id)[-1]["result"] == "Accepted"


def test_dropped_nocall_is_repaired_by_reconciliation(pipeline):
    sock, session_id = _call_with_faults(pipeline, [{"type": "drop", "index": 2}])
    assert states_in_order(sock.calls(session_id)) == ["ringing", "connected", "ended"]
    final = sock.calls(session_id)[-1]
    assert final["result"] == "Accepted"
    assert final["ended_at"] is not None


def test_slow_delivery(pipeline):
    sock, session_id = _call_with_faults(pipeline, [{"type": "slow", "delay": 1.0}])
    assert states_in_order(sock.calls(session_id)) == ["ringing", "connected", "ended"]


def test_missed_call_with_faults_is_still_missed(pipeline):
    sock, session_id = _call_with_faults(pipeline, ["duplicate", "out_of_order"],
                                         scenario="inbound_missed")
    assert sock.calls(session_id)[-1]["state"] == "missed"
    assert sock.calls(session_id)[-1]["result"] == "Missed"
