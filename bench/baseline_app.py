"""The baseline: the fastest pipeline of the product's shape, with no Django, Celery or database.

A bare ASGI app (served by the same uvicorn, same number of processes) that takes the same
webhook POST, checks the same ``Verification-Token``, works out each call's state over its
legs exactly as the tracker does (ringing, connected, on hold, ended or missed; a
transitional ``NoCall`` changes nothing), keeps that state in Redis, and publishes a
``{"type": "call", "call": {...}}`` frame with the product's keys through Redis pub/sub to
the agent's websockets at ``/ws/agent/?agent=<id>``. One Redis round trip per event (a Lua
script per session decides and publishes); one pub/sub connection per process.

    BASELINE_SUBSCRIPTIONS=subs.json BASELINE_REDIS_URL=redis://... \
        uvicorn bench.baseline_app:app --workers 2
"""

from __future__ import annotations

import asyncio
import hmac
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import redis.asyncio as aioredis

STATUS_RANK = {"NoCall": 0, "Ringing": 1, "ParkedCall": 2, "OnHold": 3, "CallConnected": 4}
PLACEHOLDER = "\u0000state\u0000"
KEY_TTL_SECONDS = 3600

# One call per event. KEYS: one hash per call of the event; ARGV[1] the event's sequence,
# ARGV[2] the channel, then per call: status, intermediate (1/0), inbound (1/0), frame prefix,
# frame suffix. As in the tracker, each call remembers the newest sequence that set its state
# and an event not newer than that leaves it alone; a call whose state changed gets
# prefix..state..suffix published.
STATE_SCRIPT = """
local seq = tonumber(ARGV[1])
local published = 0
for i = 1, #KEYS do
  local base = 2 + (i - 1) * 5
  local status, intermediate, inbound = ARGV[base + 1], ARGV[base + 2], ARGV[base + 3]
  local prev = redis.call('HMGET', KEYS[i], 'state', 'answered', 'seq')
  if seq > tonumber(prev[3] or '0') then
    local answered = prev[2] or '0'
    if status == 'CallConnected' or status == 'OnHold' or status == 'ParkedCall' then
      answered = '1'
    end
    local state
    if status == 'Ringing' then state = 'ringing'
    elseif status == 'CallConnected' then state = 'connected'
    elseif status == 'OnHold' or status == 'ParkedCall' then state = 'on_hold'
    elseif intermediate == '1' then state = prev[1] or 'ringing'
    elseif answered == '1' or inbound ~= '1' then state = 'ended'
    else state = 'missed' end
    redis.call('HSET', KEYS[i], 'state', state, 'answered', answered, 'seq', ARGV[1])
    redis.call('EXPIRE', KEYS[i], TTL)
    if state ~= prev[1] then
      redis.call('PUBLISH', ARGV[2], ARGV[base + 4] .. state .. ARGV[base + 5])
      published = published + 1
    end
  end
end
return published
""".replace("TTL", str(KEY_TTL_SECONDS))


class Hub:
    """Per process: the Redis clients and the local websockets of each agent."""

    def __init__(self) -> None:
        self.url = os.environ.get("BASELINE_REDIS_URL", "redis://127.0.0.1:6379/2")
        # Keys and channels of this run (a run never sees another's call states).
        self.prefix = os.environ.get("BASELINE_PREFIX", "baseline")
        path = os.environ.get("BASELINE_SUBSCRIPTIONS", "")
        # {subscription id: {"token": ..., "agent_id": ...}}
        self.subscriptions: dict[str, dict[str, Any]] = (
            json.loads(Path(path).read_text()) if path else {}
        )
        self.redis: aioredis.Redis | None = None
        self.script: Any = None
        self.pubsub: Any = None
        self.listeners: dict[int, set[asyncio.Queue]] = {}
        self.reader: asyncio.Task | None = None
        self.lock = asyncio.Lock()

    async def start(self) -> None:
        async with self.lock:
            if self.redis is not None:
                return
            self.redis = aioredis.from_url(self.url)
            self.script = self.redis.register_script(STATE_SCRIPT)
            self.pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            await self.pubsub.subscribe(f"{self.prefix}.noop")
            self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.pubsub is not None
        async for message in self.pubsub.listen():
            if message.get("type") != "message":
                continue
            agent_id = int(message["channel"].rsplit(b".", 1)[1])
            for queue in self.listeners.get(agent_id, ()):
                queue.put_nowait(message["data"])

    async def listen(self, agent_id: int, queue: asyncio.Queue) -> None:
        await self.start()
        first = agent_id not in self.listeners
        self.listeners.setdefault(agent_id, set()).add(queue)
        if first:
            await self.pubsub.subscribe(f"{self.prefix}.agent.{agent_id}")

    async def forget(self, agent_id: int, queue: asyncio.Queue) -> None:
        queues = self.listeners.get(agent_id)
        if queues is None:
            return
        queues.discard(queue)
        if not queues:
            del self.listeners[agent_id]
            await self.pubsub.unsubscribe(f"{self.prefix}.agent.{agent_id}")

    async def publish_event(self, agent_id: int, payload: dict[str, Any]) -> None:
        await self.start()
        body = payload["body"]
        sessions: dict[str, dict[str, Any]] = {}
        for leg in body.get("activeCalls") or []:
            status = leg["telephonyStatus"]
            view = sessions.get(leg["sessionId"])
            if view is None:
                view = sessions[leg["sessionId"]] = {"status": status, "leg": leg,
                                                     "intermediate": True}
            elif STATUS_RANK[status] > STATUS_RANK[view["status"]]:
                view["status"] = status
            if status == "NoCall" and leg.get("terminationType") != "intermediate":
                view["intermediate"] = False
        keys = []
        args: list[Any] = [int(body["sequence"]), f"{self.prefix}.agent.{agent_id}"]
        for session_id, view in sessions.items():
            intermediate = view["status"] == "NoCall" and view["intermediate"]
            leg = view["leg"]
            frame = json.dumps({"type": "call", "call": {
                "id": None, "session_id": session_id, "agent_id": agent_id,
                "direction": leg["direction"].lower(), "state": PLACEHOLDER,
                "from_number": leg.get("from", ""), "from_name": leg.get("fromName", ""),
                "to_number": leg.get("to", ""), "to_name": leg.get("toName", ""),
                "contact": None, "started_at": leg.get("startTime"), "answered_at": None,
                "ended_at": None, "duration": None, "result": "", "recording": None,
                "notes": "", "disposition": "",
            }}, separators=(",", ":"))
            prefix, suffix = frame.split(json.dumps(PLACEHOLDER), 1)
            keys.append(f"{self.prefix}.call.{body['extensionId']}.{session_id}")
            args += [view["status"], "1" if intermediate else "0",
                     "1" if leg["direction"] == "Inbound" else "0", prefix + '"', '"' + suffix]
        await self.script(keys=keys, args=args)


hub = Hub()


async def _read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _respond(send: Any, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _webhook(scope: dict[str, Any], receive: Any, send: Any) -> None:
    raw = await _read_body(receive)
    headers = dict(scope["headers"])
    token = headers.get(b"verification-token", b"").decode()
    try:
        payload = json.loads(raw)
        sub = hub.subscriptions.get(str(payload.get("subscriptionId")))
    except (ValueError, AttributeError):
        await _respond(send, 400, b'{"error":"malformed JSON"}')
        return
    if sub is None or not hmac.compare_digest(sub["token"], token):
        await _respond(send, 403, b'{"error":"unknown subscription"}')
        return
    await hub.publish_event(int(sub["agent_id"]), payload)
    await _respond(send, 200, b'{"ok":true}')


async def _websocket(scope: dict[str, Any], receive: Any, send: Any) -> None:
    query = parse_qs(scope.get("query_string", b"").decode())
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    try:
        agent_id = int(query["agent"][0])
    except (KeyError, ValueError):
        await send({"type": "websocket.close", "code": 4403})
        return
    queue: asyncio.Queue = asyncio.Queue()
    await hub.listen(agent_id, queue)
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.send", "text": '{"type":"snapshot","calls":[]}'})

    async def pump() -> None:
        while True:
            data = await queue.get()
            await send({"type": "websocket.send", "text": data.decode()})

    pumping = asyncio.create_task(pump())
    try:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                break
    finally:
        pumping.cancel()
        await hub.forget(agent_id, queue)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        if scope["method"] == "POST" and scope["path"] == "/webhooks/ringcentral/":
            await _webhook(scope, receive, send)
        elif scope["path"] == "/healthz":
            await _read_body(receive)
            await _respond(send, 200, b'{"ok":true}')
        else:
            await _read_body(receive)
            await _respond(send, 404, b'{"error":"not found"}')
    elif scope["type"] == "websocket" and scope["path"] == "/ws/agent/":
        await _websocket(scope, receive, send)
    elif scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
