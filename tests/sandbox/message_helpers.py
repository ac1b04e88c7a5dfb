"""Helpers for the message-store tests: paths, inbound SMS through the control API, a
client of the app without the message permissions, message events received."""

from __future__ import annotations

from typing import Any

import httpx

from tests.sandbox.receiver import Receiver
from tests.support.sandbox import JWT_GRANT, SandboxProcess

STORE = "/restapi/v1.0/account/~/extension/~/message-store"
SYNC = "/restapi/v1.0/account/~/extension/~/message-sync"
SMS = "/restapi/v1.0/account/~/extension/~/sms"
PAGER = "/restapi/v1.0/account/~/extension/~/company-pager"
MESSAGE_EVENTS = "/restapi/v1.0/account/~/extension/~/message-store"
INSTANT_SMS = "/restapi/v1.0/account/~/extension/~/message-store/instant?type=SMS"
T_STORE = "/restapi/v1.0/account/{accountId}/extension/{extensionId}/message-store"
T_MESSAGE = T_STORE + "/{messageId}"
T_SYNC = "/restapi/v1.0/account/{accountId}/extension/{extensionId}/message-sync"
NO_MESSAGES_CLIENT = ("crm-cti-no-messages-client", "crm-cti-no-messages-secret")
CUSTOMER = "+16504445567"


def inbound_sms(sandbox: SandboxProcess, extension: str, text: str,
                sender: str = CUSTOMER, **extra: Any) -> dict[str, Any]:
    """A person texts the extension's direct number (the control API)."""
    response = sandbox.http.post("/sandbox/sms", json={"extension": extension, "from": sender,
                                                       "text": text, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def stored(sandbox: SandboxProcess, extension: str) -> list[dict[str, Any]]:
    """Every record of one store, whatever its availability (the control API)."""
    response = sandbox.http.get("/sandbox/message-store", params={"extension": extension})
    assert response.status_code == 200, response.text
    return response.json()


def send_sms(client: httpx.Client, own: str, to: str, text: str) -> dict[str, Any]:
    response = client.post(SMS, json={"from": {"phoneNumber": own},
                                      "to": [{"phoneNumber": to}], "text": text})
    assert response.status_code == 200, response.text
    return response.json()


def no_messages_api(sandbox: SandboxProcess, extension: str = "102") -> httpx.Client:
    """A client signed in through the app registered without ReadMessages, EditMessages, SMS."""
    token = sandbox.http.post("/restapi/oauth/token", data={
        "grant_type": JWT_GRANT, "assertion": sandbox.user(extension)["jwt"]},
        auth=NO_MESSAGES_CLIENT)
    assert token.status_code == 200, token.text
    assert "ReadMessages" not in token.json()["scope"].split()
    return httpx.Client(base_url=sandbox.url, timeout=30.0,
                        headers={"Authorization": f"Bearer {token.json()['access_token']}"})


def message_events(receiver: Receiver, *, instant: bool) -> list[dict[str, Any]]:
    """Envelopes of message events (``instant``: the instant SMS ones) in arrival order."""
    return [b for b in receiver.bodies()
            if "/message-store" in b["event"] and ("/instant" in b["event"]) == instant]
