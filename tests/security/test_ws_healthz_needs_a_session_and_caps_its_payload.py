"""``/ws/healthz/`` relays what it is sent through the channel layer (Redis in distributed
mode): without a session it is refused (4401), and a message over the cap, binary or not
JSON closes it before anything reaches the layer.

Through the real ASGI application (origin check, session cookie, auth middleware) in
process, and the real channel layer."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async

from crm_cti.ops.consumers import HEALTHZ_MAX_MESSAGE_CHARS
from tests.support.websocket import Socket as BaseSocket
from tests.support.websocket import session_cookie_for as _cookie_for

pytestmark = pytest.mark.django_db(transaction=True)


class Socket(BaseSocket):
    def __init__(self, *, cookie: bytes = b"") -> None:
        super().__init__(path="/ws/healthz/", cookie=cookie)

    async def open(self) -> tuple[bool, int | None]:
        opened, code = await super().open()
        if opened:
            assert json.loads((await self.receive_output(5))["text"]) == {"type": "hello"}
        return opened, code

    async def reply(self) -> dict:
        return await self.receive_output(5)


async def test_without_a_session_it_is_refused():
    assert await Socket().open() == (False, 4401)


async def test_a_signed_in_user_gets_the_echo_through_the_layer(agent):
    sock = Socket(cookie=await sync_to_async(_cookie_for)(agent.user))
    assert await sock.open() == (True, None)
    await sock.send_input({"type": "websocket.receive", "text": '{"payload": "ping-42"}'})
    message = await sock.reply()
    assert json.loads(message["text"]) == {"type": "echo", "payload": "ping-42",
                                           "via": "channel_layer"}
    await sock.send_input({"type": "websocket.disconnect", "code": 1000})
    await sock.wait(2)


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ({"text": json.dumps({"payload": "x" * HEALTHZ_MAX_MESSAGE_CHARS})}, 1009),
        ({"bytes": b'{"payload": "ping"}'}, 1003),
        ({"text": "{not json"}, 1003),
    ],
    ids=["over-the-cap", "binary", "not-json"],
)
async def test_an_oversized_or_odd_message_closes_it_unrelayed(agent, frame, code):
    sock = Socket(cookie=await sync_to_async(_cookie_for)(agent.user))
    assert await sock.open() == (True, None)
    await sock.send_input({"type": "websocket.receive", **frame})
    message = await sock.reply()
    assert message == {"type": "websocket.close", "code": code}
