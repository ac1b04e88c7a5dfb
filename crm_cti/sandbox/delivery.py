"""Webhook delivery: the validation handshake, one ordered queue per subscription, retries,
the delivery log and blacklisting. WebSocket subscriptions share the queue (and so the
delivery faults) and go out through their gateway session (wssession.py)."""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
import time
import uuid
from typing import Any

import httpx

from crm_cti.sandbox import wssession
from crm_cti.sandbox.state import SandboxState, Subscription, iso, now

log = logging.getLogger(__name__)
_attempt_ids = itertools.count(1)

USER_AGENT = "RingCentral-Sandbox-Webhook/1.0"


class Transport:
    """The process-wide HTTP client (kept across resets, closed at shutdown)."""

    def __init__(self) -> None:
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                limits=httpx.Limits(max_connections=500, max_keepalive_connections=100),
                follow_redirects=False,
                headers={"User-Agent": USER_AGENT},
            )
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


TRANSPORT = Transport()


async def handshake(address: str, timeout: float) -> str | None:
    """POST the ``Validation-Token``; return None if echoed, else why it failed."""
    token = str(uuid.uuid4())
    try:
        response = await asyncio.wait_for(TRANSPORT.client.post(
            address, headers={"Validation-Token": token, "Content-Type": "application/json"},
            timeout=timeout,
        ), timeout)
    except TimeoutError:
        return f"WebHook address did not answer within {timeout:g}s"
    except httpx.HTTPError as error:
        return f"WebHook address could not be reached: {type(error).__name__}"
    if response.status_code != 200:
        return f"WebHook responded with HTTP status code {response.status_code}"
    if response.headers.get("Validation-Token") != token:
        return "Validation Token is not returned"
    return None


def enqueue(
    state: SandboxState, sub: Subscription, envelope: dict[str, Any], *,
    delay: float = 0.0, fault: str | None = None,
) -> None:
    queue: asyncio.Queue | None = state.queues.get(sub.id)
    if queue is None:
        queue = asyncio.Queue()
        state.queues[sub.id] = queue
        state.workers[sub.id] = state.spawn(_worker(state, sub, queue))
    queue.put_nowait((envelope, delay, fault))


async def _worker(state: SandboxState, sub: Subscription, queue: asyncio.Queue) -> None:
    while True:
        envelope, delay, fault = await queue.get()
        if sub.status != "Active" or sub.id not in state.subscriptions:
            continue
        if delay:
            await asyncio.sleep(delay)
        if sub.transport == "WebSocket":
            await _deliver_websocket(state, sub, envelope, fault)
        else:
            await _deliver(state, sub, envelope, fault)


async def _deliver_websocket(
    state: SandboxState, sub: Subscription, envelope: dict[str, Any], fault: str | None
) -> None:
    started = time.perf_counter()
    error = await wssession.deliver(state, sub, envelope)
    state.stats["deliveries"]["ok" if error is None else "failed"] += 1
    state.deliveries.append(_record(
        sub, envelope, attempt=1, address=f"wsc:{sub.ws_session}", status=None, error=error,
        latency_ms=(time.perf_counter() - started) * 1000, fault=fault))


async def _deliver(
    state: SandboxState, sub: Subscription, envelope: dict[str, Any], fault: str | None
) -> None:
    attempts = max(1, int(state.config["delivery_attempts"]))
    timeout = float(state.config["delivery_timeout"])
    headers = {"Content-Type": "application/json"}
    if sub.verification_token:
        headers["Verification-Token"] = sub.verification_token
    for attempt in range(1, attempts + 1):
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        try:
            # The deadline is for the whole exchange, not per socket operation.
            response = await asyncio.wait_for(
                TRANSPORT.client.post(sub.address, json=envelope, headers=headers,
                                      timeout=timeout),
                timeout,
            )
            status = response.status_code
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except (httpx.TimeoutException, TimeoutError):
            error = f"timeout after {timeout:g}s"
        except httpx.HTTPError as exc:
            error = type(exc).__name__
        latency = (time.perf_counter() - started) * 1000
        ok = error is None
        state.stats["deliveries"]["ok" if ok else "failed"] += 1
        state.deliveries.append(_record(
            sub, envelope, attempt=attempt, address=sub.address, status=status, error=error,
            latency_ms=latency, fault=fault))
        if ok:
            sub.consecutive_failures = 0
            return
        if attempt < attempts:
            await asyncio.sleep(float(state.config["delivery_retry_delay"]))
    sub.consecutive_failures += 1
    if sub.consecutive_failures >= int(state.config["blacklist_after"]):
        sub.status = "Blacklisted"
        sub.blacklisted_data = {
            "blacklistedAt": iso(now()),
            "reason": f"Webhook delivery failed {sub.consecutive_failures} times in a row "
                      f"(last error: {error})",
        }
        log.info("subscription %s blacklisted", sub.id)


def _record(
    sub: Subscription, envelope: dict[str, Any], *, attempt: int, address: str,
    status: int | None, error: str | None, latency_ms: float, fault: str | None,
) -> dict[str, Any]:
    """One delivery-log entry (``GET /sandbox/deliveries``), whichever transport."""
    body = envelope.get("body") if isinstance(envelope.get("body"), dict) else {}
    return {
        "id": next(_attempt_ids),
        "subscriptionId": sub.id,
        "uuid": envelope.get("uuid"),
        "event": envelope.get("event"),
        "extensionId": body.get("extensionId"),
        "sequence": body.get("sequence"),
        "telephonyStatus": body.get("telephonyStatus"),
        # Presence names its calls in activeCalls; a telephony-session event is one call.
        "sessionIds": sorted({c.get("sessionId") for c in body.get("activeCalls") or []
                              if isinstance(c, dict) and c.get("sessionId")}
                             | ({str(body["sessionId"])} if body.get("sessionId") else set())),
        "attempt": attempt,
        "address": address,
        "status": status,
        "ok": error is None,
        "error": error,
        "latency_ms": round(latency_ms, 2),
        "at": iso(now()),
        "fault": fault,
    }


def stop(state: SandboxState, sub_id: str) -> None:
    """Forget a deleted subscription's queue and stop its worker."""
    state.delivery_stop(sub_id)


def envelope_build(sub: Subscription, event: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "uuid": str(uuid.uuid4()),
        "event": event,
        "timestamp": iso(now()),
        "subscriptionId": sub.id,
        "ownerId": sub.owner_id,
        "body": body,
    }


def new_subscription_id() -> str:
    return str(uuid.UUID(bytes=secrets.token_bytes(16), version=4))
