"""The benchmark's expectations are the product's semantics.

Every event the load generator plays says which pops it must cause. Replaying a planned
phase through the real tracker (each event stored as the webhook stores it, then applied)
must push exactly those: none lost, none twice, none unexpected. Otherwise the benchmark
would count the product's correct behaviour as lost or duplicated pops.
"""

from __future__ import annotations

import copy
import time

import pytest
from django.db import transaction

from bench.fixtures import agents_create
from bench.pops import PopMatcher
from bench.scenarios import DEFAULT_MIX, AgentSpec, envelope_stamp, plan_phase
from crm_cti.telephony.models import TelephonyEvent
from crm_cti.telephony.notifications import event_parse
from crm_cti.telephony.tracker import ApplyResult, extensions_apply


def store(payload: dict) -> TelephonyEvent:
    parsed = event_parse(payload)
    return TelephonyEvent.objects.create(
        uuid=parsed.uuid, rc_extension_id=parsed.extension_id, sequence=parsed.sequence,
        event_timestamp=parsed.timestamp, payload=payload,
    )


@pytest.mark.django_db
def test_a_mixed_phase_replayed_through_the_tracker_pops_exactly_as_planned():
    agents = [AgentSpec(**a["spec"]) for a in agents_create(count=3)]
    # Few agents, many calls: concurrent calls on one extension are frequent.
    events = plan_phase(agents=agents, calls=60, rate=6, seed=4)
    assert {name for name in DEFAULT_MIX} <= {"inbound_answered", "inbound_missed", "outbound",
                                               "hold_resume", "multi_device", "concurrent"}
    matcher = PopMatcher()
    wall = time.time()
    for event in events:
        agent = agents[event.agent_index]
        for session_id, state in event.expect:
            matcher.expect(agent_id=agent.agent_id, session_id=session_id, state=state,
                           sent_at=event.at)
        payload = envelope_stamp(copy.deepcopy(event.envelope), wall_start=wall,
                                 now=wall + event.at)
        result = ApplyResult()
        with transaction.atomic():
            extensions_apply(extension_ids=[store(payload).rc_extension_id], result=result)
        for message in result.messages:
            matcher.frame(agent_id=agent.agent_id, call=message, received_at=event.at)
    report = matcher.report()
    assert report["expected"] > 150
    assert report["lost"] == 0, report["examples"]
    assert report["duplicated"] == 0, report["examples"]
    assert report["unexpected"] == 0, report["examples"]
    assert report["misrouted"] == 0, report["examples"]
    assert report["popped"] == report["expected"]


@pytest.mark.django_db
def test_every_event_lists_the_extension_calls_with_a_growing_sequence():
    agents = [AgentSpec(**a["spec"]) for a in agents_create(count=2)]
    sequences: dict[int, int] = {}
    first = plan_phase(agents=agents, calls=20, rate=4, seed=1, sequences=sequences)
    second = plan_phase(agents=agents, calls=20, rate=4, seed=2, sequences=sequences)
    last: dict[str, int] = {}
    for event in first + second:
        body = event.envelope["body"]
        assert body["sequence"] > last.get(body["extensionId"], 0)
        last[body["extensionId"]] = body["sequence"]
        assert event.envelope["subscriptionId"] == agents[event.agent_index].subscription_id
        # Up to 7 calls, each a full leg as the sandbox sends it.
        assert 1 <= len(body["activeCalls"]) <= 7
        for leg in body["activeCalls"]:
            assert {"id", "direction", "from", "to", "sessionId", "telephonyStatus",
                    "startTime"} <= set(leg)


def test_a_rate_too_high_for_the_agents_is_refused_rather_than_faked():
    agents = [AgentSpec(1, "901", "+16507000001", "sub", "token")]
    with pytest.raises(ValueError, match="too few agents"):
        plan_phase(agents=agents, calls=50, rate=200)
