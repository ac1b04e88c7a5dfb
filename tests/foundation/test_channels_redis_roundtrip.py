"""A websocket message goes through the real Channels stack and channels_redis and back."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from tests.support.stack import process_env

from .helpers import serve

pytestmark = pytest.mark.integration


@pytest.fixture
def distributed_server(tmp_path, postgres_url, redis_url, transactional_db):
    # This test's database and keys: /ws/healthz/ needs a session made here.
    env = process_env(VAR_DIR=str(tmp_path), REDIS_URL=redis_url)
    proc, base = serve(env, "ws-roundtrip")
    yield base.replace("http://", "ws://"), base
    proc.stop()


def _session_cookie() -> str:
    user = get_user_model().objects.create_user(username="ws-roundtrip")
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def test_websocket_round_trip_through_channels_redis(distributed_server):
    ws_base, origin = distributed_server
    cookie = _session_cookie()

    async def exchange() -> list[dict]:
        async with websockets.connect(f"{ws_base}/ws/healthz/", origin=origin,
                                      additional_headers={"Cookie": cookie}) as ws:
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
