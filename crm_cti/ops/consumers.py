"""``/ws/healthz/``: proves that websockets reach the app and the channel layer round-trips.

A load balancer that drops the Upgrade header, or a channel layer that cannot reach Redis,
breaks every pop; this endpoint lets an operator (and the test suite) check both at once.
"""

from __future__ import annotations

import uuid

from channels.generic.websocket import AsyncJsonWebsocketConsumer


class HealthConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        self.group = f"healthz.{uuid.uuid4().hex}"
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "hello"})

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: dict, **kwargs: object) -> None:
        # Through the layer and back, not a local echo: that is the round trip being checked.
        await self.channel_layer.group_send(
            self.group, {"type": "healthz.echo", "payload": content.get("payload")}
        )

    async def healthz_echo(self, event: dict) -> None:
        await self.send_json({"type": "echo", "payload": event["payload"], "via": "channel_layer"})
