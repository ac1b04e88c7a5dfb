"""Per user, per app, per group request budgets, as the platform enforces them."""

from __future__ import annotations

import math
from collections import deque

from crm_cti.sandbox.errors import rate_exceeded
from crm_cti.sandbox.state import SandboxState, now


def rate_check(state: SandboxState, owner: str, client_id: str, group: str) -> dict[str, str]:
    """Count one request; return the ``X-Rate-Limit-*`` headers or raise a 429 ApiError."""
    limits = state.config["rate_limits"]
    limit = int(limits.get(group, 0) or 0)
    window = float(limits.get("window", 60))
    penalty = float(limits.get("penalty", 60))
    key = (owner, client_id, group)
    at = now()
    hits = state.rate_hits.setdefault(key, deque())
    while hits and hits[0] <= at - window:
        hits.popleft()
    headers = {
        "X-Rate-Limit-Group": group,
        "X-Rate-Limit-Limit": str(limit),
        "X-Rate-Limit-Window": str(int(window)),
    }
    enforced = bool(limits.get("enabled", True)) and limit > 0
    if enforced:
        until = state.rate_penalty.get(key, 0.0)
        if until <= at and len(hits) >= limit:
            until = at + penalty
            state.rate_penalty[key] = until
        if until > at:
            state.stats["throttled"][group] += 1
            headers["X-Rate-Limit-Remaining"] = "0"
            raise rate_exceeded(max(1, math.ceil(until - at)), headers)
    hits.append(at)
    headers["X-Rate-Limit-Remaining"] = str(max(0, limit - len(hits)))
    return headers
