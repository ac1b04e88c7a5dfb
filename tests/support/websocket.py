"""A websocket client for tests (``/ws/agent/`` unless told): the real ASGI application,
in-process."""

from __future__ import annotations

import json

from asgiref.testing import ApplicationCommunicator
from django.conf import settings
from django.test import Client

from crm_cti.asgi import application

ORIGIN = b"http://127.0.0.1:8000"


def session_cookie_for(user) -> bytes:
    """The session cookie of ``user`` signed in (no RingCentral involved)."""
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"\
        .encode()


class Socket(ApplicationCommunicator):
    """A socket through the real ASGI application (origin check, session cookie, auth
    middleware), in this process."""

    def __init__(self, *, path: str = "/ws/agent/", cookie: bytes = b"", query: str = "") -> None:
        headers = [(b"host", b"127.0.0.1:8000"), (b"origin", ORIGIN)]
        if cookie:
            headers.append((b"cookie", cookie))
        super().__init__(application, {
            "type": "websocket", "path": path, "query_string": query.encode(),
            "headers": headers, "subprotocols": [], "client": ("127.0.0.1", 5000),
            "server": ("127.0.0.1", 8000),
        })

    async def open(self) -> tuple[bool, int | None]:
        await self.send_input({"type": "websocket.connect"})
        message = await self.receive_output(5)
        if message["type"] == "websocket.close":
            code = message.get("code")
            # As a server does after the application closed: tell it the socket is gone, so
            # the consumer ends now (left pending, its channel-layer receive can hold up the
            # event loop's shutdown at teardown).
            await self.send_input({"type": "websocket.disconnect", "code": code or 1000})
            await self.wait(2)
            return False, code
        return True, None

    async def json(self, timeout: float = 2) -> dict:
        message = await self.receive_output(timeout)
        assert message["type"] == "websocket.send", message
        return json.loads(message["text"])

    async def close(self) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": 1000})
        await self.wait(2)
