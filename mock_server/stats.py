"""What the server saw: request counts, statuses, faults and how many requests were in flight."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from mock_server.in_flight import InFlightSeries

# Distinct paths counted one by one; past this many, the rest share one bucket so memory stays
# bounded however many distinct URLs a long run sends.
MAX_TRACKED_PATHS = 100_000
OTHER_PATHS = "(other)"


class ServerStats:
    """Counters the server updates on every request; `snapshot()` is what `/stats` returns."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.reset()

    def reset(self) -> None:
        """Zero the counters; the peak restarts from what is in flight now."""
        self.requests = 0
        self.peak_in_flight = self.in_flight
        self.by_path: Counter[str] = Counter()
        self.by_status: Counter[int] = Counter()
        self.faults: Counter[str] = Counter()
        self.since = time.time()
        self.in_flight_series = InFlightSeries(self.in_flight)

    def enter(self, path: str) -> None:
        """Count a request that has arrived."""
        self.requests += 1
        self.in_flight += 1
        if self.in_flight > self.peak_in_flight:
            self.peak_in_flight = self.in_flight
        self.in_flight_series.note(self.in_flight)
        if path in self.by_path or len(self.by_path) < MAX_TRACKED_PATHS:
            self.by_path[path] += 1
        else:
            self.by_path[OTHER_PATHS] += 1

    def leave(self, status: int | None, fault: str | None) -> None:
        """Count a request that has been answered (status) or failed on purpose (fault)."""
        self.in_flight -= 1
        self.in_flight_series.note(self.in_flight)
        if status is not None:
            self.by_status[status] += 1
        if fault is not None:
            self.faults[fault] += 1

    def snapshot(self) -> dict[str, Any]:
        """The counters as JSON-ready data."""
        return {
            "requests": self.requests,
            "in_flight": self.in_flight,
            "peak_in_flight": self.peak_in_flight,
            "by_path": dict(self.by_path),
            "by_status": {str(code): n for code, n in sorted(self.by_status.items())},
            "faults": dict(self.faults),
            "since": self.since,
            # Starts at `since`: the most requests in flight at once in each interval.
            "in_flight_series": self.in_flight_series.to_json(),
        }
