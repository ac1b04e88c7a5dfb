"""Event → pop over the WebSocket transport, beside the webhook: ``bench/run.py --only
websocket`` (part of ``make bench``).

The same product twice on the bench database, in account mode (the sandbox admin's JWT):
once with ``RC_EVENTS_TRANSPORT=webhook`` (the sandbox POSTs to the web process), once with
``websocket`` (``manage.py rcevents`` holds the account's gateway connection). Each time the
sandbox's four agents (102-105) hold ``/ws/agent/`` and take calls, one at a time each,
concurrently across agents: the time from asking the sandbox for a ringing call to the
ringing card on the agent's socket is the figure (the sandbox's own part is the same for
both transports). A call whose card never came is counted lost, a second ringing card for
it duplicated.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import requests
from websockets.sync.client import connect as ws_connect

from bench.stack import VENV_BIN, Proc, free_port, wait_http
from bench.stats import summarize

EXTENSIONS = ("102", "103", "104", "105")
POP_TIMEOUT_SECONDS = 15.0


def agents_for_sandbox(sandbox_url: str) -> list[dict[str, Any]]:
    """An agent row and a session cookie per sandbox extension (account mode: no tokens)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.db import SessionStore

    from crm_cti.accounts.models import Agent

    users = {u["extension_number"]: u
             for u in requests.get(f"{sandbox_url}/sandbox/users", timeout=10).json()}
    out = []
    for number in EXTENSIONS:
        rc = users[number]
        user, _ = User.objects.get_or_create(username=f"bench-ws-{number}")
        Agent.objects.update_or_create(rc_extension_id=str(rc["extension_id"]), defaults={
            "user": user, "rc_account_id": str(rc["account_id"]),
            "extension_number": number, "name": rc["name"], "needs_signin": False})
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        out.append({"number": number,
                    "cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}"})
    return out


def _agent_calls(app_url: str, sandbox_url: str, agent: dict[str, Any], calls: int,
                 out: dict[str, Any]) -> None:
    socket = ws_connect(app_url.replace("http://", "ws://") + "/ws/agent/",
                        additional_headers={"Cookie": agent["cookie"], "Origin": app_url},
                        open_timeout=15)
    http = requests.Session()
    try:
        json.loads(socket.recv(timeout=15))  # the snapshot
        for _ in range(calls):
            started = time.perf_counter()
            call = http.post(f"{sandbox_url}/sandbox/calls", timeout=10, json={
                "scenario": "interactive", "extension": agent["number"]}).json()
            session_id = call["sessionId"]
            popped = _wait_ringing(socket, session_id, started)
            if popped is None:
                out["lost"] += 1
                out.setdefault("lost_examples", []).append(session_id)
            else:
                out["latencies"].append(popped[0])
            http.post(f"{sandbox_url}/sandbox/calls/{session_id}/hangup", json={}, timeout=10)
            if popped is not None:
                out["duplicated"] += _count_ringing(socket, session_id, popped[1])
    finally:
        socket.close()
        http.close()


def _wait_ringing(socket: Any, session_id: str, started: float,
                  ) -> tuple[float, int] | None:
    """(seconds to the ringing card, its call id), None when it never came."""
    deadline = time.monotonic() + POP_TIMEOUT_SECONDS
    while (left := deadline - time.monotonic()) > 0:
        try:
            message = json.loads(socket.recv(timeout=left))
        except TimeoutError:
            return None
        call = message.get("call") if message.get("type") == "call" else None
        if call and call["session_id"] == session_id and call["state"] == "ringing":
            return time.perf_counter() - started, call["id"]
    return None


def _count_ringing(socket: Any, session_id: str, card_id: int) -> int:
    """Second pops of the call until it ended: a ringing card of another call row, or the
    card ringing again after it left ringing. (A ringing card updated in place — presence
    and telephony sessions each add facts to the same card — is not a second pop.)"""
    extra = 0
    left_ringing = False
    deadline = time.monotonic() + POP_TIMEOUT_SECONDS
    while (left := deadline - time.monotonic()) > 0:
        try:
            message = json.loads(socket.recv(timeout=left))
        except TimeoutError:
            break
        call = message.get("call") if message.get("type") == "call" else None
        if call and call["session_id"] == session_id:
            if call["state"] == "ringing" and (call["id"] != card_id or left_ringing):
                extra += 1
            elif call["state"] != "ringing":
                left_ringing = True
            if call["state"] in ("ended", "missed"):
                break
    return extra


def _ready(sandbox_url: str, transport: str) -> bool:
    subs = requests.get(f"{sandbox_url}/sandbox/subscriptions", timeout=5).json()
    return any(s["transport"] == transport and s["status"] == "Active" for s in subs)


def _account_webhook_subscribe(sandbox_url: str, app_url: str, jwt: str) -> None:
    """The account's webhook subscription, made now (as the admin's button does) rather
    than at beat's first subscription check, an hour in."""
    from django.conf import settings

    from crm_cti.telephony.services.subscriptions import subscription_ensure

    settings.RC_SERVER_URL, settings.WEBHOOK_BASE_URL, settings.RC_JWT = (
        sandbox_url, app_url, jwt)
    settings.ACCOUNT_SUBSCRIPTION = True
    subscription_ensure(agent=None)


def transport_run(transport: str, *, calls: int, start_sandbox: Any, start_product: Any,
                  scale: Any) -> dict[str, Any]:
    """One transport: the product up, the agents' calls played, the figures."""
    sandbox_port = free_port()
    sandbox = start_sandbox(port=sandbox_port)
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    jwt = next(u for u in requests.get(f"{sandbox_url}/sandbox/users", timeout=10).json()
               if u["extension_number"] == "101")["jwt"]
    extra = {"RC_EVENTS_TRANSPORT": transport, "ACCOUNT_SUBSCRIPTION": "true", "RC_JWT": jwt}
    stack = start_product(scale, sandbox_port=sandbox_port, extra_env=extra)
    events = None
    try:
        if transport == "webhook":
            _account_webhook_subscribe(sandbox_url, stack.url, jwt)
        else:
            events = Proc("events", [str(VENV_BIN / "python"), "manage.py", "rcevents"],
                          {**stack.procs["web"].env}).start()
        deadline = time.monotonic() + 60
        kind = "WebSocket" if transport == "websocket" else "WebHook"
        while not _ready(sandbox_url, kind):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no Active {kind} subscription within 60 s")
            time.sleep(0.3)
        wait_http(f"{stack.url}/healthz", proc=stack.procs["web"])
        agents = agents_for_sandbox(sandbox_url)
        out: dict[str, Any] = {"latencies": [], "lost": 0, "duplicated": 0}
        per_agent = max(1, calls // len(agents))
        threads = [threading.Thread(target=_agent_calls,
                                    args=(stack.url, sandbox_url, a, per_agent, out))
                   for a in agents]
        began = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return {"calls": per_agent * len(agents), "lost": out["lost"],
                "lost_examples": out.get("lost_examples", [])[:5],
                "duplicated": out["duplicated"], "seconds": round(time.monotonic() - began, 1),
                "event_to_pop_ms": summarize(out["latencies"])}
    finally:
        if events is not None:
            events.stop()
        stack.stop()
        sandbox.stop()


def websocket_run(*, calls: int, start_sandbox: Any, start_product: Any,
                  scale: Any) -> dict[str, Any]:
    """Both transports, webhook first: ``{"webhook": {...}, "websocket": {...}}``."""
    return {transport: transport_run(transport, calls=calls, start_sandbox=start_sandbox,
                                     start_product=start_product, scale=scale)
            for transport in ("webhook", "websocket")}
