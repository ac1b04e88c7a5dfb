"""RC_EVENTS_TRANSPORT=websocket: calls pop through the platform's WebSocket gateway, with
no webhook subscription and no delivery to any public address. Distributed mode runs
``manage.py rcevents``; embedded mode's web process holds the connection itself."""

from collections.abc import Iterator

import pytest
from django.conf import settings

from crm_cti.telephony.models import Call, EventConnection, Subscription
from tests.support.people import agent_create
from tests.support.stack import wait_until
from tests.telephony.pipeline import Stack, call_enriched, states_in_order
from tests.telephony.wsevents import EventsProcesses, gateway_sessions, websocket_stack

pytestmark = [pytest.mark.integration, pytest.mark.timeout(150)]


@pytest.fixture(scope="module")
def pipeline_stack(django_db_setup, sandbox) -> Iterator[Stack]:
    with websocket_stack(sandbox, "wspop") as stack:
        yield stack


@pytest.fixture
def events(pipeline) -> Iterator[EventsProcesses]:
    processes = EventsProcesses(pipeline.sandbox, "wspop")
    if settings.DISTRIBUTED:
        processes.start()
    yield processes
    processes.stop()


def test_calls_pop_over_the_websocket_with_no_webhook(pipeline, events) -> None:
    marcus = agent_create(extension="102")
    sock = pipeline.socket(marcus)
    row = wait_until(lambda: EventConnection.objects.filter(
        owner="account", connected_since__isnull=False).exclude(subscription_id="").first(),
        timeout=45, interval=0.2, what="the account's gateway connection")
    session = pipeline.sandbox.start_call("inbound_answered", extension="102")["sessionId"]
    sock.wait_for(call_enriched(sock, session), timeout=60, what="the call over the WebSocket",
                  context=events.logs)
    assert states_in_order(sock.calls(session)) == ["ringing", "connected", "ended"]
    assert Call.objects.get(session_id=session).result == "Accepted"

    # No webhook anywhere: no subscription row, none on the platform, nothing delivered.
    assert not Subscription.objects.exists()
    assert [s["transport"] for s in pipeline.sandbox.subscriptions()] == ["WebSocket"]
    deliveries = pipeline.sandbox.deliveries()
    assert deliveries and all(d["address"].startswith("wsc:") for d in deliveries)
    # One connection, the one the operations page shows.
    connected = [s for s in gateway_sessions(pipeline.sandbox) if s["connected"]]
    assert len(connected) == 1 and connected[0]["subscriptionId"] == row.subscription_id
    # (Recoveries are the fault tests' business: in embedded mode the web process may have
    # connected before this test reset the sandbox, which then forgot that session.)
    row.refresh_from_db()
    assert row.last_notification_at is not None
