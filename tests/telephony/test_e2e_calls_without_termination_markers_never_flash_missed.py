"""End to end, with the sandbox sending no ``terminationType`` at all (the platform deprecated
``intermediate``): several devices ringing never show "Missed" on the agent's socket, and a
call nobody answers is missed once the grace has passed, by the delayed check alone (this
stack's events sweep, the safety net, runs once an hour)."""

from collections.abc import Iterator

import pytest

from tests.telephony.pipeline import Stack, call_enriched, module_stack, states_in_order

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

CALLER = "+14155550100"


@pytest.fixture(scope="module")
def pipeline_stack(django_db_setup, sandbox) -> Iterator[Stack]:
    with module_stack(sandbox.url, name="grace", env={
        "CALL_MISSED_GRACE_SECONDS": "1.5",
        "EVENT_SWEEP_INTERVAL_SECONDS": "3600",
    }) as stack:
        yield stack


def _run(pipeline, scenario: str) -> list[dict]:
    agent = pipeline.sign_in("102")
    pipeline.subscribe(agent)
    sock = pipeline.socket(agent)
    session_id = pipeline.sandbox.start_call(
        scenario, extension="102", from_=CALLER, termination_markers=False
    )["sessionId"]
    sock.wait_for(call_enriched(sock, session_id), timeout=60, what=f"{scenario} to be enriched",
                  context=pipeline.stack.logs)
    return sock.calls(session_id)


def test_multi_device_without_marker_is_one_card_never_missed(pipeline):
    # The sandbox sends Ringing, NoCall, Ringing, CallConnected, NoCall, without markers
    # (tests/sandbox/test_scenarios_play_the_seed_event_flows.py).
    calls = _run(pipeline, "multi_device")
    assert states_in_order(calls) == ["ringing", "connected", "ended"]
    assert calls[-1]["result"] == "Accepted"
    assert len({c["id"] for c in calls}) == 1


def test_unanswered_call_without_marker_is_missed_after_the_grace(pipeline):
    calls = _run(pipeline, "inbound_missed")
    assert states_in_order(calls) == ["ringing", "missed"]
    assert calls[-1]["result"] == "Missed"
    assert calls[-1]["answered_at"] is None
