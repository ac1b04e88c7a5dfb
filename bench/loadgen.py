"""The load generator: a separate process that plays webhook events and watches the pops.

    python bench/loadgen.py PLAN.json RESULT.json

The plan (written by bench/run.py) names the webhook URL, one websocket URL and headers per
agent, the agents' ids and subscription credentials, and the phases to play. The generator
connects every agent's websocket first, then for each phase posts the planned events on an
open-loop schedule (each at its planned time, whatever the server's answers do, over a pool
of keep-alive connections), and matches every websocket frame to the event that caused it.

Latencies are measured from each event's *planned* send time, so a server that stalls is
charged for the events that waited behind it (no coordinated omission); how late the
generator itself sent (``send_lag_ms``) is reported so an overloaded generator shows.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.pops import PopMatcher
from bench.scenarios import DEFAULT_MIX, AgentSpec, envelope_stamp, plan_phase, script_event_count
from bench.stats import summarize

perf = time.perf_counter
# Seconds an idle keep-alive connection is trusted (uvicorn closes them after 5).
IDLE_LIMIT = 2.0


class HttpPool:
    """HTTP/1.1 keep-alive connections to one host, written by hand to stay cheap."""

    def __init__(self, url: str, size: int) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.path = parts.path or "/"
        self.size = size
        # (reader, writer, last used): servers close idle keep-alive connections (uvicorn
        # after 5 s), so a connection idle longer than IDLE_LIMIT is not reused.
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []
        self.opened = 0
        self.waiters: list[asyncio.Future] = []
        self.connect_errors = 0

    async def acquire(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        while True:
            while self.idle:
                reader, writer, used = self.idle.pop()
                if perf() - used < IDLE_LIMIT:
                    return reader, writer
                writer.close()
                self.opened -= 1
            if self.opened < self.size:
                self.opened += 1
                try:
                    return await asyncio.open_connection(self.host, self.port)
                except OSError:
                    self.opened -= 1
                    self.connect_errors += 1
                    raise
            waiter = asyncio.get_running_loop().create_future()
            self.waiters.append(waiter)
            conn = await waiter
            if conn is not None:
                return conn
            # A connection died and freed a slot: go round and open one.

    def release(self, conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None) -> None:
        """Give ``conn`` back, or None when it was closed (its slot is free again)."""
        if conn is None:
            self.opened -= 1
        while self.waiters:
            waiter = self.waiters.pop(0)
            if not waiter.done():
                waiter.set_result(conn)
                return
        if conn is not None:
            self.idle.append((*conn, perf()))

    async def post(self, headers: dict[str, str], body: bytes) -> tuple[int, float]:
        """POST ``body``; return (status, time the request was written)."""
        conn = await self.acquire()
        reader, writer = conn
        head = [f"POST {self.path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                f"Content-Length: {len(body)}"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        try:
            written = perf()
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
            status_line = await reader.readuntil(b"\r\n")
            status = int(status_line.split(b" ", 2)[1])
            raw_headers = await reader.readuntil(b"\r\n\r\n")
            length = 0
            close = False
            for line in raw_headers.split(b"\r\n"):
                name, _, value = line.partition(b":")
                lowered = name.strip().lower()
                if lowered == b"content-length":
                    length = int(value.strip())
                elif lowered == b"connection" and value.strip().lower() == b"close":
                    close = True
                elif lowered == b"transfer-encoding":
                    close = True  # not produced by the servers we test; read to EOF below
            if length:
                await reader.readexactly(length)
            if close:
                writer.close()
                self.release(None)
            else:
                self.release(conn)
            return status, written
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            writer.close()
            self.release(None)
            raise


@dataclass
class Socket:
    agent: AgentSpec
    url: str
    headers: dict[str, str]
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    closed: bool = False
    close_reason: str = ""


class Generator:
    def __init__(self, plan: dict[str, Any]) -> None:
        self.plan = plan
        self.agents = [AgentSpec(**a["spec"]) for a in plan["agents"]]
        self.sockets = [
            Socket(agent=spec, url=a["ws_url"], headers=a.get("ws_headers", {}))
            for spec, a in zip(self.agents, plan["agents"], strict=True)
        ]
        self.matcher = PopMatcher()
        self.pool = HttpPool(plan["webhook_url"], int(plan.get("connections", 64)))
        self.other_frames: Counter = Counter()
        self.socket_tasks: list[asyncio.Task] = []
        # Each extension's last presence sequence, carried across phases.
        self.sequences: dict[int, int] = {}
        self.last_frame_at = 0.0
        # Receipts (receipts.py) are sent in the phases that ask for them (the warm-up):
        # in every phase they would cost this one process as much as the pops it measures
        # and make it late (the baseline's frames ask for none). Their pops are kept apart,
        # to set beside what the product counted.
        self.receipts_on = False
        self.run_pops: list[float] = []
        self.receipt_latencies: list[float] = []

    # -- websockets ---------------------------------------------------------------------
    async def _socket(self, sock: Socket, gate: asyncio.Semaphore) -> None:
        from websockets.asyncio.client import connect

        try:
            async with gate:
                ws = await connect(sock.url, additional_headers=sock.headers, open_timeout=60,
                                   ping_interval=None, max_size=None, compression=None)
                first = json.loads(await asyncio.wait_for(ws.recv(), 60))
                self.other_frames[first.get("type", "?")] += 1
                sock.ready.set()
            agent_id = sock.agent.agent_id
            async for message in ws:
                received = self.last_frame_at = perf()
                data = json.loads(message)
                if data.get("type") == "call":
                    kind = self.matcher.frame(agent_id=agent_id, call=data["call"],
                                              received_at=received)
                    if kind == "pop" and self.receipts_on:
                        self.run_pops.append(self.matcher.latencies[-1])
                    if self.receipts_on and isinstance(data.get("event_at"), int | float):
                        # As the dashboard does once it drew the card (static/js/live.js).
                        rendered_at = time.time() * 1000.0
                        self.receipt_latencies.append((rendered_at - data["event_at"]) / 1000)
                        await ws.send(json.dumps({
                            "type": "receipt", "call": data["call"]["id"],
                            "state": data["call"]["state"], "event_at": data["event_at"],
                            "rendered_at": rendered_at}))
                else:
                    self.other_frames[data.get("type", "?")] += 1
            sock.closed = True
            sock.close_reason = f"closed {ws.close_code}"
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            sock.closed = True
            sock.close_reason = f"{type(exc).__name__}: {exc}"[:200]
            sock.ready.set()

    async def connect_all(self) -> dict[str, Any]:
        gate = asyncio.Semaphore(int(self.plan.get("connect_concurrency", 20)))
        started = perf()
        self.socket_tasks = [
            asyncio.create_task(self._socket(sock, gate)) for sock in self.sockets
        ]
        await asyncio.wait_for(
            asyncio.gather(*(sock.ready.wait() for sock in self.sockets)), 300
        )
        failed = [sock for sock in self.sockets if sock.closed]
        return {
            "agents": len(self.sockets),
            "connected": len(self.sockets) - len(failed),
            "seconds": round(perf() - started, 2),
            "failures": [sock.close_reason for sock in failed[:5]],
        }

    # -- phases -------------------------------------------------------------------------
    async def _post(self, event: Any, planned: float, wall_start: float,
                    acks: list[float], service: list[float], lags: list[float],
                    statuses: Counter) -> None:
        agent = self.agents[event.agent_index]
        envelope = envelope_stamp(event.envelope, wall_start=wall_start, now=time.time())
        body = json.dumps(envelope, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json",
                   "Verification-Token": agent.verification_token}
        try:
            status, written = await self.pool.post(headers, body)
        except Exception as exc:
            statuses[f"error:{type(exc).__name__}"] += 1
            return
        done = perf()
        statuses[str(status)] += 1
        acks.append(done - planned)
        service.append(done - written)
        lags.append(written - planned)

    async def run_phase(self, phase: dict[str, Any]) -> dict[str, Any]:
        rate = float(phase["rate"])
        calls = int(phase.get("calls") or max(
            2, round(rate * float(phase["seconds"]) / _mean_events_per_call())
        ))
        events = plan_phase(
            agents=self.agents[: int(phase.get("agents") or len(self.agents))],
            calls=calls, rate=rate, gap=float(phase.get("gap", 1.0)),
            seed=int(phase.get("seed", 1)), caller_pool=self.plan.get("caller_pool") or [],
            sequences=self.sequences,
        )
        self.matcher = matcher = PopMatcher()
        self.receipts_on = bool(phase.get("receipts", False))
        measure_pops = bool(phase.get("pops", True))
        acks: list[float] = []
        service: list[float] = []
        lags: list[float] = []
        statuses: Counter = Counter()
        tasks: list[asyncio.Task] = []
        start = perf() + 0.2
        wall_start = time.time() + 0.2
        for event in events:
            planned = start + event.at
            delay = planned - perf()
            if delay > 0.0005:
                await asyncio.sleep(delay)
            if measure_pops:
                agent_id = self.agents[event.agent_index].agent_id
                for session_id, state in event.expect:
                    matcher.expect(agent_id=agent_id, session_id=session_id, state=state,
                                   sent_at=planned)
            tasks.append(asyncio.create_task(
                self._post(event, planned, wall_start, acks, service, lags, statuses)
            ))
        send_seconds = perf() - start
        await asyncio.gather(*tasks)
        drain_limit = float(phase.get("drain_seconds", 15.0))
        drain_start = perf()
        while measure_pops and matcher.outstanding and perf() - drain_start < drain_limit:
            await asyncio.sleep(0.05)
        drained = perf() - drain_start
        # A little longer, so that duplicates of the last pops are seen too; and while late
        # frames still come (a backlog), wait for quiet (up to settle_limit) so that they
        # count as late, not lost, and the next phase starts on an idle pipeline.
        await asyncio.sleep(float(phase.get("settle_seconds", 1.0)))
        settle_limit = float(phase.get("settle_limit_seconds", 60.0))
        settle_start = perf()
        while perf() - self.last_frame_at < 3.0 and perf() - settle_start < settle_limit:
            await asyncio.sleep(0.25)
        span = events[-1].at - events[0].at if len(events) > 1 else 1.0
        result: dict[str, Any] = {
            "name": phase["name"],
            "target_rate": rate,
            "calls": calls,
            "events": len(events),
            "planned_rate": round(len(events) / span, 1) if span > 0 else None,
            "send_seconds": round(send_seconds, 2),
            "http_status": dict(statuses),
            "ack_ms": summarize(acks),
            "ack_service_ms": summarize(service),
            "send_lag_ms": summarize(lags),
            "sockets_closed": sum(1 for sock in self.sockets if sock.closed),
            "drain_seconds": round(drained, 1),
            "settled_seconds": round(perf() - settle_start, 1),
        }
        if measure_pops:
            result["pops"] = matcher.report()
        return result

    async def run(self) -> dict[str, Any]:
        out: dict[str, Any] = {"connect": await self.connect_all(), "phases": []}
        for phase in self.plan["phases"]:
            if phase.get("kind") == "ramp":
                out["phases"].append(await self.run_ramp(phase))
            else:
                out["phases"].append(await self.run_phase(phase))
            await asyncio.sleep(float(phase.get("pause_seconds", 2.0)))
        out["other_frames"] = dict(self.other_frames)
        out["receipts"] = {"sent": len(self.receipt_latencies),
                           "event_at_to_frame_ms": summarize(self.receipt_latencies),
                           "pops_ms": summarize(self.run_pops)}
        for task in self.socket_tasks:
            task.cancel()
        await asyncio.gather(*self.socket_tasks, return_exceptions=True)
        return out

    async def run_ramp(self, ramp: dict[str, Any]) -> dict[str, Any]:
        """Steps of rising rate; stop after the first step that misses the criteria."""
        steps = []
        best = None
        limit_ms = float(ramp.get("p99_limit_ms", 250.0))
        for index, rate in enumerate(ramp["rates"]):
            step = await self.run_phase({
                "name": f"{ramp['name']}@{rate}", "rate": rate, "seconds": ramp["seconds"],
                "seed": int(ramp.get("seed", 100)) + index, "gap": ramp.get("gap", 1.0),
                "drain_seconds": ramp.get("drain_seconds", 10.0),
            })
            step["passed"], step["failed_because"] = step_verdict(step, limit_ms=limit_ms)
            steps.append(step)
            if not step["passed"]:
                break
            best = rate
            await asyncio.sleep(float(ramp.get("pause_seconds", 3.0)))
        return {"name": ramp["name"], "kind": "ramp", "p99_limit_ms": limit_ms,
                "max_passing_rate": best, "steps": steps}


def _mean_events_per_call() -> float:
    """Events per call of the default mix (a "concurrent" entry is two calls)."""
    total = sum(DEFAULT_MIX.values())
    events = sum(share / total * script_event_count(name) for name, share in DEFAULT_MIX.items())
    calls = sum(
        share / total * (2 if name == "concurrent" else 1) for name, share in DEFAULT_MIX.items()
    )
    return events / calls


def step_verdict(step: dict[str, Any], *, limit_ms: float) -> tuple[bool, str]:
    """A rate is sustained when every pop came, once, in time, and every POST got 200."""
    pops = step.get("pops") or {}
    reasons = []
    if pops.get("lost"):
        reasons.append(f"{pops['lost']} lost")
    if pops.get("duplicated"):
        reasons.append(f"{pops['duplicated']} duplicated")
    if pops.get("unexpected") or pops.get("misrouted"):
        reasons.append(f"{pops.get('unexpected', 0) + pops.get('misrouted', 0)} wrong pops")
    p99 = (pops.get("latency_ms") or {}).get("p99")
    if p99 is None or p99 > limit_ms:
        reasons.append(f"p99 {p99} ms > {limit_ms:g} ms")
    non_200 = sum(n for status, n in step["http_status"].items() if status != "200")
    if non_200:
        reasons.append(f"{non_200} POSTs not 200")
    return (not reasons), "; ".join(reasons)


def main(argv: list[str]) -> int:
    plan = json.loads(Path(argv[1]).read_text())
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    result = runner(Generator(plan).run())
    Path(argv[2]).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
