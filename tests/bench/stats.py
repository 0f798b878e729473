"""Summaries of measured samples: median, p99, max (nearest-rank, no interpolation)."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], pct: float) -> float:
    """The nearest-rank percentile of ``values`` (which must not be empty)."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def summarize(values: Sequence[float], digits: int = 2) -> dict[str, float | int]:
    """n, median, p99, min, max of ``values`` (just n=0 when there are none)."""
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "median": round(float(percentile(values, 50)), digits),
        "p99": round(float(percentile(values, 99)), digits),
        "min": round(float(min(values)), digits),
        "max": round(float(max(values)), digits),
    }
