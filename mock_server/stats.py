"""What the server saw: requests, statuses, faults, how many were in flight, and connections.

A connection is counted when its first counted request arrives, so the connections /stats itself
is read on are left out, like the requests to it; a TLS connection counts its handshake with it.
"""

from __future__ import annotations

import time
import weakref
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
        # Kept across resets: a connection opened before one is not new after it.
        self._seen: weakref.WeakSet[Any] = weakref.WeakSet()
        self.reset()

    def reset(self) -> None:
        """Zero the counters; the peak restarts from what is in flight now."""
        self.requests = 0
        self.peak_in_flight = self.in_flight
        self.by_path: Counter[str] = Counter()
        self.by_status: Counter[int] = Counter()
        self.faults: Counter[str] = Counter()
        self.since = time.time()
        self.connections = 0
        self.tls_handshakes = 0
        self.tls_resumed = 0
        # Handshakes begun and completed, as the SSL layer saw them (see mock_server.tls).
        self._tls_started = 0
        self._tls_completed = 0
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

    def connection(self, transport: Any) -> None:
        """Count the connection a request came on, the first time one does."""
        if transport is None:  # the client is already gone
            return
        ssl_object = transport.get_extra_info("ssl_object")
        # uvloop's TLS transports take no weak reference; the SSL object under them does.
        key = transport if ssl_object is None else ssl_object
        if key in self._seen:
            return
        self._seen.add(key)
        self.connections += 1
        if ssl_object is not None:
            if ssl_object.session_reused:
                self.tls_resumed += 1
            else:
                self.tls_handshakes += 1

    def tls_started(self) -> None:
        """A TLS handshake began."""
        self._tls_started += 1

    def tls_completed(self) -> None:
        """A TLS handshake succeeded."""
        self._tls_completed += 1

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
            "connections": self.connections,
            "tls_handshakes": self.tls_handshakes,
            "tls_resumed": self.tls_resumed,
            # One still under way when /stats is read counts here until it completes.
            "tls_failed": max(0, self._tls_started - self._tls_completed),
            "since": self.since,
            # Starts at `since`: the most requests in flight at once in each interval.
            "in_flight_series": self.in_flight_series.to_json(),
        }
