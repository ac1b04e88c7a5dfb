"""/ws/agent/: a snapshot of live calls on connect, then one message per change."""

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.test import Client

from crm_cti.dashboard.consumers import AgentConsumer
from crm_cti.telephony.models import Subscription
from tests.support.people import agent_create, call_make, contact_make
from tests.telephony.conftest import Webhook, WebsocketCommunicator, fixture_events

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_tasks")]


def _communicator(user, query: str = "") -> WebsocketCommunicator:
    return WebsocketCommunicator(AgentConsumer.as_asgi(), "/ws/agent/", user=user, query=query)


def _webhook() -> Webhook:
    sub = Subscription.objects.create(rc_id="sub-ws", verification_token="tok-ws", status="Active")
    return Webhook(client=Client(), subscription=sub)


async def test_anonymous_is_closed_4401():
    comm = _communicator(AnonymousUser())
    connected, code = await comm.connect()
    assert not connected
    assert code == 4401


async def test_user_without_agent_is_closed_4403():
    user = await sync_to_async(get_user_model().objects.create_user)(username="nobody")
    comm = _communicator(user)
    connected, code = await comm.connect()
    assert not connected
    assert code == 4403


async def test_snapshot_then_call_messages_in_order():
    agent = await sync_to_async(agent_create)(extension="102")
    other = await sync_to_async(agent_create)(extension="103")
    live = await sync_to_async(call_make)(agent, state="connected", ended_at=None)
    await sync_to_async(call_make)(other, state="connected", ended_at=None)
    contact = await sync_to_async(contact_make)("Ada", "Lovelace", "+14155550100")
    webhook = await sync_to_async(_webhook)()

    comm = _communicator(agent.user)
    connected, _ = await comm.connect()
    assert connected
    snapshot = await comm.receive_json_from(timeout=5)
    assert snapshot["type"] == "snapshot"
    assert [c["session_id"] for c in snapshot["calls"]] == [live.session_id]

    events = fixture_events("hold_resume")
    await sync_to_async(webhook.replay)(events)
    states = []
    for _ in events:
        message = await comm.receive_json_from(timeout=5)
        assert message["type"] == "call"
        assert message["call"]["session_id"] == "880000000301"
        states.append(message["call"]["state"])
    assert states == ["ringing", "connected", "on_hold", "connected", "ended"]
    assert message["call"]["contact"]["id"] == contact.pk
    assert message["call"]["duration"] == 30
    assert await comm.receive_nothing(timeout=0.3)
    await comm.disconnect()


async def test_agent_does_not_receive_other_agents_calls():
    await sync_to_async(agent_create)(extension="102")
    other = await sync_to_async(agent_create)(extension="103")
    webhook = await sync_to_async(_webhook)()
    comm = _communicator(other.user)
    await comm.connect()
    await comm.receive_json_from(timeout=5)  # snapshot
    await sync_to_async(webhook.replay)(fixture_events("hold_resume"))
    assert await comm.receive_nothing(timeout=0.5)
    await comm.disconnect()


async def test_admin_may_watch_another_agent():
    agent = await sync_to_async(agent_create)(extension="102")
    admin = await sync_to_async(agent_create)(extension="101", admin=True)
    await sync_to_async(call_make)(agent, state="ringing", ended_at=None)
    comm = _communicator(admin.user, f"agent={agent.pk}")
    connected, _ = await comm.connect()
    assert connected
    snapshot = await comm.receive_json_from(timeout=5)
    assert len(snapshot["calls"]) == 1
    await comm.disconnect()
