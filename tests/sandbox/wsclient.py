"""A minimal WebSocket gateway client for the sandbox's tests (the ``websockets`` library):
get a wstoken over HTTP, connect, send ``[header, body]`` messages, read them back."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

PRESENCE = "/restapi/v1.0/account/~/extension/~/presence?detailedTelephonyState=true"


def ws_token(api: httpx.Client) -> dict[str, Any]:
    response = api.post("/restapi/oauth/wstoken")
    assert response.status_code == 200, response.text
    return response.json()


class Gateway:
    """One connection: its ConnectionDetails and every message read so far."""

    def __init__(self, socket: ClientConnection, details: list[Any]) -> None:
        self.socket = socket
        self.details = details
        self.seen: list[list[Any]] = []

    @property
    def wsc(self) -> str:
        return self.details[0]["wsc"]["token"]

    async def send(self, header: dict[str, Any], body: Any = None) -> str:
        header = {"messageId": str(uuid.uuid4()), **header}
        await self.socket.send(json.dumps([header] if body is None else [header, body]))
        return header["messageId"]

    async def recv(self, timeout: float = 15.0) -> list[Any]:
        message = json.loads(await asyncio.wait_for(self.socket.recv(), timeout))
        self.seen.append(message)
        return message

    async def next(self, kind: str, timeout: float = 15.0, message_id: str | None = None,
                   ) -> list[Any]:
        """The next message of ``kind`` (and ``message_id``), skipping others."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            message = await self.recv(max(0.01, deadline - loop.time()))
            header = message[0]
            if header["type"] == kind and message_id in (None, header.get("messageId")):
                return message

    async def request(self, method: str, path: str, body: Any = None) -> list[Any]:
        message_id = await self.send({"type": "ClientRequest", "method": method, "path": path},
                                     body)
        return await self.next("ClientRequest", message_id=message_id)

    async def subscribe(self, filters: list[str] | None = None) -> dict[str, Any]:
        answer = await self.request("POST", "/restapi/v1.0/subscription/", {
            "eventFilters": filters or [PRESENCE],
            "deliveryMode": {"transportType": "WebSocket"}})
        assert answer[0]["status"] == 200, answer
        return answer[1]

    async def notifications(self, count: int, timeout: float = 20.0) -> list[list[Any]]:
        return [await self.next("ServerNotification", timeout) for _ in range(count)]

    async def close(self) -> None:
        await self.socket.close()


async def gateway_open(api: httpx.Client, wsc: str | None = None) -> Gateway:
    token = ws_token(api)
    url = f"{token['uri']}?access_token={token['ws_access_token']}"
    if wsc:
        url += f"&wsc={wsc}"
    socket = await connect(url, open_timeout=15)
    details = json.loads(await asyncio.wait_for(socket.recv(), 15))
    return Gateway(socket, details)
