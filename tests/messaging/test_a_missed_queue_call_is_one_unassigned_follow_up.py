"""A queue call nobody answers, end to end (sandbox → webhook → worker → tracker): each
member signed in gets a missed call rung through the queue's number, the calls open one
follow-up for the session that belongs to nobody, and the queue's voicemail, once an
admin's credential imports the box, joins that follow-up instead of opening a second."""

from __future__ import annotations

import pytest

from crm_cti.messaging.models import FollowUp, Message
from crm_cti.messaging.services.queues import queue_boxes_sync
from crm_cti.telephony.models import Call
from tests.messaging.conftest import CUSTOMER, sandbox_store
from tests.support.stack import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_missed_queue_call_is_one_unassigned_follow_up(pipeline):
    pipeline.sandbox.config(speed=10, call_log_lag=1, transcription_delay=5)
    marcus, priya = pipeline.sign_in("102"), pipeline.sign_in("103")
    pipeline.sign_in("101")  # the admin whose token reads the queue's box
    for agent in (marcus, priya):
        pipeline.subscribe(agent)
    started = pipeline.sandbox.start_call("call_queue", extension="801", answered=False,
                                          **{"from": CUSTOMER})
    session_id = started["sessionId"]

    def both_missed() -> bool:
        calls = Call.objects.filter(session_id=session_id)
        return calls.count() == 2 and all(c.state == Call.State.MISSED for c in calls)
    wait_until(both_missed, timeout=60, what="both members' calls to end missed")
    assert {c.to_e164 for c in Call.objects.filter(session_id=session_id)} == {"+16505550801"}
    wait_until(lambda: FollowUp.objects.filter(call__session_id=session_id).exists(),
               timeout=30, what="the follow-up")
    (followup,) = FollowUp.objects.filter(number=CUSTOMER)
    assert followup.agent is None and followup.is_open

    pipeline.sandbox.wait_for(lambda: [
        r for r in sandbox_store(pipeline.sandbox, "801")
        if r.get("vmTranscriptionStatus") == "Completed"], timeout=30)
    assert queue_boxes_sync() == 1
    vm = Message.objects.get(queue__extension_number="801")
    (followup,) = FollowUp.objects.filter(number=CUSTOMER)
    assert followup.voicemail == vm and followup.agent is None
    assert followup.reason == FollowUp.Reason.VOICEMAIL
    assert vm.call is not None and vm.call.session_id == session_id
