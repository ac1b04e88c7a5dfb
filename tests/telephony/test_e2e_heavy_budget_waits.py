"""When the Heavy budget is spent, enrichment waits for it: no 429, nothing dropped."""

import pytest

from crm_cti.telephony.models import Call
from tests.support.stack import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


def test_enrichment_waits_for_the_budget_instead_of_hitting_429(pipeline):
    # A tiny Heavy budget: 3 requests per 15 s for the agent.
    pipeline.sandbox.config(rate_limits={"Heavy": 3, "window": 15})
    agent = pipeline.sign_in("102")
    pipeline.subscribe(agent)
    sessions = []
    for index in range(5):
        started = pipeline.sandbox.start_call(
            "inbound_missed", extension="102", from_=f"+1415555010{index}", ring_seconds=2
        )
        sessions.append(started["sessionId"])
        wait_until(lambda sid=started["sessionId"]: Call.objects.filter(
            session_id=sid, state="missed").exists(), timeout=30, what="the missed call")
    wait_until(
        lambda: Call.objects.filter(session_id__in=sessions, result="Missed").count() == 5,
        timeout=150, interval=1, what="every call enriched despite the small budget",
    )
    throttled = pipeline.sandbox.stats()["throttled"]
    assert sum(throttled.values()) == 0, throttled
    heavy = pipeline.sandbox.stats()["requests"].get("Heavy", 0)
    assert heavy >= 1
