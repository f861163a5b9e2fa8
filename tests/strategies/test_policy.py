"""The retry and limit policy as every strategy keeps it: Retry-After waited for, the rate kept."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from fetcher import FetchConfig
from fetcher.config import Limits, Retries, Timeouts
from tests.conftest import ALL_STRATEGIES, fetch


class RecordingServer(ThreadingHTTPServer):
    """Answers a path's first request 429 with Retry-After, later ones 200; logs arrivals."""

    retry_after = "1"

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Recorder)
        self.arrivals: dict[str, list[float]] = {}
        self.lock = threading.Lock()

    def url_for(self, path: str) -> str:
        """The full URL of a path on this server."""
        return f"http://127.0.0.1:{self.server_address[1]}{path}"

    def gaps_s(self) -> list[float]:
        """For each path, the time between its first and second request."""
        return [times[1] - times[0] for times in self.arrivals.values() if len(times) > 1]


class Recorder(BaseHTTPRequestHandler):
    """The handler of RecordingServer."""

    server: RecordingServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        """Record the arrival, then answer 429 the first time and 200 after."""
        with self.server.lock:
            times = self.server.arrivals.setdefault(self.path, [])
            times.append(time.monotonic())
            first = len(times) == 1
        self.send_response(429 if first else 200)
        if first:
            self.send_header("Retry-After", self.server.retry_after)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""


@pytest.fixture
def recording() -> Iterator[RecordingServer]:
    """A RecordingServer on 127.0.0.1 in a thread, shut down after the test."""
    server = RecordingServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def quick(**changes: object) -> FetchConfig:
    """A config with short timeouts and small backoffs."""
    retries = Retries(attempts=3, backoff_initial_s=0.01, backoff_max_s=0.05, retry_after_max_s=5)
    base: dict[str, object] = {"concurrency": 3, "processes": 2, "retries": retries}
    base["timeouts"] = Timeouts(connect_s=1, read_s=2, total_s=3)
    return FetchConfig(**{**base, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize("strategy", ALL_STRATEGIES)
def test_retry_after_is_waited_for(recording: RecordingServer, strategy: str) -> None:
    """After a 429 with Retry-After: 1, the server sees the next try at least 1 s later."""
    urls = [recording.url_for(f"/item/{i}") for i in range(3)]
    results = fetch(strategy, urls, quick())
    assert sorted((r.index, r.status, r.attempts) for r in results) == [
        (i, 200, 2) for i in range(3)
    ]
    gaps = recording.gaps_s()
    assert len(gaps) == 3
    assert min(gaps) >= 1.0


def test_retry_after_is_capped(recording: RecordingServer) -> None:
    """A Retry-After of an hour is cut to retry_after_max_s, so the run does not stall."""
    recording.retry_after = "3600"
    retries = Retries(attempts=2, backoff_initial_s=0.01, retry_after_max_s=0.3)
    results = fetch("asyncio-aiohttp", [recording.url_for("/x")], quick(retries=retries))
    assert (results[0].status, results[0].attempts) == (200, 2)
    assert 0.3 <= recording.gaps_s()[0] < 3.0


@pytest.mark.parametrize("strategy", ALL_STRATEGIES)
def test_rate_limit_spaces_requests_across_all_workers(
    recording: RecordingServer, strategy: str
) -> None:
    """At 20 requests/s shared by every worker, 11 requests span at least ~0.5 s at the server."""
    recording.retry_after = "0"
    urls = [recording.url_for(f"/r/{i}") for i in range(11)]
    config = quick(concurrency=6, limits=Limits(rate_per_s=20), retries=Retries(attempts=1))
    results = fetch(strategy, urls, config)
    assert len(results) == len(urls)
    arrivals = sorted(t for times in recording.arrivals.values() for t in times)
    # 10 intervals of 50 ms; a generous margin for a late first request.
    assert arrivals[-1] - arrivals[0] >= 0.35
