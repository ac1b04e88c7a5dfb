"""The benchmark's own bookkeeping: every expected pop is either delivered once or lost."""

from __future__ import annotations

from bench.pops import PopMatcher


def call(session: str, state: str, agent_id: int = 7, **extra) -> dict:
    return {"session_id": session, "state": state, "agent_id": agent_id, "result": "", **extra}


def test_a_delivered_pop_is_timed_from_its_send_time():
    matcher = PopMatcher()
    matcher.expect(agent_id=7, session_id="s1", state="ringing", sent_at=10.0)
    assert matcher.frame(agent_id=7, call=call("s1", "ringing"), received_at=10.25) == "pop"
    report = matcher.report()
    assert report["popped"] == 1
    assert report["lost"] == 0
    assert report["latency_ms"]["p50"] == 250.0


def test_what_never_arrives_is_lost():
    matcher = PopMatcher()
    matcher.expect(agent_id=7, session_id="s1", state="ringing", sent_at=1.0)
    matcher.expect(agent_id=7, session_id="s1", state="ended", sent_at=2.0)
    matcher.frame(agent_id=7, call=call("s1", "ringing"), received_at=1.1)
    report = matcher.report()
    assert report["lost"] == 1
    assert {"kind": "lost", "agent_id": 7, "session_id": "s1", "state": "ended"} in (
        report["examples"]
    )


def test_the_same_frame_twice_is_a_duplicate_but_a_changed_call_is_an_update():
    matcher = PopMatcher()
    matcher.expect(agent_id=7, session_id="s1", state="ended", sent_at=1.0)
    matcher.frame(agent_id=7, call=call("s1", "ended"), received_at=1.1)
    assert matcher.frame(agent_id=7, call=call("s1", "ended"), received_at=1.2) == "duplicate"
    # The call-log result arriving later is a legitimate update of the same state.
    assert matcher.frame(
        agent_id=7, call=call("s1", "ended", result="Accepted"), received_at=5.0
    ) == "update"
    report = matcher.report()
    assert (report["duplicated"], report["updates"], report["lost"]) == (1, 1, 0)


def test_a_state_that_was_never_caused_is_unexpected_and_a_foreign_call_misrouted():
    matcher = PopMatcher()
    matcher.expect(agent_id=7, session_id="s1", state="missed", sent_at=1.0)
    assert matcher.frame(agent_id=7, call=call("s1", "ended"), received_at=1.1) == "unexpected"
    assert matcher.frame(agent_id=7, call=call("s2", "ringing", agent_id=8),
                         received_at=1.1) == "misrouted"
    report = matcher.report()
    assert (report["unexpected"], report["misrouted"], report["lost"]) == (1, 1, 1)


def test_a_state_repeated_within_a_call_matches_its_events_in_order():
    matcher = PopMatcher()
    matcher.expect(agent_id=7, session_id="s1", state="connected", sent_at=1.0)
    matcher.expect(agent_id=7, session_id="s1", state="on_hold", sent_at=2.0)
    matcher.expect(agent_id=7, session_id="s1", state="connected", sent_at=3.0)
    matcher.frame(agent_id=7, call=call("s1", "connected"), received_at=1.01)
    matcher.frame(agent_id=7, call=call("s1", "on_hold"), received_at=2.02)
    matcher.frame(agent_id=7, call=call("s1", "connected", answered_at="x"), received_at=3.03)
    report = matcher.report()
    assert report["lost"] == 0
    assert report["duplicated"] == 0
    assert report["latency_ms"]["max"] == 30.0
