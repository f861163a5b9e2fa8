"""Every strategy under every injected fault and hostile server: one classified result per URL."""

from __future__ import annotations

import gzip
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from fetcher import ErrorKind, FetchConfig
from fetcher.config import Limits, Retries, Timeouts
from fetcher.strategies import STRATEGIES
from mock_server import MockServer, launch
from tests.conftest import ALL_STRATEGIES, assert_one_per_url, closed_port, fetch

# The strategies whose settings allow more requests in flight than one per worker process.
CONCURRENT = [t.name for t in STRATEGIES.values() if t.concurrent]
FAULTS = ["error-rate=0.2", "faults=reset=0.2", "faults=empty=0.2", "faults=hang=0.2"]
FAULTS += ["faults=slow=0.2", "faults=malformed=0.2"]
BATCH = 10
# Short enough that a hang or a slow body (2 s at the server) trips them quickly.
TIMEOUTS = Timeouts(connect_s=1.0, read_s=0.3, total_s=0.5)
RETRIES = Retries(attempts=3, backoff_initial_s=0.01, backoff_max_s=0.05, retry_after_max_s=0.1)


def config(**changes: object) -> FetchConfig:
    """A config with short timeouts and quick retries, for tests."""
    settings: dict[str, object] = {
        "concurrency": 4,
        "processes": 2,
        "timeouts": TIMEOUTS,
        "retries": RETRIES,
    }
    return FetchConfig(**{**settings, **changes})  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def faulty() -> Iterator[MockServer]:
    """A server of this module's own, so /stats counts only its requests."""
    with launch(seed=6) as running:
        yield running


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("strategy", ALL_STRATEGIES)
def test_fault_at_20_percent_loses_and_invents_nothing(
    faulty: MockServer, strategy: str, fault: str
) -> None:
    """Under each fault, one result per URL, and the attempts recorded are the calls served."""
    urls = [faulty.url_for(f"/items/{i}?{fault}") for i in range(BATCH)]
    faulty.reset_stats()
    results = fetch(strategy, urls, config())
    assert_one_per_url(results, urls)
    assert sum(r.attempts for r in results) == faulty.stats()["requests"]
    assert all(1 <= r.attempts <= RETRIES.attempts for r in results)


def hostile_urls(server: MockServer) -> dict[str, set[ErrorKind]]:
    """Each hostile case, and the error kinds it may be classified as."""
    timeouts = {ErrorKind.READ_TIMEOUT, ErrorKind.TIMEOUT}
    return {
        f"http://127.0.0.1:{closed_port()}/": {ErrorKind.CONNECTION_REFUSED},
        "http://no-such-host.invalid/": {ErrorKind.DNS},
        server.url_for("/items/1?faults=reset=1"): {ErrorKind.CONNECTION_RESET},
        server.url_for("/items/2?faults=empty=1"): {ErrorKind.DISCONNECTED},
        server.url_for("/items/3?faults=malformed=1"): {ErrorKind.INVALID_RESPONSE},
        server.url_for("/items/4?faults=hang=1"): timeouts,
        server.url_for("/items/5?faults=slow=1"): timeouts,
        server.url_for("/redirect-loop"): {ErrorKind.TOO_MANY_REDIRECTS},
        server.url_for("/bytes/5000"): {ErrorKind.BODY_TOO_LARGE},
        server.url_for("/status/429"): {ErrorKind.HTTP_STATUS},
    }


@pytest.mark.parametrize("strategy", ALL_STRATEGIES)
def test_every_hostile_server_is_a_classified_error(faulty: MockServer, strategy: str) -> None:
    """Refused, unresolved, reset, empty, malformed, hung, slow, looping, huge, 429: all results."""
    expected = hostile_urls(faulty)
    urls = list(expected)
    retries = Retries(attempts=2, backoff_initial_s=0.01, retry_after_max_s=0.05)
    cfg = config(retries=retries, max_body_bytes=1000, concurrency=10, processes=3)
    results = fetch(strategy, urls, cfg)
    assert_one_per_url(results, urls)
    for result in results:
        assert result.error in expected[result.url], (result.url, result.error, result.detail)
    storm = next(r for r in results if r.url.endswith("/status/429"))
    assert (storm.status, storm.attempts) == (429, 2)


@pytest.mark.parametrize("strategy", CONCURRENT)
def test_per_host_limit_caps_connections_the_server_sees(
    fresh_server: MockServer, strategy: str
) -> None:
    """With per_host=2 and 8 workers, the server never has more than 2 requests in flight."""
    urls = [fresh_server.url_for(f"/items/{i}?latency=150ms") for i in range(12)]
    cfg = config(concurrency=8, limits=Limits(per_host=2))
    results = fetch(strategy, urls, cfg)
    assert_one_per_url(results, urls)
    assert Counter(r.error for r in results) == {None: len(urls)}
    assert fresh_server.stats()["peak_in_flight"] == 2


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A stdlib HTTP server with `handler` on 127.0.0.1, in a thread, for the block: its URL."""
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            thread.join()


class GzipBomb(BaseHTTPRequestHandler):
    """1 MB of zeros, gzipped to about 1 KB: small on the wire, large once decoded."""

    protocol_version = "HTTP/1.1"
    body = gzip.compress(bytes(1_000_000))

    def do_GET(self) -> None:
        """Send the compressed body with its (small) Content-Length."""
        self.send_response(200)
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""


@pytest.mark.parametrize("strategy", ALL_STRATEGIES)
def test_body_cap_counts_decoded_bytes(strategy: str) -> None:
    """A gzip bomb with a Content-Length under the cap is refused once it decodes past it."""
    with serving(GzipBomb) as base:
        results = fetch(strategy, [f"{base}/bomb"], config(max_body_bytes=100_000))
    assert [r.error for r in results] == [ErrorKind.BODY_TOO_LARGE]


class ChunkedWhole(BaseHTTPRequestHandler):
    """5,000 bytes with no Content-Length (chunked), sent with the headers in one write."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        """Headers and the whole chunked body at once, so it has all arrived when read."""
        body = b"x" * 5000
        head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        self.wfile.write(head + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""


@pytest.mark.parametrize("strategy", ALL_STRATEGIES)
def test_body_cap_holds_for_an_undeclared_body_that_came_whole(strategy: str) -> None:
    """A body with no Content-Length over the cap is refused, even when all of it arrived
    with the headers (asyncio-aiohttp reads such a body at once, without streaming it)."""
    with serving(ChunkedWhole) as base:
        capped = fetch(strategy, [f"{base}/chunked"], config(max_body_bytes=1000))
        uncapped = fetch(strategy, [f"{base}/chunked"], config(max_body_bytes=10_000))
    assert [r.error for r in capped] == [ErrorKind.BODY_TOO_LARGE]
    assert [(r.error, r.nbytes) for r in uncapped] == [(None, 5000)]
