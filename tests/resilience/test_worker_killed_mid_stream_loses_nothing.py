"""A Celery worker SIGKILLed in the middle of a stream of events: after a restart every
stored event is applied and every call pops exactly once (late acks, idempotent tasks, and
the sweeper for events stored but never acknowledged)."""

from __future__ import annotations

import threading
import time

import pytest

from crm_cti.telephony.models import Call, TelephonyEvent
from tests.resilience.harness import (
    DeliveryLog,
    Watcher,
    call_events,
    deliver_until_accepted,
    session_cookie_for,
)
from tests.support.stack import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

EXTENSIONS = 12
CALLS_PER_EXTENSION = 4


def _stream(subscription) -> list[list[dict]]:
    """One ordered list of notifications per extension: calls one after another."""
    streams = []
    for e in range(EXTENSIONS):
        ext = f"4009{e:05d}"
        events = []
        for c in range(CALLS_PER_EXTENSION):
            events += call_events(subscription_id=subscription.rc_id, extension_id=ext,
                                  session_id=f"kill-{e}-{c}", first_sequence=1 + 3 * c)
        streams.append(events)
    return streams


def test_worker_killed_mid_stream(stack_factory, subscription, watcher_user, record_property):
    stack = stack_factory()
    watcher = Watcher(stack.url, session_cookie_for(watcher_user), query="agent=all")
    streams = _stream(subscription)
    total = sum(len(s) for s in streams)
    log = DeliveryLog()

    def deliver(events):
        for event in events:
            deliver_until_accepted(stack.url, subscription.verification_token, [event], log)
            time.sleep(0.05)

    senders = [threading.Thread(target=deliver, args=(s,)) for s in streams]
    for sender in senders:
        sender.start()
    # Kill once the worker is well into the stream, with events still arriving.
    wait_until(
        lambda: TelephonyEvent.objects.filter(processed_at__isnull=False).count() >= total // 4,
        timeout=60, what="a quarter of the events to be applied",
    )
    stack.kill_worker()
    applied_at_kill = TelephonyEvent.objects.filter(processed_at__isnull=False).count()
    time.sleep(1.0)
    stack.start_worker()
    for sender in senders:
        sender.join(120)

    wait_until(
        lambda: not TelephonyEvent.objects.filter(processed_at__isnull=True).exists()
        and TelephonyEvent.objects.count() == total,
        timeout=90, interval=0.25, what=f"every stored event to be applied\n{stack.logs()}",
    )
    sessions = {f"kill-{e}-{c}" for e in range(EXTENSIONS) for c in range(CALLS_PER_EXTENSION)}
    ended = lambda: {c["session_id"] for c in watcher.pushes() if c["state"] == "ended"}  # noqa: E731
    try:
        wait_until(lambda: ended() >= sessions, timeout=30,
                   what="every call's end to reach the browser")
    except TimeoutError:
        missing = sorted(sessions - ended())
        seen = [(c["session_id"], c["state"]) for c in watcher.pushes()
                if c["session_id"] in missing]
        raise AssertionError(f"no 'ended' push for {missing}; their pushes: {seen}; "
                             f"socket closed: {watcher.closed.is_set()}") from None
    time.sleep(1.0)  # any duplicate push would arrive now
    pushes = watcher.pushes()

    # Nothing lost: every notification accepted was stored once and applied once.
    assert len(log.accepted()) == total
    assert TelephonyEvent.objects.count() == total
    assert set(TelephonyEvent.objects.values_list("outcome", flat=True)) == {"applied"}
    calls = Call.objects.filter(session_id__in=sessions)
    assert calls.count() == len(sessions)
    assert set(calls.values_list("state", flat=True)) == {"ended"}
    assert not calls.filter(answered_at__isnull=True).exists()

    # The browser's view (dashboard.js keys cards by call id and pops a card that is new and
    # ringing): every call has exactly one card, no call pops twice, every card ends.
    ids_per_session: dict[str, set[int]] = {}
    pops: dict[str, int] = {}
    last_state: dict[int, str] = {}
    for call in pushes:
        ids = ids_per_session.setdefault(call["session_id"], set())
        if call["id"] not in ids and call["state"] == "ringing":
            pops[call["session_id"]] = pops.get(call["session_id"], 0) + 1
        ids.add(call["id"])
        last_state[call["id"]] = call["state"]
    assert set(ids_per_session) == sessions
    assert all(len(ids) == 1 for ids in ids_per_session.values()), ids_per_session
    assert max(pops.values()) == 1
    assert set(last_state.values()) == {"ended"}
    record_property("pops", sum(pops.values()))
    record_property("events", total)
    record_property("applied_before_kill", applied_at_kill)
    watcher.close()
