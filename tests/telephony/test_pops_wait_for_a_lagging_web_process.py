"""A web process that falls behind gets every pop late, never loses one.

All the sockets of one web process share one Redis key in channels_redis, and group sends
past the layer's capacity are dropped without an error (its default, 100, lost pops at
200 events/s in the benchmark). Real Redis, the real channel layer, the product's push."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer

from crm_cti.telephony.push import agent_group_name, push_call_dicts

pytestmark = pytest.mark.integration

BACKLOG = 600


async def test_a_backlog_of_pops_is_delivered_in_order(distributed_mode):
    layer = get_channel_layer()
    channel = await layer.new_channel()  # one socket of this "web process"
    group = agent_group_name(987_654)
    await layer.group_add(group, channel)
    try:
        calls = [{"id": n, "agent_id": 987_654, "state": "ringing"} for n in range(BACKLOG)]
        # Nobody reads while the pops pile up: the web process is busy elsewhere. One batch
        # each (a batch's pops for one agent travel as one message: push._send_many).
        for call in calls:
            await sync_to_async(push_call_dicts)([call])
        received = []
        with contextlib.suppress(TimeoutError):
            while len(received) < BACKLOG:
                message = await asyncio.wait_for(layer.receive(channel), timeout=5)
                received += [m["call"]["id"] for m in message.get("messages")
                             or [message["message"]]]
        assert received == list(range(BACKLOG)), f"{len(received)} of {BACKLOG} arrived"
    finally:
        await layer.group_discard(group, channel)
