"""The official RingCentral Python SDK's WebSocket client (``ringcentral`` on PyPI), unchanged:
it gets a wstoken, connects, subscribes over the socket and receives a sandbox call's
presence."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from tests.support.sandbox import SandboxProcess

ringcentral = pytest.importorskip("ringcentral", reason="install the dev extra: ringcentral")
from ringcentral.websocket.events import WebSocketEvents  # noqa: E402

PRESENCE = "/restapi/v1.0/account/~/extension/~/presence?detailedTelephonyState=true"


async def test_sdk_websocket_client_receives_presence(fresh_sandbox: SandboxProcess) -> None:
    fresh_sandbox.config(speed=20)
    sdk = ringcentral.SDK(fresh_sandbox.client_id, fresh_sandbox.client_secret,
                          fresh_sandbox.url, "crm-cti-tests", "1.0")
    platform = sdk.platform()
    platform.login(jwt=fresh_sandbox.user("102")["jwt"])
    client = sdk.create_web_socket_client()
    subscribed = asyncio.Event()
    notifications: list[list] = []
    all_three = asyncio.Event()
    subscriptions: list = []

    def on_subscribed(subscription) -> None:
        subscriptions.append(subscription)
        subscribed.set()

    def on_notification(message: list) -> None:
        notifications.append(message)
        if len(notifications) == 3:
            all_three.set()

    client.on(WebSocketEvents.subscriptionCreated, on_subscribed)
    client.on(WebSocketEvents.receiveSubscriptionNotification, on_notification)
    running = asyncio.gather(client.create_new_connection(),
                             client.create_subscription([PRESENCE]))
    try:
        await asyncio.wait_for(subscribed.wait(), 30)
        info = subscriptions[0].get_subscription_info()
        assert info[1]["deliveryMode"] == {"transportType": "WebSocket"}
        details = client.get_connection_info()["connection_details"]
        assert '"ConnectionDetails"' in details
        call = fresh_sandbox.start_call("inbound_answered", extension="102")
        await asyncio.wait_for(all_three.wait(), 30)
    finally:
        with contextlib.suppress(Exception):
            await client.close_connection()
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(running, 10)
    bodies = [message[1]["body"] for message in notifications]
    assert [b["telephonyStatus"] for b in bodies] == ["Ringing", "CallConnected", "NoCall"]
    assert bodies[0]["activeCalls"][0]["sessionId"] == call["sessionId"]
    assert all(m[1]["subscriptionId"] == info[1]["id"] for m in notifications)
