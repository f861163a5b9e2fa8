"""The load generator behind `fetcher load`: closed and open models, measured in HdrHistograms.

Closed model: `concurrency` long-lived worker tasks, each sending its next request when the last
one answers. Open model: request i is due at t0 + i/rate whatever the server does; workers are
started as needed (up to `concurrency`, a generous cap on requests in flight) and latency is
measured both from when the request was due (coordinated omission corrected, as wrk2 does) and
from when it went out (uncorrected). A start more than LATE_START_MS after its due time counts as
late. Every run is bounded by a duration and/or a count; `processes` runs one generator per
process and merges their histograms.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import queue as queue_module
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field, replace
from typing import Any

from hdrh.histogram import HdrHistogram

from fetcher.classify import classify
from fetcher.errors import FetcherError

CLIENTS = ("aiohttp", "httpx")
DEFAULT_DURATION_S = 10.0
DEFAULT_CONCURRENCY = 64
# The open model's cap on requests in flight: generous, so a stalled server does not stop arrivals.
DEFAULT_OPEN_CONCURRENCY = 2_000
DEFAULT_TIMEOUT_S = 30.0
# After the duration, requests in flight get this long to finish before they are cancelled.
DEFAULT_DRAIN_S = 2.0
# A start this much after its due time is late: above the 1 ms granularity of the event loop's
# timers and the few ms of scheduling jitter of a busy machine, so only a generator that fell
# behind (every worker busy, or its CPU saturated) counts. The full start-lag histogram is kept.
LATE_START_MS = 5.0
PROGRESS_INTERVAL_S = 0.5
# The open model's scheduler wakes at most this often and releases every request due by then.
SCHEDULE_TICK_S = 0.001
# Histograms in microseconds from 1 µs to one day, three significant digits: ~190 KB each.
HIST_MAX_US = 86_400_000_000
HIST_DIGITS = 3
_CSV_BATCH = 4096
# Recorded latencies wait in a list at most this long before they go into the histogram.
FLUSH_INTERVAL_S = 0.25

Send = Callable[[Any], Awaitable[tuple[int, int]]]


def new_histogram() -> HdrHistogram:
    """An empty latency histogram in microseconds."""
    return HdrHistogram(1, HIST_MAX_US, HIST_DIGITS)


@dataclass(frozen=True)
class LoadConfig:
    """What to load and how: the model follows from `rate` (None: closed, else open)."""

    urls: tuple[str, ...]
    rate: float | None = None
    concurrency: int = DEFAULT_CONCURRENCY
    duration_s: float | None = None
    requests: int | None = None
    client: str = "aiohttp"
    processes: int = 1
    timeout_s: float = DEFAULT_TIMEOUT_S
    drain_s: float = DEFAULT_DRAIN_S
    csv_path: str | None = None
    use_uvloop: bool = True

    def __post_init__(self) -> None:
        if not self.urls:
            raise ValueError("give at least one URL")
        if self.rate is not None and not self.rate > 0:
            raise ValueError(f"rate must be > 0 requests/s, got {self.rate}")
        if self.concurrency < 1 or self.processes < 1:
            raise ValueError("concurrency and processes must be at least 1")
        if self.client not in CLIENTS:
            raise ValueError(f"client must be one of {', '.join(CLIENTS)}, got {self.client!r}")
        if self.requests is not None and self.requests < 1:
            raise ValueError(f"requests must be at least 1, got {self.requests}")
        if self.duration_s is not None and not self.duration_s > 0:
            raise ValueError(f"duration must be > 0 s, got {self.duration_s}")

    @property
    def model(self) -> str:
        """`closed` or `open`."""
        return "closed" if self.rate is None else "open"

    @property
    def bounded(self) -> LoadConfig:
        """This config with the default duration when neither a duration nor a count is given."""
        if self.duration_s is None and self.requests is None:
            return replace(self, duration_s=DEFAULT_DURATION_S)
        return self


@dataclass(frozen=True)
class Progress:
    """A look at a run while it goes: what the live display shows."""

    elapsed_s: float
    requests: int
    errors: int
    p50_ms: float
    p99_ms: float


@dataclass(frozen=True)
class GeneratorResult:
    """What one generator measured, picklable so a process can send it back."""

    requests: int
    unfinished: int
    elapsed_s: float
    nbytes: int
    late_starts: int
    status: dict[int, int]
    errors: dict[str, int]
    latency: bytes
    uncorrected: bytes
    start_lag: bytes
    interrupted: bool


@dataclass(frozen=True)
class LoadResult:
    """A finished run, all processes merged; histograms are in microseconds."""

    config: LoadConfig
    requests: int
    unfinished: int
    duration_s: float
    nbytes: int
    late_starts: int
    status: dict[int, int]
    errors: dict[str, int]
    latency: HdrHistogram
    uncorrected: HdrHistogram
    start_lag: HdrHistogram
    interrupted: bool
    per_process: tuple[int, ...]
    csv_parts: tuple[str, ...] = field(default=())

    @property
    def requests_per_s(self) -> float:
        """Requests completed per second of the run."""
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0


def merge(config: LoadConfig, parts: list[GeneratorResult]) -> LoadResult:
    """One result from the generators' parts: histograms added, counts summed."""
    latency, uncorrected, start_lag = new_histogram(), new_histogram(), new_histogram()
    status: dict[int, int] = {}
    errors: dict[str, int] = {}
    for part in parts:
        latency.decode_and_add(part.latency)
        uncorrected.decode_and_add(part.uncorrected)
        start_lag.decode_and_add(part.start_lag)
        for code, count in part.status.items():
            status[code] = status.get(code, 0) + count
        for kind, count in part.errors.items():
            errors[kind] = errors.get(kind, 0) + count
    return LoadResult(
        config=config,
        requests=sum(p.requests for p in parts),
        unfinished=sum(p.unfinished for p in parts),
        duration_s=max((p.elapsed_s for p in parts), default=0.0),
        nbytes=sum(p.nbytes for p in parts),
        late_starts=sum(p.late_starts for p in parts),
        status=dict(sorted(status.items())),
        errors=dict(sorted(errors.items())),
        latency=latency,
        uncorrected=uncorrected,
        start_lag=start_lag,
        interrupted=any(p.interrupted for p in parts),
        per_process=tuple(p.requests for p in parts),
        csv_parts=_csv_parts(config),
    )


def _csv_parts(config: LoadConfig) -> tuple[str, ...]:
    """Where each generator writes its per-request rows, if asked to."""
    if config.csv_path is None:
        return ()
    return tuple(f"{config.csv_path}.part{k}" for k in range(config.processes))


def share(config: LoadConfig, index: int) -> LoadConfig:
    """The part of the load that generator `index` of `config.processes` produces."""
    n = config.processes
    rate = None if config.rate is None else config.rate / n
    requests = (
        None if config.requests is None else config.requests // n + (index < config.requests % n)
    )
    concurrency = max(1, _split(config.concurrency, n, index))
    return replace(config, rate=rate, requests=requests, concurrency=concurrency, processes=1)


def _split(total: int, n: int, index: int) -> int:
    """Part `index` of `total` shared as evenly as can be among `n`."""
    return total // n + (index < total % n)


@asynccontextmanager
async def open_client(config: LoadConfig, connections: int) -> AsyncIterator[Send]:
    """A `send(url) -> (status, nbytes)` on one long-lived client session."""
    if config.client == "httpx":
        async with _httpx_client(config, connections) as send:
            yield send
    else:
        async with _aiohttp_client(config, connections) as send:
            yield send


@asynccontextmanager
async def _aiohttp_client(config: LoadConfig, connections: int) -> AsyncIterator[Send]:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=connections, ttl_dns_cache=None)
    # No per-request timer: the generator's watchdog enforces `timeout_s` for less CPU.
    async with aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=None),
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,
    ) as session:
        # ClientSession._request is what `session.get(url)` wraps in a context manager; calling
        # it directly saves ~3 µs of ~45 µs per request, the figure a load generator must cut.
        request = session._request

        async def send(url: Any) -> tuple[int, int]:
            response = await request("GET", url)
            try:
                return response.status, len(await response.read())
            finally:
                response.release()

        yield send


@asynccontextmanager
async def _httpx_client(config: LoadConfig, connections: int) -> AsyncIterator[Send]:
    import httpx

    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=None) as client:
        get = client.get

        async def send(url: Any) -> tuple[int, int]:
            response = await get(url)
            return response.status_code, len(response.content)

        yield send


def prepared_urls(config: LoadConfig) -> list[Any]:
    """The URLs parsed once, so no request pays for parsing its URL."""
    if config.client == "httpx":
        import httpx

        return [httpx.URL(url) for url in config.urls]
    from yarl import URL

    return [URL(url) for url in config.urls]


class Recorder:
    """A histogram fed in batches: appending to a list costs far less than `record_value`."""

    def __init__(self) -> None:
        self.hist = new_histogram()
        self.values: list[int] = []

    def flushed(self) -> HdrHistogram:
        """The histogram with every value appended so far recorded in it."""
        record = self.hist.record_value
        for value, count in Counter(self.values).items():
            record(min(value, HIST_MAX_US), count)
        self.values.clear()
        return self.hist


class _Slot:
    """A worker's request in flight, as the timeout watchdog sees it."""

    __slots__ = ("expired", "sent")

    def __init__(self) -> None:
        self.sent = 0.0
        self.expired = False


def _uncancel() -> None:
    """Undo the watchdog's cancel on this task (Python 3.11+ counts them)."""
    uncancel = getattr(asyncio.current_task(), "uncancel", None)
    if uncancel is not None:
        uncancel()


class Generator:
    """One process's load: the workers, the schedule, and what they measured."""

    def __init__(self, config: LoadConfig, send: Send, urls: list[Any]) -> None:
        self.config = config
        self.send = send
        self.urls = urls
        self.latency = Recorder()
        self.uncorrected = Recorder()
        self.start_lag = Recorder()
        self.status = [0] * 1000
        self.errors: dict[str, int] = {}
        self.nbytes = self.completed = self.late_starts = 0
        self.taken = 0
        self.released = 0
        self.limit = _request_limit(config)
        self.workers: set[asyncio.Task[None]] = set()
        self.slots: dict[asyncio.Task[None], _Slot] = {}
        self.idle: list[asyncio.Future[None]] = []
        self.stopping = False
        self.interrupted = False
        self.halt = asyncio.Event()
        self.t0 = time.perf_counter()
        self.rows: list[tuple[object, ...]] = []
        self.csv: Any = None

    def interrupt(self) -> None:
        """Stop now, as Ctrl-C asks: no drain."""
        self.stop(interrupted=True)

    def stop(self, *, interrupted: bool = False) -> None:
        """End the run: no new requests; `interrupted` also skips the drain."""
        self.interrupted = self.interrupted or interrupted
        self.halt.set()

    async def run(self, on_progress: Callable[[Progress], None] | None = None) -> GeneratorResult:
        """Send the load until its bound, then return what was measured."""
        self.t0 = time.perf_counter()
        helpers = [asyncio.ensure_future(self._watch()), asyncio.ensure_future(self._flush())]
        if on_progress is not None:
            helpers.append(asyncio.ensure_future(self._tick(on_progress)))
        if self.config.rate is None:
            for _ in range(min(self.config.concurrency, self.limit)):
                self._spawn_worker(self._closed_worker)
        else:
            self._spawn(self._schedule(self.config.rate))
        await self._wait_for_end()
        ended = time.perf_counter()
        for helper in helpers:
            helper.cancel()
        self._flush_rows()
        return self._result(ended - self.t0)

    async def _wait_for_end(self) -> None:
        """Wait for the count, the duration or a stop; drain, then cancel what is left."""
        duration_s = self.config.duration_s
        timeout_s = None if duration_s is None else duration_s - (time.perf_counter() - self.t0)
        with suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.halt.wait(), timeout_s)
        self.stopping = True
        self._wake_all()
        if self.workers and not self.interrupted:
            await asyncio.wait(set(self.workers), timeout=self.config.drain_s)
        for task in list(self.workers):
            task.cancel()
        await asyncio.gather(*self.workers, return_exceptions=True)

    def _spawn(self, coro: Awaitable[None]) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self.workers.add(task)
        task.add_done_callback(self._retire)
        return task

    def _spawn_worker(self, worker: Callable[[_Slot], Awaitable[None]]) -> None:
        slot = _Slot()
        self.slots[self._spawn(worker(slot))] = slot

    def _retire(self, task: asyncio.Task[None]) -> None:
        self.workers.discard(task)
        self.slots.pop(task, None)
        if not self.workers:
            self.halt.set()

    async def _watch(self) -> None:
        """Cancel requests older than the timeout: one timer for all, not one per request."""
        timeout_s = self.config.timeout_s
        while True:
            await asyncio.sleep(min(1.0, max(0.05, timeout_s / 10)))
            cutoff = time.perf_counter() - timeout_s
            for task, slot in list(self.slots.items()):
                if 0.0 < slot.sent < cutoff and not slot.expired:
                    slot.expired = True
                    task.cancel()

    async def _flush(self) -> None:
        """Move recorded values into the histograms often enough that memory stays bounded."""
        while True:
            await asyncio.sleep(FLUSH_INTERVAL_S)
            for recorder in (self.latency, self.uncorrected, self.start_lag):
                recorder.flushed()

    async def _closed_worker(self, slot: _Slot) -> None:
        """Send the next request as soon as the last one answered."""
        urls, n = self.urls, len(self.urls)
        while not self.stopping and self.taken < self.limit:
            index = self.taken
            self.taken += 1
            await self._one(slot, index, urls[index % n], None)

    async def _schedule(self, rate: float) -> None:
        """Release request i at t0 + i/rate, starting workers when none is free."""
        limit, t0 = self.limit, self.t0
        while not self.stopping and self.released < limit:
            due_now = min(limit, math.floor((time.perf_counter() - t0) * rate) + 1)
            if due_now > self.released:
                self.released = due_now
                self._dispatch()
            # Never less than a tick: shorter sleeps would spin the loop at high rates.
            await asyncio.sleep(
                max(SCHEDULE_TICK_S, t0 + self.released / rate - time.perf_counter())
            )
        self._wake_all()

    def _wake_all(self) -> None:
        """Let every parked worker look again: the schedule is over or the run is stopping."""
        for waiter in self.idle:
            if not waiter.done():
                waiter.set_result(None)
        self.idle.clear()

    def _dispatch(self) -> None:
        """Wake idle workers, and start new ones up to the cap, for the released requests."""
        backlog = self.released - self.taken
        while backlog > 0 and self.idle:
            waiter = self.idle.pop()
            if not waiter.done():
                waiter.set_result(None)
                backlog -= 1
        cap = self.config.concurrency + 1  # the scheduler itself is in `workers`
        while backlog > 0 and len(self.workers) < cap:
            self._spawn_worker(self._open_worker)
            backlog -= 1

    async def _open_worker(self, slot: _Slot) -> None:
        """Take released requests in order; park when there is none."""
        urls, n, t0 = self.urls, len(self.urls), self.t0
        rate = self.config.rate or 1.0
        loop = asyncio.get_running_loop()
        while not self.stopping:
            if self.taken < self.released:
                index = self.taken
                self.taken += 1
                await self._one(slot, index, urls[index % n], t0 + index / rate)
            elif self.released >= self.limit:
                return
            else:
                waiter = loop.create_future()
                self.idle.append(waiter)
                await waiter

    async def _one(self, slot: _Slot, index: int, url: Any, due: float | None) -> None:
        """Send one request and record it; a failure is counted, never raised."""
        slot.sent = sent = time.perf_counter()
        try:
            status, nbytes = await self.send(url)
        except asyncio.CancelledError:
            if not slot.expired:
                raise
            _uncancel()
            slot.expired = False
            self._record_error(index, url, due, sent, TimeoutError("request timed out"))
            return
        except Exception as exc:  # a failed request is data
            self._record_error(index, url, due, sent, exc)
            return
        finally:
            slot.sent = 0.0
        ended = time.perf_counter()
        self.completed += 1
        self.status[status] += 1
        self.nbytes += nbytes
        self.uncorrected.values.append(int((ended - sent) * 1e6))
        if due is not None:
            self._record_due(due, sent, ended)
        if self.csv is not None:
            self._row(index, url, due, sent, ended, status, nbytes, "")

    def _record_due(self, due: float, sent: float, ended: float) -> None:
        """The open model's extra figures: corrected latency and how late the start was."""
        lag_us = int((sent - due) * 1e6)
        self.latency.values.append(int((ended - due) * 1e6))
        self.start_lag.values.append(max(lag_us, 0))
        if lag_us > LATE_START_MS * 1000:
            self.late_starts += 1

    def _record_error(
        self, index: int, url: Any, due: float | None, sent: float, exc: Exception
    ) -> None:
        kind = classify(exc).value
        self.completed += 1
        self.errors[kind] = self.errors.get(kind, 0) + 1
        if due is not None and sent - due > LATE_START_MS / 1000:
            self.late_starts += 1
        if self.csv is not None:
            self._row(index, url, due, sent, time.perf_counter(), "", 0, kind)

    def _row(
        self,
        index: int,
        url: Any,
        due: float | None,
        sent: float,
        ended: float,
        status: int | str,
        nbytes: int,
        error: str,
    ) -> None:
        """Buffer one per-request CSV row; times in ms since the run started."""
        t0 = self.t0
        due_ms = "" if due is None else _ms(due - t0)
        corrected_ms = "" if due is None else _ms(ended - due)
        row = (index, str(url), due_ms, _ms(sent - t0), _ms(ended - sent), corrected_ms)
        self.rows.append((*row, status, nbytes, error))
        if len(self.rows) >= _CSV_BATCH:
            self._flush_rows()

    def _flush_rows(self) -> None:
        if self.csv is not None and self.rows:
            self.csv.write_rows(self.rows)
            self.rows.clear()

    async def _tick(self, on_progress: Callable[[Progress], None]) -> None:
        """Report progress every PROGRESS_INTERVAL_S."""
        while True:
            await asyncio.sleep(PROGRESS_INTERVAL_S)
            on_progress(self.progress())

    def progress(self) -> Progress:
        """The figures so far."""
        recorder = self.uncorrected if self.config.rate is None else self.latency
        hist = recorder.flushed()
        return Progress(
            elapsed_s=time.perf_counter() - self.t0,
            requests=self.completed,
            errors=sum(self.errors.values()) + sum(self.status[400:]),
            p50_ms=hist.get_value_at_percentile(50) / 1000,
            p99_ms=hist.get_value_at_percentile(99) / 1000,
        )

    def _result(self, elapsed_s: float) -> GeneratorResult:
        closed = self.config.rate is None
        errors = dict(self.errors)
        http_errors = sum(self.status[400:])
        if http_errors:
            errors["http_status"] = http_errors
        return GeneratorResult(
            requests=self.completed,
            unfinished=self.taken - self.completed,
            elapsed_s=elapsed_s,
            nbytes=self.nbytes,
            late_starts=self.late_starts,
            status={code: n for code, n in enumerate(self.status) if n},
            errors=errors,
            latency=(self.uncorrected if closed else self.latency).flushed().encode(),
            uncorrected=self.uncorrected.flushed().encode(),
            start_lag=self.start_lag.flushed().encode(),
            interrupted=self.interrupted,
        )


def _request_limit(config: LoadConfig) -> int:
    """How many requests this generator may send: the count, or all due within the duration."""
    limit = config.requests if config.requests is not None else 2**62
    if config.rate is not None and config.duration_s is not None:
        limit = min(limit, math.ceil(config.duration_s * config.rate))
    return limit


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f}"


def run_load(
    config: LoadConfig, on_progress: Callable[[Progress], None] | None = None
) -> LoadResult:
    """Run the load to its bound (or Ctrl-C) and return the merged result."""
    config = config.bounded
    if config.processes == 1:
        part = _run_loop(_generate(config, 0, on_progress, _Signals()), config.use_uvloop)
        return merge(config, [part])
    return _run_processes(config, on_progress)


def _run_loop(coro: Coroutine[Any, Any, GeneratorResult], use_uvloop: bool) -> GeneratorResult:
    """Run on uvloop when it is installed and wanted, else on asyncio's loop."""
    if use_uvloop:
        try:
            import uvloop
        except ImportError:
            pass
        else:
            return uvloop.run(coro)
    return asyncio.run(coro)


@dataclass
class _Signals:
    """How a generator learns to start and stop: its own SIGINT, or events from the parent."""

    stop: Any = None
    go: Any = None
    ready: Callable[[], None] | None = None
    poller: asyncio.Future[None] | None = None

    async def started(self, generator: Generator) -> None:
        """Wait for the go-ahead, then route stop requests to `generator`."""
        loop = asyncio.get_running_loop()
        if self.stop is None:
            loop.add_signal_handler(signal.SIGINT, generator.interrupt)
            return
        if self.ready is not None:
            self.ready()
        while not (self.go.is_set() or self.stop.is_set()):
            await asyncio.sleep(0.002)
        self.poller = asyncio.ensure_future(self._poll(generator))

    async def _poll(self, generator: Generator) -> None:
        while not self.stop.is_set():
            await asyncio.sleep(0.05)
        generator.stop(interrupted=True)

    def finished(self) -> None:
        """Stop listening: give SIGINT back to Python's default handling."""
        if self.poller is not None:
            self.poller.cancel()
        if self.stop is None:
            asyncio.get_running_loop().remove_signal_handler(signal.SIGINT)


async def _generate(
    config: LoadConfig,
    index: int,
    on_progress: Callable[[Progress], None] | None,
    signals: _Signals,
) -> GeneratorResult:
    """One generator on one client session, from setup to result."""
    async with open_client(config, config.concurrency) as send:
        generator = Generator(config, send, prepared_urls(config))
        if config.csv_path is not None:
            from fetcher.load_report import RequestCsv

            generator.csv = RequestCsv(f"{config.csv_path}.part{index}")
        await signals.started(generator)
        try:
            return await generator.run(on_progress)
        finally:
            signals.finished()
            if generator.csv is not None:
                generator.csv.close()


def _run_processes(
    config: LoadConfig, on_progress: Callable[[Progress], None] | None
) -> LoadResult:
    """One generator per process; their histograms merged."""
    ctx = multiprocessing.get_context("spawn")
    stop, go, queue = ctx.Event(), ctx.Event(), ctx.Queue()
    processes = [
        ctx.Process(
            target=_child,
            args=(share(config, k), k, queue, stop, go, on_progress is not None),
            daemon=True,
        )
        for k in range(config.processes)
    ]
    previous = signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        for process in processes:
            process.start()
        parts = _Collector(config, processes, queue, go, stop, on_progress).collect()
    finally:
        signal.signal(signal.SIGINT, previous)
        stop.set()
        for process in processes:
            process.join(5.0)
            if process.is_alive():
                process.kill()
                process.join()
    return merge(config, parts)


def _child(config: LoadConfig, index: int, queue: Any, stop: Any, go: Any, progress: bool) -> None:
    """A generator process: its terminal's Ctrl-C is left to the parent, which sets `stop`."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def report(snapshot: Progress) -> None:
        queue.put(("progress", index, snapshot))

    signals = _Signals(stop=stop, go=go, ready=lambda: queue.put(("ready", index, None)))
    try:
        part = _run_loop(
            _generate(config, index, report if progress else None, signals), config.use_uvloop
        )
    except Exception as exc:  # sent to the parent, which raises it there
        queue.put(("error", index, f"{type(exc).__name__}: {exc}"))
        return
    queue.put(("result", index, part))


# A generator process that has not said it is ready within this long is taken as failed.
STARTUP_TIMEOUT_S = 60.0


class _Collector:
    """The parent's side of `--processes`: start them together, relay progress, gather parts."""

    def __init__(
        self,
        config: LoadConfig,
        processes: list[Any],
        queue: Any,
        go: Any,
        stop: Any,
        on_progress: Callable[[Progress], None] | None,
    ) -> None:
        self.config, self.processes, self.queue = config, processes, queue
        self.go, self.stop, self.on_progress = go, stop, on_progress
        self.ready = 0
        self.parts: dict[int, GeneratorResult] = {}
        self.snapshots: dict[int, Progress] = {}

    def collect(self) -> list[GeneratorResult]:
        """Every process's result, in process order; raise if one failed."""
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while len(self.parts) < len(self.processes):
            for kind, index, payload in self._messages():
                self._handle(kind, index, payload)
            if self.ready < len(self.processes) and time.monotonic() > deadline:
                raise FetcherError("the generator processes did not start in time")
            if self._lost():
                raise FetcherError("a generator process died before reporting")
        return [self.parts[k] for k in sorted(self.parts)]

    def _messages(self) -> Iterator[tuple[str, int, Any]]:
        """What arrived within a quarter of a second."""
        try:
            yield self.queue.get(timeout=0.25)
        except queue_module.Empty:
            return

    def _handle(self, kind: str, index: int, payload: Any) -> None:
        if kind == "ready":
            self.ready += 1
            if self.ready == len(self.processes):
                self.go.set()
        elif kind == "progress" and self.on_progress is not None:
            self.snapshots[index] = payload
            self.on_progress(combine(list(self.snapshots.values())))
        elif kind == "result":
            self.parts[index] = payload
        elif kind == "error":
            raise FetcherError(f"generator process {index} failed: {payload}")

    def _lost(self) -> bool:
        """True when a process without a result has exited (its result may still be queued)."""
        dead = [k for k, p in enumerate(self.processes) if k not in self.parts and not p.is_alive()]
        if not dead:
            return False
        time.sleep(0.5)
        return bool(self.queue.empty())


def combine(snapshots: list[Progress]) -> Progress:
    """Several processes' progress as one: counts add up; percentiles are approximate."""
    requests = sum(s.requests for s in snapshots)
    weight = max(requests, 1)
    return Progress(
        elapsed_s=max(s.elapsed_s for s in snapshots),
        requests=requests,
        errors=sum(s.errors for s in snapshots),
        p50_ms=sum(s.p50_ms * s.requests for s in snapshots) / weight,
        p99_ms=max(s.p99_ms for s in snapshots),
    )
