"""Latency summaries: nearest-rank percentiles in milliseconds, with counts."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100) of already sorted values."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100.0 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def summarize(seconds: Sequence[float]) -> dict[str, float | int | None]:
    """count, p50, p95, p99, max and mean of latencies given in seconds, as milliseconds."""
    values = sorted(seconds)
    if not values:
        return {"count": 0, "p50": None, "p95": None, "p99": None, "max": None, "mean": None}

    def ms(value: float) -> float:
        return round(value * 1000.0, 2)

    return {
        "count": len(values),
        "p50": ms(percentile(values, 50)),
        "p95": ms(percentile(values, 95)),
        "p99": ms(percentile(values, 99)),
        "max": ms(values[-1]),
        "mean": ms(sum(values) / len(values)),
    }
