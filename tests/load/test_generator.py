"""The open model's bound on starting workers: when a new one (a new connection) may start."""

from __future__ import annotations

import asyncio
import time

from fetcher.load import LoadConfig, run_load
from fetcher.load.config import DEFAULT_OPEN_CONCURRENCY
from fetcher.load.generator import POOL_FLOOR, START_PER_TICK, Generator, WorkerStarts
from mock_server import MockServer


def starts(rate: float = 1000.0) -> WorkerStarts:
    """A bound with a 1 ms grace, 4 starts per 1 ms tick."""
    return WorkerStarts(rate, grace_s=0.001, per_tick=4, tick_s=0.001)


def test_no_worker_starts_for_a_request_not_yet_overdue_by_the_grace() -> None:
    """A backlog younger than the grace waits for a busy worker to come free."""
    bound = starts()
    assert bound.allowed(10, oldest_due=5.0, now=5.0005) == 0
    assert bound.allowed(10, oldest_due=5.0, now=5.0011) == 4


def test_at_most_per_tick_workers_start_in_one_tick_then_more_the_next() -> None:
    """However large the backlog, a tick starts 4 workers; the next tick 4 more."""
    bound = starts()
    assert bound.allowed(500, oldest_due=0.0, now=1.0) == 4
    assert bound.allowed(500, oldest_due=0.0, now=1.0004) == 0
    assert bound.allowed(500, oldest_due=0.0, now=1.0012) == 4
    assert bound.allowed(2, oldest_due=0.0, now=1.0025) == 2


def test_the_pool_is_held_to_littles_law_at_the_quickest_service_time() -> None:
    """At 100,000/s and 1 ms answers 100 are in flight; with headroom 2 the pool stops at 200,
    and a slower interval later does not raise it."""
    bound = starts(rate=100_000)
    bound.note_service(0.001)
    bound.note_service(0.050)
    assert bound.allowed(10, oldest_due=0.0, now=1.0, workers=190) == 4
    assert bound.allowed(10, oldest_due=0.0, now=1.01, workers=198) == 2
    assert bound.allowed(10, oldest_due=0.0, now=1.02, workers=200) == 0


def test_the_pool_stays_at_the_floor_until_a_service_time_is_measured() -> None:
    """Before the first interval's latency is known, a backlog grows the pool to 64, no more."""
    bound = starts(rate=100_000)
    assert bound.allowed(10, oldest_due=0.0, now=1.0, workers=62) == 2
    assert bound.allowed(10, oldest_due=0.0, now=1.01, workers=64) == 0


def test_the_pool_never_bounds_below_the_floor() -> None:
    """At a low rate Little's law asks for a worker or two; the floor still allows 64."""
    bound = starts(rate=1000)
    bound.note_service(0.001)
    assert POOL_FLOOR == 64
    assert bound.allowed(10, oldest_due=0.0, now=1.0, workers=62) == 2
    assert bound.allowed(10, oldest_due=0.0, now=1.01, workers=64) == 0


def test_a_slow_target_still_gets_the_connections_its_latency_needs(
    fresh_server: MockServer,
) -> None:
    """800/s with 200 ms answers needs about 160 in flight: past the floor, as the server saw,
    and the pool the result reports grew past it too."""
    urls = tuple(fresh_server.url_for(f"/items/{i}?latency=200ms") for i in range(10))
    result = run_load(
        LoadConfig(urls=urls, rate=800, concurrency=DEFAULT_OPEN_CONCURRENCY, requests=400)
    )
    assert result.requests == 400
    assert result.status == {200: 400}
    assert fresh_server.stats()["peak_in_flight"] > POOL_FLOOR
    assert result.pool > POOL_FLOOR


def test_the_floor_of_workers_is_there_when_the_schedule_starts(fresh_server: MockServer) -> None:
    """64 requests due within 3 ms, each answered in 100 ms, are all in flight at once, as the
    server saw: the floor of workers starts with the schedule (grown from none, 4 a
    millisecond once a request was 1 ms overdue, 8 to 12 were in flight)."""
    urls = tuple(fresh_server.url_for(f"/items/{i}?latency=100ms") for i in range(10))
    result = run_load(LoadConfig(urls=urls, rate=20_000, requests=POOL_FLOOR))
    assert result.status == {200: POOL_FLOOR}
    assert fresh_server.stats()["peak_in_flight"] == POOL_FLOOR


def generator(rate: float = 1000.0) -> Generator:
    """A generator that sends nowhere: for its scheduling alone."""
    url = "http://127.0.0.1:9/"
    return Generator(LoadConfig(urls=(url,), rate=rate), send=None, urls=[url])  # type: ignore[arg-type]


def test_the_generator_is_busy_over_90_percent_of_a_core() -> None:
    """Windows of 50 ms with the CPU time the generator would have used in each."""
    busy = generator()

    def window(cpu_share: float) -> bool:
        now, cpu_s = time.perf_counter(), time.process_time()
        busy.note_busy((now - 0.05, cpu_s - 0.05 * cpu_share))
        return busy.busy

    assert [window(share) for share in (0.5, 0.95, 0.85, 1.0)] == [False, True, False, True]
    short = (time.perf_counter(), time.process_time() - 1.0)
    assert busy.note_busy(short) == short  # not yet a window long: not measured


def test_no_worker_starts_while_the_generator_is_busy() -> None:
    """A second's requests overdue and no worker free: a busy generator starts none (more
    connections cannot help it), one with CPU to spare as many as the bound allows."""

    async def started(busy: bool) -> int:
        behind = generator()
        behind.t0 = time.perf_counter() - 1.0
        behind.released, behind.busy = 1000, busy
        behind._dispatch()
        count = len(behind.workers)
        for task in list(behind.workers):
            task.cancel()
        await asyncio.gather(*behind.workers, return_exceptions=True)
        return count

    assert asyncio.run(started(busy=True)) == 0
    assert asyncio.run(started(busy=False)) == START_PER_TICK
