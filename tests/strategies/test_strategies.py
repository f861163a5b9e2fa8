"""Every strategy against the real mock server: complete results, real concurrency, real errors.

Retries are off here, so each injected fault shows as the error it is; the retry policy has tests
of its own (test_policy.py, test_faults.py).
"""

from __future__ import annotations

import os
import random
from collections import Counter

import pytest

from fetcher import ErrorKind, FetchConfig, FetchResult, afetch_all, fetch_all
from fetcher.config import Limits, Retries, Timeouts
from fetcher.strategies import STRATEGIES
from mock_server import MockServer
from tests.conftest import ALL_STRATEGIES, assert_one_per_url, closed_port, fetch

NO_RETRIES = Retries(attempts=1)
ASYNC = [t.name for t in STRATEGIES.values() if t.asynchronous]
BLOCKING = [t.name for t in STRATEGIES.values() if not t.asynchronous]


def run(strategy: str, urls: list[str], **config: object) -> list[FetchResult]:
    """Fetch with one strategy and no retries, collecting results in completion order."""
    fetch_config = FetchConfig(**{"retries": NO_RETRIES, **config})  # type: ignore[arg-type]
    return fetch(strategy, urls, fetch_config)


@pytest.mark.parametrize("strategy", ALL_STRATEGIES)
def test_results_complete_under_errors_and_resets(server: MockServer, strategy: str) -> None:
    """Injected 500s and resets become error results, and no URL is lost or doubled."""
    urls = [server.url_for(f"/items/{i}?error-rate=0.2&faults=reset=0.2") for i in range(60)]
    results = run(strategy, urls, concurrency=10, processes=2)
    assert_one_per_url(results, urls)
    kinds = Counter(r.error for r in results)
    assert kinds[None] > 0
    assert kinds[ErrorKind.HTTP_STATUS] > 0
    assert kinds[ErrorKind.CONNECTION_RESET] > 0
    assert set(kinds) <= {None, ErrorKind.HTTP_STATUS, ErrorKind.CONNECTION_RESET}
    failed = [r for r in results if r.error is ErrorKind.HTTP_STATUS]
    assert all(r.status in (500, 502, 503) for r in failed)


@pytest.mark.parametrize("strategy", ALL_STRATEGIES)
def test_successful_results_carry_status_size_and_times(server: MockServer, strategy: str) -> None:
    """A good response records its status, body size, worker and a start before its end."""
    urls = [server.url_for(f"/bytes/{100 + i}") for i in range(6)]
    results = run(strategy, urls, concurrency=3, processes=2)
    assert_one_per_url(results, urls)
    for result in results:
        assert (result.status, result.error) == (200, None)
        assert result.nbytes == 100 + result.index
        assert 0 <= result.started_s <= result.ended_s
        assert result.worker


@pytest.mark.parametrize("strategy", ALL_STRATEGIES)
def test_kept_bodies_are_the_bytes_served(server: MockServer, strategy: str) -> None:
    """A body whole with its headers, one larger than a read and one still arriving after them
    are each kept byte for byte, on connections the batch goes on using."""
    sizes = {"/bytes/100?seed=7": 100, "/bytes/300000?seed=7": 300_000}
    paths = [*sizes, "/drip?numbytes=30&duration=0.1s&chunks=3"] * 2
    urls = [server.url_for(path) for path in paths]
    results = run(strategy, urls, concurrency=2, processes=2, keep_body=True)
    assert_one_per_url(results, urls)
    for result in results:
        size = sizes.get(paths[result.index])
        expected = b"*" * 30 if size is None else random.Random(7).randbytes(size)
        assert (result.status, result.nbytes) == (200, len(expected)), result
        assert result.body == expected, result.url


@pytest.mark.parametrize("strategy", ALL_STRATEGIES)
def test_a_refused_body_frees_its_connection(server: MockServer, strategy: str) -> None:
    """With one connection, the URLs after a body refused as too large (its Content-Length says
    so while the rest of it is still arriving) are still fetched: the connection it held was
    closed and replaced, not left taken."""
    paths = ("/drip?numbytes=5000&duration=10s&chunks=4", "/items/1", "/items/2")
    urls = [server.url_for(path) for path in paths]
    timeouts = Timeouts(total_s=3.0)  # shorter than the drip: a connection held to its end fails
    results = run(
        strategy, urls, concurrency=1, processes=1, max_body_bytes=1000, timeouts=timeouts
    )
    assert_one_per_url(results, urls)
    errors = [r.error for r in sorted(results, key=lambda r: r.index)]
    assert errors == [ErrorKind.BODY_TOO_LARGE, None, None], results


@pytest.mark.parametrize("strategy", ALL_STRATEGIES)
def test_server_sees_the_concurrency_the_traits_promise(
    fresh_server: MockServer, strategy: str
) -> None:
    """With slow responses, the server sees exactly as many requests in flight as the strategy's
    traits say its settings allow (1; the concurrency; the processes; or both multiplied)."""
    config = FetchConfig(retries=NO_RETRIES, concurrency=4, processes=2)
    in_flight = STRATEGIES[strategy].in_flight(config)
    urls = [fresh_server.url_for(f"/items/{i}?latency=400ms") for i in range(2 * in_flight)]
    results = fetch(strategy, urls, config)
    assert_one_per_url(results, urls)
    assert fresh_server.stats()["peak_in_flight"] == in_flight
    assert len({r.worker for r in results}) == in_flight


@pytest.mark.parametrize("strategy", ASYNC)
def test_async_concurrency_is_not_capped_by_the_client_pools(
    fresh_server: MockServer, strategy: str
) -> None:
    """200 tasks are 200 requests in flight: the 100-connection pool defaults are lifted."""
    urls = [fresh_server.url_for(f"/items/{i}?latency=1s") for i in range(200)]
    results = run(strategy, urls, concurrency=200)
    assert sum(r.ok for r in results) == 200
    assert fresh_server.stats()["peak_in_flight"] == 200


def test_processes_answer_from_worker_processes(fresh_server: MockServer) -> None:
    """The processes strategy's results come from its own worker processes, not this one."""
    urls = [fresh_server.url_for(f"/items/{i}?latency=300ms") for i in range(8)]
    results = run("processes", urls, processes=2, concurrency=100)
    assert_one_per_url(results, urls)
    workers = {r.worker for r in results}
    assert len(workers) == 2
    assert f"pid-{os.getpid()}" not in workers


@pytest.mark.parametrize("strategy", ALL_STRATEGIES)
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
    assert_one_per_url(results, urls)
    got = {r.url: r.error for r in results}
    assert got == cases


@pytest.mark.parametrize("strategy", ALL_STRATEGIES)
def test_read_timeout_ends_a_hung_request(server: MockServer, strategy: str) -> None:
    """A response that never comes ends at the read timeout as a timeout result."""
    urls = [server.url_for("/items/1?faults=hang=1"), server.url_for("/items/2")]
    timeouts = Timeouts(connect_s=2.0, read_s=0.5, total_s=3.0)
    results = run(strategy, urls, concurrency=2, processes=2, timeouts=timeouts)
    by_index = {r.index: r for r in results}
    assert by_index[0].error in (ErrorKind.READ_TIMEOUT, ErrorKind.TIMEOUT)
    assert by_index[1].ok


@pytest.mark.parametrize(
    ("strategy", "limited"),
    [(name, False) for name in ALL_STRATEGIES]
    # With a limit, asyncio-aiohttp leaves the read limit to aiohttp (see Deadlines).
    + [("asyncio-aiohttp", True)],
)
def test_read_timeout_is_the_longest_wait_for_data(
    server: MockServer, strategy: str, limited: bool
) -> None:
    """The read limit bounds each wait for data, not the whole body: a body dripping a chunk
    every 0.1 s for 1.2 s arrives whole under read_s=0.5, and one whose first chunk is 0.8 s
    away fails as a read timeout, long before the total limit."""
    limits = Limits(per_host=2) if limited else Limits()

    steady = server.url_for("/drip?numbytes=12&duration=1200ms&chunks=12")
    stalled = server.url_for("/drip?numbytes=2&duration=1600ms&chunks=2")
    timeouts = Timeouts(connect_s=2.0, read_s=0.5, total_s=5.0)
    results = run(
        strategy, [steady, stalled], concurrency=2, processes=2, timeouts=timeouts, limits=limits
    )
    by_url = {r.url: r for r in results}
    assert by_url[steady].ok and by_url[steady].nbytes == 12, by_url[steady]
    assert by_url[stalled].error is ErrorKind.READ_TIMEOUT, by_url[stalled]
    assert by_url[stalled].elapsed_s < 2.0


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


@pytest.mark.parametrize("strategy", ASYNC)
async def test_afetch_all_runs_inside_a_running_loop(server: MockServer, strategy: str) -> None:
    """The async API works from code that already has an event loop."""
    urls = [server.url_for(f"/items/{i}") for i in range(10)]
    results = await afetch_all(urls, strategy, concurrency=5)
    assert [r.index for r in results] == list(range(10))
    assert all(r.ok for r in results)


@pytest.mark.parametrize("strategy", BLOCKING)
async def test_afetch_all_refuses_a_blocking_strategy(strategy: str) -> None:
    """Asking the async API for a strategy that blocks is misuse and says so."""
    with pytest.raises(ValueError, match="afetch_all runs"):
        await afetch_all(["http://127.0.0.1:1/"], strategy)
