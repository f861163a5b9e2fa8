"""Every strategy against the real mock server: complete results, real concurrency, real errors.

Retries are off here, so each injected fault shows as the error it is; the retry policy has tests
of its own (test_policy.py, test_faults.py).
"""

from __future__ import annotations

import os
import socket
from collections import Counter

import pytest

from fetcher import ErrorKind, FetchConfig, FetchResult, afetch_all, fetch_all
from fetcher.config import Retries
from fetcher.strategies import STRATEGIES, get_strategy
from mock_server import MockServer

NO_RETRIES = Retries(attempts=1)
ALL = [name for name in STRATEGIES if name != "hybrid"]
CONCURRENT = ["threads", "asyncio-aiohttp", "asyncio-httpx"]


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(strategy: str, urls: list[str], **config: object) -> list[FetchResult]:
    """Fetch with one strategy and no retries, collecting results in completion order."""
    results: list[FetchResult] = []
    fetch_config = FetchConfig(**{"retries": NO_RETRIES, **config})  # type: ignore[arg-type]
    get_strategy(strategy).run(urls, fetch_config, results.append)
    return results


def assert_complete(results: list[FetchResult], urls: list[str]) -> None:
    """Exactly one result per input URL, each matched to its index."""
    assert sorted(r.index for r in results) == list(range(len(urls)))
    assert all(r.url == urls[r.index] for r in results)


@pytest.mark.parametrize("strategy", ALL)
def test_results_complete_under_errors_and_resets(server: MockServer, strategy: str) -> None:
    """Injected 500s and resets become error results, and no URL is lost or doubled."""
    urls = [server.url_for(f"/items/{i}?error-rate=0.2&faults=reset=0.2") for i in range(60)]
    results = run(strategy, urls, concurrency=10, processes=2)
    assert_complete(results, urls)
    kinds = Counter(r.error for r in results)
    assert kinds[None] > 0
    assert kinds[ErrorKind.HTTP_STATUS] > 0
    assert kinds[ErrorKind.CONNECTION_RESET] > 0
    assert set(kinds) <= {None, ErrorKind.HTTP_STATUS, ErrorKind.CONNECTION_RESET}
    failed = [r for r in results if r.error is ErrorKind.HTTP_STATUS]
    assert all(r.status in (500, 502, 503) for r in failed)


@pytest.mark.parametrize("strategy", ALL)
def test_successful_results_carry_status_size_and_times(server: MockServer, strategy: str) -> None:
    """A good response records its status, body size, worker and a start before its end."""
    urls = [server.url_for(f"/bytes/{100 + i}") for i in range(6)]
    results = run(strategy, urls, concurrency=3, processes=2)
    assert_complete(results, urls)
    for result in results:
        assert (result.status, result.error) == (200, None)
        assert result.nbytes == 100 + result.index
        assert 0 <= result.started_s <= result.ended_s
        assert result.worker


@pytest.mark.parametrize("strategy", CONCURRENT)
def test_server_sees_the_configured_concurrency(fresh_server: MockServer, strategy: str) -> None:
    """With slow responses, the server sees exactly `concurrency` requests in flight at once."""
    urls = [fresh_server.url_for(f"/items/{i}?latency=400ms") for i in range(40)]
    results = run(strategy, urls, concurrency=20)
    assert_complete(results, urls)
    assert fresh_server.stats()["peak_in_flight"] == 20
    assert len({r.worker for r in results}) == 20


@pytest.mark.parametrize("strategy", ["asyncio-aiohttp", "asyncio-httpx"])
def test_async_concurrency_is_not_capped_by_the_client_pools(
    fresh_server: MockServer, strategy: str
) -> None:
    """200 tasks are 200 requests in flight: the 100-connection pool defaults are lifted."""
    urls = [fresh_server.url_for(f"/items/{i}?latency=1s") for i in range(200)]
    results = run(strategy, urls, concurrency=200)
    assert sum(r.ok for r in results) == 200
    assert fresh_server.stats()["peak_in_flight"] == 200


def test_processes_overlap_one_request_per_process(fresh_server: MockServer) -> None:
    """The processes strategy keeps `processes` requests in flight, each from its own process."""
    urls = [fresh_server.url_for(f"/items/{i}?latency=300ms") for i in range(8)]
    results = run("processes", urls, processes=2, concurrency=100)
    assert_complete(results, urls)
    assert fresh_server.stats()["peak_in_flight"] == 2
    workers = {r.worker for r in results}
    assert len(workers) == 2
    assert f"pid-{os.getpid()}" not in workers


def test_sequential_has_one_request_in_flight(fresh_server: MockServer) -> None:
    """Sequential never overlaps two requests."""
    urls = [fresh_server.url_for(f"/items/{i}?latency=20ms") for i in range(5)]
    run("sequential", urls)
    assert fresh_server.stats()["peak_in_flight"] == 1
    assert fresh_server.stats()["requests"] == 5


@pytest.mark.parametrize("strategy", ALL)
def test_each_failure_is_classified_the_same_by_every_client(
    server: MockServer, strategy: str
) -> None:
    """Refused, unresolvable, reset, empty, malformed, redirect loop and too-large all map alike."""
    cases = {
        f"http://127.0.0.1:{closed_port()}/": ErrorKind.CONNECTION_REFUSED,
        "http://no-such-host.invalid/": ErrorKind.DNS,
        server.url_for("/items/1?faults=reset=1"): ErrorKind.CONNECTION_RESET,
        server.url_for("/items/2?faults=empty=1"): ErrorKind.DISCONNECTED,
        server.url_for("/items/3?faults=malformed=1"): ErrorKind.INVALID_RESPONSE,
        server.url_for("/redirect-loop"): ErrorKind.TOO_MANY_REDIRECTS,
        server.url_for("/bytes/5000"): ErrorKind.BODY_TOO_LARGE,
        server.url_for("/status/404"): ErrorKind.HTTP_STATUS,
    }
    urls = list(cases)
    results = run(strategy, urls, concurrency=4, processes=2, max_body_bytes=1000)
    assert_complete(results, urls)
    got = {r.url: r.error for r in results}
    assert got == cases


@pytest.mark.parametrize("strategy", ALL)
def test_read_timeout_ends_a_hung_request(server: MockServer, strategy: str) -> None:
    """A response that never comes ends at the read timeout as a timeout result."""
    from fetcher import Timeouts

    urls = [server.url_for("/items/1?faults=hang=1"), server.url_for("/items/2")]
    timeouts = Timeouts(connect_s=2.0, read_s=0.5, total_s=3.0)
    results = run(strategy, urls, concurrency=2, processes=2, timeouts=timeouts)
    by_index = {r.index: r for r in results}
    assert by_index[0].error in (ErrorKind.READ_TIMEOUT, ErrorKind.TIMEOUT)
    assert by_index[1].ok


def test_fetch_all_returns_results_in_input_order_with_bodies(server: MockServer) -> None:
    """The public API returns one result per URL in input order, bodies kept when asked."""
    urls = [server.url_for(f"/items/{i}") for i in (5, 3, 9)]
    streamed: list[FetchResult] = []
    results = fetch_all(
        urls,
        "threads",
        concurrency=3,
        config=FetchConfig(keep_body=True),
        on_result=streamed.append,
    )
    assert [r.index for r in results] == [0, 1, 2]
    assert sorted(streamed, key=lambda r: r.index) == results
    assert all(r.body and b'"id":%d' % i in r.body for r, i in zip(results, (5, 3, 9), strict=True))


async def test_afetch_all_runs_inside_a_running_loop(server: MockServer) -> None:
    """The async API works from code that already has an event loop."""
    urls = [server.url_for(f"/items/{i}") for i in range(10)]
    for strategy in ("asyncio-aiohttp", "asyncio-httpx"):
        results = await afetch_all(urls, strategy, concurrency=5)
        assert [r.index for r in results] == list(range(10))
        assert all(r.ok for r in results)


async def test_afetch_all_refuses_a_blocking_strategy() -> None:
    """Asking the async API for a thread strategy is misuse and says so."""
    with pytest.raises(ValueError, match="afetch_all runs"):
        await afetch_all(["http://127.0.0.1:1/"], "threads")


def test_unknown_strategy_names_the_choices() -> None:
    """A typo in a strategy name lists the real ones."""
    with pytest.raises(ValueError, match="choose from sequential"):
        get_strategy("thread")
