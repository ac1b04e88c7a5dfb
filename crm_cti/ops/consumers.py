"""``/ws/healthz/``: proves that websockets reach the app and the channel layer round-trips.

A load balancer that drops the Upgrade header, or a channel layer that cannot reach Redis,
breaks every pop; this endpoint lets an operator (and the test suite) check both at once.
It relays through Redis, so only a signed-in user may use it (4401 otherwise, like
``/ws/agent/``), and a message over ``HEALTHZ_MAX_MESSAGE_CHARS`` closes it (1009).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

# An echo is a few bytes ({"payload": "ping-42"}); nothing bigger goes through Redis.
HEALTHZ_MAX_MESSAGE_CHARS = 1024
CLOSE_UNAUTHENTICATED = 4401
CLOSE_UNSUPPORTED_DATA = 1003
CLOSE_MESSAGE_TOO_BIG = 1009


class HealthConsumer(AsyncJsonWebsocketConsumer):
    group = ""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.group = f"healthz.{uuid.uuid4().hex}"
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "hello"})

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None,
                      **kwargs: Any) -> None:
        # Checked before decoding: a large or malformed frame never reaches the layer.
        if text_data is None:
            await self.close(code=CLOSE_UNSUPPORTED_DATA)
            return
        if len(text_data) > HEALTHZ_MAX_MESSAGE_CHARS:
            await self.close(code=CLOSE_MESSAGE_TOO_BIG)
            return
        try:
            content = json.loads(text_data)
        except (ValueError, RecursionError):
            await self.close(code=CLOSE_UNSUPPORTED_DATA)
            return
        await self.receive_json(content, **kwargs)

    async def receive_json(self, content: Any, **kwargs: object) -> None:
        payload = content.get("payload") if isinstance(content, dict) else None
        # Through the layer and back, not a local echo: that is the round trip being checked.
        await self.channel_layer.group_send(
            self.group, {"type": "healthz.echo", "payload": payload}
        )

    async def healthz_echo(self, event: dict) -> None:
        await self.send_json({"type": "echo", "payload": event["payload"], "via": "channel_layer"})
