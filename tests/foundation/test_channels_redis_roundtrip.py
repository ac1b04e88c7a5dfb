"""A websocket message goes through the real Channels stack and channels_redis and back."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets

from .helpers import clean_env, serve

pytestmark = pytest.mark.integration


@pytest.fixture
def distributed_server(tmp_path, postgres_url, redis_url):
    env = clean_env(VAR_DIR=str(tmp_path), DATABASE_URL=postgres_url, REDIS_URL=redis_url)
    proc, base = serve(env, "ws-roundtrip")
    yield base.replace("http://", "ws://"), base
    proc.stop()


def test_websocket_round_trip_through_channels_redis(distributed_server):
    ws_base, origin = distributed_server

    async def exchange() -> list[dict]:
        async with websockets.connect(f"{ws_base}/ws/healthz/", origin=origin) as ws:
            hello = json.loads(await asyncio.wait_for(ws.recv(), 10))
            await ws.send(json.dumps({"payload": "ping-42"}))
            echo = json.loads(await asyncio.wait_for(ws.recv(), 10))
            return [hello, echo]

    hello, echo = asyncio.run(exchange())
    assert hello == {"type": "hello"}
    assert echo == {"type": "echo", "payload": "ping-42", "via": "channel_layer"}


def test_websocket_from_a_foreign_origin_is_refused(distributed_server):
    ws_base, _ = distributed_server

    async def attempt() -> None:
        async with websockets.connect(f"{ws_base}/ws/healthz/", origin="http://evil.example"):
            pass

    with pytest.raises(websockets.exceptions.InvalidStatus):
        asyncio.run(attempt())
