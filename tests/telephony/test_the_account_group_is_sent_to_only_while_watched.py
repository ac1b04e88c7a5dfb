"""Changes go to the admins' account group (``?agent=all``) only while someone watches it:
an admin who watches everyone gets every change, and once the last such socket closed the
pushes go to the agent's group alone (one channel-layer send per change instead of two).
Real Redis (channel layer and the watchers' set), the consumer through ASGI."""

from __future__ import annotations

import uuid

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from crm_cti.celery import app
from crm_cti.dashboard.consumers import AgentConsumer
from crm_cti.telephony.models import Subscription
from crm_cti.telephony.push import account_watched
from tests.support.people import agent_create
from tests.telephony.conftest import Webhook, WebsocketCommunicator, fixture_events

pytestmark = [
    pytest.mark.usefixtures("distributed_mode", "eager_tasks"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def _deployment(monkeypatch):
    monkeypatch.setattr(app.conf, "task_default_queue", f"test-watch-{uuid.uuid4().hex}")


async def test_an_admin_watching_everyone_gets_every_change_and_stops_counting_on_close():
    agent = await sync_to_async(agent_create)(extension="102")
    admin = await sync_to_async(agent_create)(extension="101", admin=True)
    sub = await sync_to_async(Subscription.objects.create)(
        rc_id="sub-watch", verification_token="tok-watch", status="Active")
    webhook = Webhook(client=Client(), subscription=sub)
    assert not await sync_to_async(account_watched)()

    watcher = WebsocketCommunicator(AgentConsumer.as_asgi(), "/ws/agent/", user=admin.user,
                                    query="agent=all")
    assert (await watcher.connect())[0]
    assert (await watcher.receive_json_from())["type"] == "snapshot"
    assert await sync_to_async(account_watched)()
    own = WebsocketCommunicator(AgentConsumer.as_asgi(), "/ws/agent/", user=agent.user)
    assert (await own.connect())[0]
    await own.receive_json_from()

    events = fixture_events("hold_resume")
    await sync_to_async(webhook.replay)(events)
    for comm in (watcher, own):
        states = [(await comm.receive_json_from())["call"]["state"] for _ in events]
        assert states == ["ringing", "connected", "on_hold", "connected", "ended"]
    await watcher.disconnect()
    assert not await sync_to_async(account_watched)()
    await own.disconnect()
