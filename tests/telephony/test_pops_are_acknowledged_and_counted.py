"""Pop receipts: every pushed call frame carries ``event_at``; the browser's receipt for it
is counted once per call and state into event → render percentiles; pops never
acknowledged and calls that rang with no socket open are counted too, and the operations
page shows them. Real Redis (receipts and channel layer), real database, the consumer
through ASGI."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from crm_cti.celery import app
from crm_cti.dashboard.consumers import AgentConsumer
from crm_cti.redis_client import redis_client
from crm_cti.telephony import receipts
from crm_cti.telephony.models import Call, Subscription
from tests.support.people import agent_create
from tests.telephony.conftest import Webhook, WebsocketCommunicator, fixture_events

pytestmark = [
    pytest.mark.usefixtures("distributed_mode", "eager_tasks"),
    pytest.mark.django_db(transaction=True),
]

RENDER_MS = 40.0


@pytest.fixture
def deployment(monkeypatch):
    """Receipts of this test's own (keys are named after the deployment's queue)."""
    queue = f"test-receipts-{uuid.uuid4().hex}"
    monkeypatch.setattr(app.conf, "task_default_queue", queue)
    yield queue
    client = redis_client()
    keys = client.keys(f"{queue}:*")
    if keys:
        client.delete(*keys)


def _webhook() -> Webhook:
    sub = Subscription.objects.create(rc_id="sub-rc", verification_token="tok-rc", status="Active")
    return Webhook(client=Client(), subscription=sub)


async def _connect(user) -> WebsocketCommunicator:
    comm = WebsocketCommunicator(AgentConsumer.as_asgi(), "/ws/agent/", user=user)
    connected, _ = await comm.connect()
    assert connected
    assert (await comm.receive_json_from())["type"] == "snapshot"
    return comm


async def _send(comm: WebsocketCommunicator, content: dict) -> None:
    await comm.send_input({"type": "websocket.receive", "text": json.dumps(content)})


async def _settled(comm: WebsocketCommunicator) -> dict:
    """A bad receipt's answer: every receipt sent before it has been handled."""
    await _send(comm, {"type": "receipt", "call": "not a call"})
    return await comm.receive_json_from()


async def test_each_rendered_pop_is_acknowledged_once_and_counted(deployment):
    agent = await sync_to_async(agent_create)(extension="102")
    webhook = await sync_to_async(_webhook)()
    comm = await _connect(agent.user)
    events = fixture_events("hold_resume")
    await sync_to_async(webhook.replay)(events)
    frames = [await comm.receive_json_from() for _ in events]
    assert [f["call"]["state"] for f in frames] == [
        "ringing", "connected", "on_hold", "connected", "ended"]
    assert all(isinstance(f["event_at"], float) for f in frames)

    for frame in frames:
        await _send(comm, {"type": "receipt", "call": frame["call"]["id"],
                           "state": frame["call"]["state"], "event_at": frame["event_at"],
                           "rendered_at": frame["event_at"] + RENDER_MS})
    # A second tab acknowledging the same pop again does not count it twice.
    await _send(comm, {"type": "receipt", "call": frames[0]["call"]["id"], "state": "ringing",
                       "event_at": frames[0]["event_at"],
                       "rendered_at": frames[0]["event_at"] + 9000})
    error = await _settled(comm)
    assert error == {"type": "error", "error": "receipt: call must be a positive integer"}
    await comm.disconnect()

    summary = await sync_to_async(receipts.receipts_summary)()
    hour = summary["hour"]
    # "connected" came twice: the first push of a call's state is the pop that counts.
    assert hour["count"] == 4
    assert RENDER_MS * 0.95 <= hour["p50"] <= RENDER_MS * 1.05
    assert hour["p99"] <= RENDER_MS * 1.05
    assert hour["unacknowledged"] == 0 and hour["rang_unseen"] == 0
    assert summary["day"]["count"] == 4


async def test_unacknowledged_pops_and_calls_rung_unseen_show_on_the_operations_page(
    deployment,
):
    watched = await sync_to_async(agent_create)(extension="102")
    away = await sync_to_async(agent_create)(extension="103")
    # The seed flow's extension: this agent has no socket open.
    await sync_to_async(type(away).objects.filter(pk=away.pk).update)(
        rc_extension_id="607457016")
    admin = await sync_to_async(agent_create)(extension="101", admin=True)
    webhook = await sync_to_async(_webhook)()
    comm = await _connect(watched.user)
    await sync_to_async(webhook.replay)("hold_resume")
    for _ in fixture_events("hold_resume"):
        await comm.receive_json_from()  # shown, never acknowledged
    await sync_to_async(webhook.replay)("seed_answered_inbound")
    await comm.disconnect()
    unseen = await sync_to_async(Call.objects.get)(agent=away)

    later = time.time() + receipts.RECEIPT_GRACE_SECONDS + 1
    summary = await sync_to_async(receipts.receipts_summary)(now=later)
    assert summary["day"]["unacknowledged"] == 4  # ringing, connected, on_hold, ended
    assert summary["day"]["count"] == 0
    assert summary["day"]["rang_unseen"] == 1
    assert summary["rang_unseen_calls"] == [unseen.pk]

    def page() -> str:
        client = Client()
        client.force_login(admin.user)
        return client.get("/ops/").content.decode()

    html = await sync_to_async(page)()
    assert "Pops on agents&#x27; screens (receipts)" in html or "Pops on agents' screens" in html
    assert 'id="pop-receipts"' in html
    assert f"#{unseen.pk}" in html


def test_a_receipt_is_refused_when_it_is_not_one():
    for content, error in (
        ({"call": 0, "state": "ringing", "event_at": 1, "rendered_at": 2}, "call must"),
        ({"call": 1, "state": "", "event_at": 1, "rendered_at": 2}, "state must"),
        ({"call": 1, "state": "ringing", "event_at": "x", "rendered_at": 2}, "epoch"),
        ({"call": 1, "state": "ringing", "event_at": 1, "rendered_at": 9e12}, "within an hour"),
    ):
        with pytest.raises(receipts.InvalidReceipt, match=error):
            receipts.receipt_parse(content)
    # A browser clock a little behind the server's: not late, not negative.
    assert receipts.receipt_parse(
        {"call": 1, "state": "ringing", "event_at": 1000, "rendered_at": 990}) == (
        1, "ringing", 0.0)
