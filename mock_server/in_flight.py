"""How many requests were in flight over time: the most at once in each short interval.

The server notes the count on every arrival and departure; each interval keeps its peak, so a
burst between two samples is never missed. Past MAX_INTERVALS the intervals double in length
(neighbours merged, keeping the larger peak), so a long run costs bounded memory.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

INTERVAL_S = 0.001
MAX_INTERVALS = 2048


class InFlightSeries:
    """Peaks of requests in flight per interval since the series (re)started."""

    def __init__(self, in_flight: int = 0, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.started = clock()
        self.interval_s = INTERVAL_S
        self.peaks: list[int] = [in_flight]
        self.now = in_flight

    def note(self, in_flight: int) -> None:
        """The count has just changed to `in_flight`."""
        k = int((self.clock() - self.started) / self.interval_s)
        while k >= MAX_INTERVALS:
            self._coarsen()
            k //= 2
        if k >= len(self.peaks):
            # The intervals with no change held what was in flight before this one.
            self.peaks.extend([self.now] * (k - len(self.peaks)))
            self.peaks.append(max(self.now, in_flight))
        else:
            self.peaks[k] = max(self.peaks[k], in_flight)
        self.now = in_flight

    def _coarsen(self) -> None:
        pairs = zip(self.peaks[0::2], [*self.peaks[1::2], 0], strict=False)
        self.peaks = [max(pair) for pair in pairs]
        self.interval_s *= 2

    def to_json(self) -> dict[str, Any]:
        """The series as JSON-ready data: interval k spans [k, k + 1) x interval_s."""
        return {"interval_s": self.interval_s, "peaks": list(self.peaks)}
