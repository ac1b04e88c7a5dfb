"""The WebSocket transport under faults, with real ``manage.py rcevents`` processes
(distributed mode): a SIGKILLed holder's standby takes over and recovers the session; a
connection the platform drops is recovered with nothing lost or duplicated; a refused
recovery is reconciled from active calls (no card left ringing); a second process never
opens a second connection for the same owner."""

import time
from collections import Counter
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from crm_cti.telephony.models import Call, EventConnection, TelephonyEvent
from tests.support.people import agent_create
from tests.support.stack import wait_until
from tests.telephony.pipeline import Stack, call_enriched, states_in_order
from tests.telephony.wsevents import (
    EventsProcesses,
    events_settled,
    gateway_sessions,
    websocket_stack,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

ADMIN_EXTENSION = "101"  # the JWT's user: owner of the account's connection


@pytest.fixture(scope="module")
def pipeline_stack(django_db_setup, sandbox) -> Iterator[Stack]:
    if not settings.DISTRIBUTED:
        pytest.skip("rcevents processes are distributed mode's (embedded: the web holds it)")
    with websocket_stack(sandbox, "wsfault") as stack:
        yield stack


@pytest.fixture
def events(pipeline) -> Iterator[EventsProcesses]:
    processes = EventsProcesses(pipeline.sandbox, "wsfault")
    yield processes
    processes.stop()


def _admin_id(pipeline) -> str:
    return str(pipeline.sandbox.user(ADMIN_EXTENSION)["extension_id"])


def _connections(pipeline) -> int:
    return pipeline.sandbox.stats()["ws_connections"].get(_admin_id(pipeline), 0)


def _row() -> EventConnection:
    return EventConnection.objects.get(owner="account")


def _ringing(sock, session: str) -> bool:
    return any(c["state"] == "ringing" for c in sock.calls(session))


def _drop(pipeline) -> None:
    answer = pipeline.sandbox.http.post("/sandbox/ws/drop", json={"extension": ADMIN_EXTENSION})
    assert answer.json() == {"dropped": 1}


def _stored_once(pipeline) -> None:
    """Every notification the platform sent the account is stored, once."""
    sent = {d["uuid"] for d in pipeline.sandbox.deliveries() if d["event"]}
    stored = Counter(TelephonyEvent.objects.values_list("uuid", flat=True))
    assert sent <= set(stored), sorted(sent - set(stored))
    assert max(stored.values()) == 1


def test_a_second_events_process_never_opens_a_second_connection(pipeline, events) -> None:
    events.start()
    events.start()
    events.holder()
    # Several lease periods: the standby keeps trying, and keeps being refused the lease.
    time.sleep(4 * float(events.env["EVENTS_LEASE_SECONDS"]))
    assert _connections(pipeline) == 1
    assert [s["connected"] for s in gateway_sessions(pipeline.sandbox)] == [True]
    for process in events.started:
        process.assert_alive()


def test_the_holder_killed_mid_stream_hands_over_to_the_standby(pipeline, events) -> None:
    marcus = agent_create(extension="102")
    sock = pipeline.socket(marcus)
    events.start()
    events.start()
    holder = events.holder()
    standby = next(p for p in events.started if p is not holder)
    sessions = []
    for index in range(6):
        sessions.append(pipeline.sandbox.start_call("inbound_answered",
                                                    extension="102")["sessionId"])
        if index == 2:
            holder.kill()
        time.sleep(0.3)
    for session in sessions:
        sock.wait_for(call_enriched(sock, session), timeout=90, what=f"call {session}",
                      context=events.logs)
    assert events.holder() is standby
    for session in sessions:
        # One card per call, popped once: never a second ringing, never back from ended.
        states = states_in_order(sock.calls(session))
        assert states[-1] == "ended" and states.count("ringing") <= 1, (session, states)
        # What the killed holder had received but not stored is lost (the platform replays
        # only what it had not sent): a call in flight at the kill may skip a state on its
        # card, never gain one, and always ends where the platform says.
        assert states in (["ringing", "connected", "ended"], ["connected", "ended"],
                          ["ringing", "ended"]), (session, states)
        assert Call.objects.filter(session_id=session).count() == 1
    events_settled()
    row = _row()
    # The standby recovered the dead holder's session (the platform kept what it missed).
    assert row.recoveries == 1 and row.failed_recoveries == 0
    assert _connections(pipeline) == 2


def test_a_dropped_connection_is_recovered_with_nothing_lost_or_duplicated(pipeline,
                                                                         events) -> None:
    marcus = agent_create(extension="102")
    sock = pipeline.socket(marcus)
    events.start()
    events.holder()
    session = pipeline.sandbox.start_call("interactive", extension="102")["sessionId"]
    sock.wait_for(lambda _h: _ringing(sock, session), timeout=30, what="the ringing card")
    _drop(pipeline)
    pipeline.sandbox.call_action(session, "answer")  # while nobody is connected
    wait_until(lambda: _row().recoveries == 1, timeout=30, what="the recovery",
               interval=0.2)
    pipeline.sandbox.call_action(session, "hangup")
    sock.wait_for(call_enriched(sock, session), timeout=60, what="the call to end",
                  context=events.logs)
    assert states_in_order(sock.calls(session)) == ["ringing", "connected", "ended"]
    events_settled()
    _stored_once(pipeline)
    row = _row()
    assert row.failed_recoveries == 0 and row.reconciled_at is None


def _operations_row(settings) -> str:
    """The account's row of the operations page's WebSocket connections table."""
    settings.RC_EVENTS_TRANSPORT = "websocket"
    admin = get_user_model().objects.create_superuser("ops-root", "ops@example.com", "pw")
    browser = Client()
    browser.force_login(admin)
    page = browser.get("/ops/", secure=True).content.decode()
    table = page.split('id="connections"', 1)[1].split("</table>", 1)[0]
    return " ".join(table.split("<tr>")[2].split())


def test_a_refused_recovery_is_reconciled_and_leaves_no_card_ringing(pipeline, events,
                                                                     settings) -> None:
    pipeline.sandbox.config(ws_refuse_recovery=True)
    marcus = agent_create(extension="102")
    sock = pipeline.socket(marcus)
    events.start()
    events.holder()
    session = pipeline.sandbox.start_call("interactive", extension="102")["sessionId"]
    sock.wait_for(lambda _h: _ringing(sock, session), timeout=30, what="the ringing card")
    _drop(pipeline)
    # The caller gives up while nobody is connected: that NoCall is lost with the session.
    pipeline.sandbox.call_action(session, "hangup")
    wait_until(lambda: _row().failed_recoveries == 1, timeout=30, what="the failed recovery",
               interval=0.2)
    sock.wait_for(lambda _h: sock.calls(session)[-1]["state"] in ("missed", "ended"),
                  timeout=60, what="the card to stop ringing", context=events.logs)
    row = _row()
    assert row.reconciled_at is not None and "recovery failed" in row.last_error
    assert Call.objects.get(session_id=session).state in ("missed", "ended")
    # The operations page says so: one failed recovery, reconciled.
    row_html = _operations_row(settings)
    assert "Account" in row_html and "WebSocket" in row_html
    assert 'badge-bad">1</span>' in row_html and "reconciled" in row_html
    # A new session, subscribed again: the next call pops as usual.
    after = pipeline.sandbox.start_call("inbound_answered", extension="102")["sessionId"]
    sock.wait_for(call_enriched(sock, after), timeout=60, what="the next call")


def test_heartbeats_keep_it_from_idling_and_it_reconnects_before_the_absolute_timeout(
        pipeline, events) -> None:
    # Short platform timeouts (seconds): without heartbeats the gateway would close it after
    # 3 s idle (WSG-902), and every connection after 8 s (WSG-903).
    pipeline.sandbox.config(ws_idle_timeout=3, ws_absolute_timeout=8)
    marcus = agent_create(extension="102")
    sock = pipeline.socket(marcus)
    events.start()
    events.holder()
    wait_until(lambda: _connections(pipeline) >= 3, timeout=40, interval=0.5,
               what="two connections replaced before their absolute timeout")
    row = _row()
    # Replaced on its own, recovering its own session: no recovery counted, none failed,
    # no platform timeout error recorded.
    assert row.recoveries == 0 and row.failed_recoveries == 0 and "WSG" not in row.last_error
    assert len({s["wsc"] for s in gateway_sessions(pipeline.sandbox)}) == 1
    session = pipeline.sandbox.start_call("inbound_answered", extension="102")["sessionId"]
    sock.wait_for(call_enriched(sock, session), timeout=60, what="the call",
                  context=events.logs)


def test_a_refused_reconnection_backs_off_instead_of_hammering(pipeline, events) -> None:
    events.start()
    events.holder()
    # From now on the platform refuses the admin's next Auth request (the wstoken of the
    # reconnection) with 429 and a minute's penalty.
    pipeline.sandbox.config(rate_limits={"Auth": 1, "penalty": 60})
    _drop(pipeline)
    wait_until(lambda: "refused by the platform" in _row().last_error, timeout=30,
               interval=0.2, what="the refusal on the owner's row")
    asked = pipeline.sandbox.stats()["by_operation"]["POST /restapi/oauth/wstoken"]
    time.sleep(3 * float(events.env["EVENTS_LEASE_SECONDS"]))
    # Waiting out the penalty: not one more wstoken request, and still the holder.
    assert pipeline.sandbox.stats()["by_operation"]["POST /restapi/oauth/wstoken"] == asked
    assert _row().connected_since is None and "refused by the platform" in _row().last_error
    events.started[0].assert_alive()
