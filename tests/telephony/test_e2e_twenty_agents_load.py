"""20 agents taking calls for several simulated minutes, with the sandbox's default rate
limits: zero 429s, every call popped, every ended call enriched from the call log.

Enrichment may wait for the Heavy budget (10 requests a minute per user by default): that
is the point. The work is delayed, never dropped, and never turns into a 429.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator

import pytest
from django.conf import settings as django_settings

from crm_cti.ringcentral.budget import budget_reset
from crm_cti.telephony.models import Call
from tests.support.sandbox import sandbox_start
from tests.support.stack import wait_until
from tests.telephony.pipeline import Pipeline, start_stack

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

AGENTS = 20
ROUNDS = 5
SPEED = 10.0
# Nominal seconds between two calls of one agent: 5 rounds = 200 simulated seconds.
ROUND_SECONDS = 40.0
SCENARIOS = ["inbound_answered", "inbound_missed", "inbound_voicemail", "hold_resume",
             "multi_device"]


@pytest.fixture(scope="module")
def load_stack(django_db_setup) -> Iterator[tuple]:
    sandbox = sandbox_start({"SANDBOX_EXTRA_EXTENSIONS": str(AGENTS - 5)})
    # Production windows for the active-calls refresh; short call-log delays so the test
    # does not wait for nothing.
    stack = start_stack(sandbox.url, name="load", env={
        "ACTIVE_CALLS_WINDOW_SECONDS": "30",
        "ACTIVE_CALLS_DELAY_SECONDS": "3",
        "CALL_LOG_DELAY_SECONDS": "2",
        "CALL_LOG_RETRY_SECONDS": "3",
        "RECONCILE_INTERVAL_SECONDS": "30",
        "RECONCILE_GRACE_SECONDS": "10",
        "LOG_LEVEL": "WARNING",
    })
    yield sandbox, stack
    stack.stop()
    sandbox.close()


def test_twenty_agents_no_429_and_every_call_enriched(load_stack, transactional_db, settings):
    sandbox, stack = load_stack
    sandbox.reset()
    sandbox.config(speed=SPEED, call_log_lag=10)
    settings.RC_SERVER_URL = sandbox.url
    settings.WEBHOOK_BASE_URL = stack.app.url
    budget_reset()
    pipeline = Pipeline(stack=stack, sandbox=sandbox)
    numbers = [u["extension_number"] for u in sandbox.users()][:AGENTS]
    assert len(numbers) == AGENTS
    agents = [pipeline.sign_in(n) for n in numbers]
    for agent in agents:
        pipeline.subscribe(agent)
    sockets = {agent.pk: pipeline.socket(agent) for agent in agents[:3]}

    started: list[str] = []
    scenario_cycle = itertools.cycle(SCENARIOS)
    for _ in range(ROUNDS):
        round_start = time.monotonic()
        for number in numbers:
            result = sandbox.start_call(
                next(scenario_cycle), extension=number, from_=f"+1415555{int(number):04d}",
                ring_seconds=6, talk_seconds=20, hold_seconds=4,
            )
            started.extend(result["sessionIds"])
        time.sleep(max(0.0, ROUND_SECONDS / SPEED - (time.monotonic() - round_start)))

    expected = len(started)
    wait_until(
        lambda: Call.objects.filter(session_id__in=started).count() == expected,
        timeout=120, interval=1, what="every call to be tracked",
    )
    wait_until(
        lambda: not Call.objects.filter(session_id__in=started)
        .exclude(state__in=Call.FINAL_STATES).exists(),
        timeout=120, interval=1, what="every call to end",
    )

    def unenriched() -> int:
        return Call.objects.filter(session_id__in=started).exclude(
            enrichment=Call.Enrichment.DONE
        ).count()

    # Heavy budget: 10 a minute per agent; a few minutes at most for the tail.
    try:
        wait_until(lambda: unenriched() == 0, timeout=360, interval=2,
                   what="every ended call to be enriched")
    except TimeoutError as exc:
        stuck = list(
            Call.objects.filter(session_id__in=started)
            .exclude(enrichment=Call.Enrichment.DONE)
            .values("pk", "agent_id", "session_id", "state", "enrichment", "enrich_attempts",
                    "enrich_due_at", "ended_at", "result")[:10]
        )
        raise AssertionError(f"{exc}: {unenriched()} left, e.g. {stuck}\n{stack.logs()}") from None

    stats = sandbox.stats()
    assert sum(stats["throttled"].values()) == 0, stats["throttled"]
    calls = Call.objects.filter(session_id__in=started)
    assert calls.count() == expected
    assert not calls.filter(result="").exists()
    assert calls.filter(state="voicemail").count() == calls.filter(result="Voicemail").count()
    assert calls.filter(state="missed").count() == calls.filter(result="Missed").count()
    # The browsers of the agents we watched saw their calls live.
    for agent_id, sock in sockets.items():
        seen = {m["call"]["session_id"] for m in sock.drain() if m["type"] == "call"}
        assert set(calls.filter(agent_id=agent_id).values_list("session_id", flat=True)) <= seen
    assert bool(stack.processes) == django_settings.DISTRIBUTED
