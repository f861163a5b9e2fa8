"""Pure functions over measured numbers: percentiles, throughput, the ideal time."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank; NaN for no values."""
    if not sorted_values:
        return math.nan
    rank = math.ceil(q / 100 * len(sorted_values))
    return sorted_values[min(max(rank, 1), len(sorted_values)) - 1]


def per_second(count: int, seconds: float) -> float:
    """A rate; 0 when no time passed."""
    return count / seconds if seconds > 0 else 0.0


def ideal_s(requests: int, workers: int, latency_s: float) -> float:
    """The best possible wall time: requests go out in waves of `workers`, each wave one latency."""
    return math.ceil(requests / max(workers, 1)) * latency_s


def median(values: Sequence[float]) -> float:
    """The middle value (the mean of the two middle ones for an even count)."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
