"""Helpers for the telephony-session and Call Control tests: subscriptions, event parsing,
API clients of the second app (without CallControl)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.sandbox.conftest import PRESENCE, subscribe
from tests.sandbox.receiver import Receiver
from tests.support.sandbox import JWT_GRANT, SandboxProcess

SESSIONS = "/restapi/v1.0/account/~/extension/~/telephony/sessions"
ACCOUNT_SESSIONS = "/restapi/v1.0/account/~/telephony/sessions"
TELEPHONY = "/restapi/v1.0/account/~/telephony"
LIMITED_CLIENT = ("crm-cti-no-callcontrol-client", "crm-cti-no-callcontrol-secret")


def subscribe_sessions(client: httpx.Client, receiver: Receiver,
                       filters: list[str] | None = None) -> dict:
    return subscribe(client, receiver, filters or [SESSIONS, PRESENCE])


def session_events(receiver: Receiver, telephony_session_id: str | None = None,
                   ) -> list[dict[str, Any]]:
    """Telephony-session bodies received, in arrival order (optionally of one session)."""
    return [b["body"] for b in receiver.bodies()
            if "/telephony/sessions" in b["event"]
            and (telephony_session_id is None
                 or b["body"]["telephonySessionId"] == telephony_session_id)]


def presence_events(receiver: Receiver, extension_id: str) -> list[dict[str, Any]]:
    return [b["body"] for b in receiver.bodies()
            if b["event"].endswith("/presence") or "/presence?" in b["event"]
            if b["body"].get("extensionId") == extension_id]


def party_codes(events: list[dict[str, Any]], extension_id: str) -> list[str]:
    """The status codes one extension's parties went through, in ``sequence`` order."""
    ordered = sorted(events, key=lambda body: body["sequence"])
    return [party["status"]["code"] for body in ordered for party in body["parties"]
            if party["extensionId"] == extension_id]


def last_party(events: list[dict[str, Any]], extension_id: str) -> dict[str, Any]:
    ordered = sorted(events, key=lambda body: body["sequence"])
    return [party for body in ordered for party in body["parties"]
            if party["extensionId"] == extension_id][-1]


def limited_api(sandbox: SandboxProcess, extension: str = "102") -> httpx.Client:
    """A client signed in through the second registered app, which lacks CallControl."""
    token = sandbox.http.post("/restapi/oauth/token", data={
        "grant_type": JWT_GRANT, "assertion": sandbox.user(extension)["jwt"]},
        auth=LIMITED_CLIENT)
    assert token.status_code == 200, token.text
    assert "CallControl" not in token.json()["scope"].split()
    return httpx.Client(base_url=sandbox.url, timeout=30.0,
                        headers={"Authorization": f"Bearer {token.json()['access_token']}"})


def device_id(client: httpx.Client, kind: str = "HardPhone") -> str:
    records = client.get("/restapi/v1.0/account/~/extension/~/device").json()["records"]
    return next(record["id"] for record in records if record["type"] == kind)


def party_of(client: httpx.Client, telephony_session_id: str, extension_id: str,
             *, status: str | None = None) -> dict[str, Any]:
    """The extension's (latest) party in the session, read through Call Control."""
    session = client.get(f"{TELEPHONY}/sessions/{telephony_session_id}").json()
    parties = [party for party in session["parties"] if party["extensionId"] == extension_id
               and (status is None or party["status"]["code"] == status)]
    assert parties, session
    return parties[-1]
