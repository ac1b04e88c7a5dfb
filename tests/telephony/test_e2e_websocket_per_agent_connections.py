"""The WebSocket transport without account mode: one gateway connection per signed-in
agent, each subscribed to that agent's own presence; signing out closes the agent's
connection while the others carry on. (Distributed mode: ``manage.py rcevents``; embedded
mode: the web process.)"""

from collections.abc import Iterator

import pytest
from django.conf import settings

from crm_cti.accounts.services import agent_sign_out
from crm_cti.telephony.models import Call, EventConnection, Subscription, TelephonyEvent
from tests.support.stack import wait_until
from tests.telephony.pipeline import Stack, call_enriched, states_in_order
from tests.telephony.wsevents import EventsProcesses, gateway_sessions, websocket_stack

# serial: beside other tests on two cores, the sandbox's call end did not reach the card
# within a minute (twice); alone it always does.
pytestmark = [pytest.mark.integration, pytest.mark.serial, pytest.mark.timeout(150)]


@pytest.fixture(scope="module")
def pipeline_stack(django_db_setup, sandbox) -> Iterator[Stack]:
    with websocket_stack(sandbox, "wsagents", account=False) as stack:
        yield stack


@pytest.fixture
def events(pipeline) -> Iterator[EventsProcesses]:
    processes = EventsProcesses(pipeline.sandbox, "wsagents", account=False)
    if settings.DISTRIBUTED:
        processes.start()
    yield processes
    processes.stop()


def _connected_owners(pipeline) -> set[str]:
    return {s["ownerId"] for s in gateway_sessions(pipeline.sandbox)
            if s["connected"] and s["subscriptionId"]}


def test_each_signed_in_agent_holds_a_connection_until_signing_out(pipeline, events) -> None:
    marcus, priya = pipeline.sign_in("102"), pipeline.sign_in("103")
    owners = {marcus.rc_extension_id, priya.rc_extension_id}
    wait_until(lambda: _connected_owners(pipeline) == owners, timeout=45, interval=0.3,
               what="a connection per agent")
    # (An "account" row may be left by the previous module's stack, stopped after the flush.)
    assert set(EventConnection.objects.filter(owner__startswith="agent:")
               .values_list("owner", flat=True)) == {f"agent:{marcus.pk}", f"agent:{priya.pk}"}
    socks = {a.pk: pipeline.socket(a) for a in (marcus, priya)}
    calls = {a.pk: pipeline.sandbox.start_call("inbound_answered",
                                               extension=a.extension_number)["sessionId"]
             for a in (marcus, priya)}
    for agent_pk, session in calls.items():
        sock = socks[agent_pk]
        sock.wait_for(call_enriched(sock, session), timeout=60, what="the agent's call",
                      context=events.logs)
        assert states_in_order(sock.calls(session)) == ["ringing", "connected", "ended"]
    # Each one's own calls only, and no webhook subscription for either.
    assert not socks[marcus.pk].calls(calls[priya.pk])
    assert not Subscription.objects.exists()

    agent_sign_out(agent=marcus)
    wait_until(lambda: _connected_owners(pipeline) == {priya.rc_extension_id}, timeout=30,
               interval=0.3, what="the signed-out agent's connection to close")
    # Forgotten at the events process's next look (its thread may end first, on its own).
    wait_until(lambda: (row := EventConnection.objects.get(owner=f"agent:{marcus.pk}"))
               .connected_since is None and row.wsc == "", timeout=30, interval=0.3,
               what="the signed-out agent's session to be forgotten")
    after = pipeline.sandbox.start_call("inbound_answered", extension="103")["sessionId"]
    socks[priya.pk].wait_for(call_enriched(socks[priya.pk], after), timeout=60,
                             what="the other agent's next call")


def test_a_call_control_agents_connection_carries_the_sessions_filter(pipeline, events) -> None:
    """The connection subscribes to what the webhook subscription would have
    (``event_filters_wanted``): with CallControl in the token's scope, telephony sessions
    beside presence, and a call's session events are stored and give the call its party."""
    marcus = pipeline.sign_in("102")
    wait_until(lambda: marcus.rc_extension_id in _connected_owners(pipeline), timeout=45,
               interval=0.3, what="the agent's connection")
    subscription_id = next(s["subscriptionId"] for s in gateway_sessions(pipeline.sandbox)
                           if s["ownerId"] == marcus.rc_extension_id and s["connected"])
    remote = next(s for s in pipeline.sandbox.subscriptions() if s["id"] == subscription_id)
    assert remote["transport"] == "WebSocket"
    assert any(item.endswith("/telephony/sessions") for item in remote["eventFilters"])
    assert any("/presence" in item for item in remote["eventFilters"])

    sock = pipeline.socket(marcus)
    session = pipeline.sandbox.start_call("inbound_answered", extension="102")["sessionId"]
    sock.wait_for(call_enriched(sock, session), timeout=60, what="the agent's call",
                  context=events.logs)
    call = Call.objects.get(session_id=session, agent=marcus)
    assert call.party_id and call.telephony_session_id
    # Stored through the same durable path as a webhook delivery (keyed by their session).
    stored = [p for p in TelephonyEvent.objects.values_list("payload", flat=True)
              if str(p.get("event") or "").endswith("/telephony/sessions")
              and (p.get("body") or {}).get("telephonySessionId") == call.telephony_session_id]
    assert stored
    assert states_in_order(sock.calls(session)) == ["ringing", "connected", "ended"]
