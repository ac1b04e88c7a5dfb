"""Checking websocket frames against the events that were sent.

Every sent event registers the pops it must cause, keyed by (agent, session id, state).
A frame consumes the oldest outstanding expectation for its key; its latency is measured
from that event's send time. What remains outstanding at the end is *lost*. A frame with
no outstanding expectation is:

- a *duplicate* when it repeats, field for field, a pop already delivered for that key
  (the same change pushed twice);
- an *update* when the key was popped before but the call object changed (for example
  the call-log result arriving later): legitimate, counted apart;
- *unexpected* when no event asked for that state of that call (a wrong state);
- *misrouted* when it reached an agent it does not belong to.
"""

from __future__ import annotations

import json
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

Key = tuple[int, str, str]


@dataclass
class PopMatcher:
    latencies: list[float] = field(default_factory=list)
    duplicates: int = 0
    updates: int = 0
    unexpected: int = 0
    misrouted: int = 0
    frames: int = 0
    expected_total: int = 0
    _outstanding: dict[Key, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    _delivered: dict[Key, set[str]] = field(default_factory=lambda: defaultdict(set))
    _examples: list[dict[str, Any]] = field(default_factory=list)
    # Latencies of the first pop of a call (ringing), apart: past saturation these must
    # stay short while the rest waits (README "Performance").
    ringing_latencies: list[float] = field(default_factory=list)

    def expect(self, *, agent_id: int, session_id: str, state: str, sent_at: float) -> None:
        self._outstanding[(agent_id, session_id, state)].append(sent_at)
        self.expected_total += 1

    def frame(self, *, agent_id: int, call: dict[str, Any], received_at: float) -> str:
        """Account for one ``{"type": "call"}`` frame; return how it was classified."""
        self.frames += 1
        owner = call.get("agent_id")
        if owner is not None and owner != agent_id:
            self.misrouted += 1
            self._example("misrouted", agent_id, call)
            return "misrouted"
        key = (agent_id, str(call.get("session_id")), str(call.get("state")))
        fingerprint = json.dumps(call, sort_keys=True, default=str)
        queue = self._outstanding.get(key)
        if queue:
            self.latencies.append(received_at - queue.popleft())
            if key[2] == "ringing":
                self.ringing_latencies.append(self.latencies[-1])
            if not queue:
                del self._outstanding[key]
            self._delivered[key].add(fingerprint)
            return "pop"
        if key in self._delivered:
            if fingerprint in self._delivered[key]:
                self.duplicates += 1
                self._example("duplicate", agent_id, call)
                return "duplicate"
            self._delivered[key].add(fingerprint)
            self.updates += 1
            return "update"
        self.unexpected += 1
        self._example("unexpected", agent_id, call)
        return "unexpected"

    @property
    def outstanding(self) -> int:
        return sum(len(queue) for queue in self._outstanding.values())

    def lost_examples(self, limit: int = 5) -> list[dict[str, Any]]:
        return [
            {"agent_id": a, "session_id": s, "state": st}
            for (a, s, st) in list(self._outstanding)[:limit]
        ]

    def _example(self, kind: str, agent_id: int, call: dict[str, Any]) -> None:
        if len(self._examples) < 10:
            self._examples.append(
                {"kind": kind, "agent_id": agent_id, "session_id": call.get("session_id"),
                 "state": call.get("state")}
            )

    def report(self) -> dict[str, Any]:
        from bench.stats import summarize

        return {
            "expected": self.expected_total,
            "popped": len(self.latencies),
            "lost": self.outstanding,
            "duplicated": self.duplicates,
            "unexpected": self.unexpected,
            "misrouted": self.misrouted,
            "updates": self.updates,
            "frames": self.frames,
            "latency_ms": summarize(self.latencies),
            "ringing_latency_ms": summarize(self.ringing_latencies),
            "examples": self._examples + [
                {"kind": "lost", **example} for example in self.lost_examples()
            ],
        }
