"""One generator of `fetcher load` on its event loop: workers, schedule, timeout, recording."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any, Protocol

import psutil

from fetcher.load.client import Send
from fetcher.load.config import DEFAULT_CONCURRENCY, LATE_START_MS, LoadConfig
from fetcher.load.results import GeneratorResult, Progress, Recorder
from fetcher.loop import uncancel
from fetcher.policy.classify import classify

PROGRESS_INTERVAL_S = 0.5
# The open model's scheduler wakes at most this often and releases every request due by then.
SCHEDULE_TICK_S = 0.001
# The open model starts a new worker (a new connection) only for a request this overdue, and at
# most START_PER_TICK of them per SCHEDULE_TICK_S: see WorkerStarts.
START_GRACE_S = 0.001
START_PER_TICK = 4
# And no more workers than Little's law asks for at the target's quickest interval so far (the
# rate times its mean latency then) times POOL_HEADROOM, but at least POOL_FLOOR (the closed
# model's default connection count; all there is before the first interval is measured) and at
# most the cap (-c).
POOL_HEADROOM = 2.0
# Nor while the generator used over BUSY_SHARE of a core in the last BUSY_WINDOW_S: see
# Generator.note_busy.
BUSY_SHARE = 0.9
BUSY_WINDOW_S = 0.02
POOL_FLOOR = DEFAULT_CONCURRENCY
_CSV_BATCH = 4096
# The latency series' interval; recorded values go into the histograms sooner, in batches of
# FLUSH_BATCH, looked at every FLUSH_CHECK_S.
FLUSH_INTERVAL_S = 0.25
FLUSH_CHECK_S = 0.01
FLUSH_BATCH = 256
_LATE_START_US = LATE_START_MS * 1000
# The CPU time (all cores together) a run's window must hold for machine_busy to be told: 50
# of the OS's 10 ms ticks, so a tick is 2% of it.
MACHINE_WINDOW_S = 0.5


class _Slot:
    """A worker's request in flight, as the timeout watchdog sees it."""

    __slots__ = ("expired", "sent")

    def __init__(self) -> None:
        self.sent = 0.0
        self.expired = False


class WorkerStarts:
    """How many new workers the open model may start now: a bound on its growth.

    Each open-model worker holds a connection. Starting one for every request released while
    all were busy made a generator that fell a little behind (a pause of the loop, a busy core)
    open hundreds of connections at once: each connect, and each extra connection the target
    and the loop must serve, made the next request dearer, the backlog grew, and the pool
    spiralled to its cap (2,000) with nearly every start late, at 90% of the closed model's
    rate. A busy worker frees within one service time and takes the next request itself, so a
    new worker is started only for a request overdue by `grace_s`, at most `per_tick` per
    `tick_s`, and only while the pool is under what Little's law needs at the quickest service
    time seen so far (`note_service`), with POOL_HEADROOM, or POOL_FLOOR (all there is until a
    service time is measured: before, a pool grown on a backlog would measure its own queue and
    size itself from that). Only the quickest interval counts, as a generator behind its
    schedule measures its own queueing in the latency, not the target's. A generator short of
    CPU then falls behind with the connections it has (the verdict says so) instead of
    spiralling; a pool that is really too small for a slow target still grows, by `per_tick /
    tick_s` workers a second, as far as that target's latency asks.
    """

    __slots__ = ("grace_s", "per_tick", "pool", "rate", "service_s", "started", "tick_s", "window")

    def __init__(
        self,
        rate: float,
        grace_s: float = START_GRACE_S,
        per_tick: int = START_PER_TICK,
        tick_s: float = SCHEDULE_TICK_S,
    ) -> None:
        self.rate = rate
        self.grace_s = grace_s
        self.per_tick = per_tick
        self.tick_s = tick_s
        self.window = -math.inf
        self.started = 0
        self.service_s = math.inf
        self.pool = POOL_FLOOR

    def note_service(self, mean_s: float) -> None:
        """Take an interval's mean latency (send to answer): the pool is sized from the least."""
        if 0.0 < mean_s < self.service_s:
            self.service_s = mean_s
            self.pool = max(POOL_FLOOR, math.ceil(self.rate * mean_s * POOL_HEADROOM))

    def allowed(self, wanted: int, oldest_due: float, now: float, workers: int = 0) -> int:
        """How many of `wanted` new workers to start at `now`, with `workers` running, for a
        backlog whose oldest request was due at `oldest_due`; the caller starts that many."""
        wanted = min(wanted, self.pool - workers)
        if wanted <= 0 or now - oldest_due < self.grace_s:
            return 0
        if now - self.window >= self.tick_s:
            self.window, self.started = now, 0
        count = min(wanted, self.per_tick - self.started)
        self.started += count
        return count


class Engine(Protocol):
    """What sends a generator's requests instead of its workers (`fetcher.load.driven`)."""

    async def prepare(self) -> None:
        """Get ready, before the run's clock starts."""

    def start(self) -> None:
        """Begin sending."""

    async def drain(self, timeout_s: float) -> None:
        """Wait up to `timeout_s` for the requests in flight."""

    async def close(self) -> None:
        """Drop what is left."""


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
        self.busy = False
        self.limit = _request_limit(config)
        self.workers: set[asyncio.Task[None]] = set()
        self.slots: dict[asyncio.Task[None], _Slot] = {}
        self.idle: list[asyncio.Future[None]] = []
        self.starts = WorkerStarts(config.rate or 1.0)
        # Sends the requests instead of the workers when set (before `run`).
        self.engine: Engine | None = None
        self.stopping = False
        self.interrupted = False
        self.halt = asyncio.Event()
        self.t0 = time.perf_counter()
        self.rows: list[tuple[object, ...]] = []
        self.csv: Any = None
        # For the verdict: when sending stopped, what was in flight, how latency moved.
        self.window_end = 0.0
        self.in_flight = self.peak_in_flight = 0
        self.series: list[tuple[int, int]] = []
        self._marked = (0, 0)

    def interrupt(self) -> None:
        """Stop now, as Ctrl-C asks: no drain."""
        self.stop(interrupted=True)

    def stop(self, *, interrupted: bool = False) -> None:
        """End the run: no new requests; `interrupted` also skips the drain."""
        self.interrupted = self.interrupted or interrupted
        self.halt.set()

    async def run(self, on_progress: Callable[[Progress], None] | None = None) -> GeneratorResult:
        """Send the load until its bound, then return what was measured."""
        cpu_start_s = time.process_time()
        if self.engine is not None:
            await self.engine.prepare()
        self.t0 = time.perf_counter()
        machine = psutil.cpu_times()
        helpers = [asyncio.ensure_future(self._flush())]
        if on_progress is not None:
            helpers.append(asyncio.ensure_future(self._tick(on_progress)))
        if self.engine is not None:
            self.engine.start()
        elif self.config.rate is None:
            for _ in range(min(self.config.concurrency, self.limit)):
                self._spawn_worker(self._closed_worker)
        else:
            self._spawn(self._schedule(self.config.rate))
            # The pool's floor is there from the start, parked: grown at START_PER_TICK a tick
            # from none, a pool fell ~15 ms behind a fast schedule in its first milliseconds, and
            # at 90% of the generator's capacity took most of the run to catch up.
            for _ in range(min(POOL_FLOOR, self.config.concurrency, self.limit)):
                self._spawn_worker(self._open_worker)
        if self.engine is None:
            helpers.append(asyncio.ensure_future(self._watch()))
        try:
            await self._wait_for_end()
        finally:
            for helper in helpers:
                helper.cancel()
        ended = time.perf_counter()
        self._flush_rows()
        if self.csv is not None:
            self.csv.close()  # here, so that a failure to flush it is in the result
        self._mark_interval()
        busy = machine_busy(machine, psutil.cpu_times())
        return self._result(ended - self.t0, time.process_time() - cpu_start_s, busy)

    async def _wait_for_end(self) -> None:
        """Wait for the count, the duration or a stop; drain, then cancel what is left."""
        duration_s = self.config.duration_s
        deadline = None if duration_s is None else self.t0 + duration_s
        # A loop, not one wait: uvloop's timers have millisecond granularity and may fire a
        # little before the deadline, and a run must last the whole duration it was given.
        while not self.halt.is_set():
            remaining_s = None if deadline is None else deadline - time.perf_counter()
            if remaining_s is not None and remaining_s <= 0:
                break
            with suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.halt.wait(), remaining_s)
        self.window_end = self.window_end or time.perf_counter()
        self.stopping = True
        if self.engine is not None:
            if not self.interrupted:
                await self.engine.drain(self.config.drain_s)
            await self.engine.close()
            return
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
        """Move recorded values into the histograms in small batches, and note each interval's
        responses and latency as it goes.

        Small batches, often: a flush holds the loop, and at 20,000 requests/s a quarter
        second's values took long enough (over LATE_START_MS) to make the open model's next
        requests start late. A batch of FLUSH_BATCH values holds it well under a millisecond.
        """
        recorders = (self.latency, self.uncorrected, self.start_lag)
        next_mark = self.t0 + FLUSH_INTERVAL_S
        while True:
            await asyncio.sleep(FLUSH_CHECK_S)
            for recorder in recorders:
                if len(recorder.values) >= FLUSH_BATCH:
                    recorder.absorb()
            if time.perf_counter() >= next_mark:
                next_mark += FLUSH_INTERVAL_S
                self._mark_interval()

    def _mark_interval(self) -> None:
        """Add the responses and latency total since the last mark to the series."""
        recorder = self.uncorrected
        recorder.absorb()
        count, total_us = self._marked
        responses, latency_us = recorder.count - count, recorder.total_us - total_us
        self.series.append((responses, latency_us))
        if responses:
            self.starts.note_service(latency_us / responses / 1e6)
        self._marked = (recorder.count, recorder.total_us)

    async def _closed_worker(self, slot: _Slot) -> None:
        """Send the next request as soon as the last one answered."""
        urls, n = self.urls, len(self.urls)
        while not self.stopping and self.taken < self.limit:
            index = self.taken
            self.taken += 1
            if self.taken == self.limit:
                self.window_end = time.perf_counter()
            await self._one(slot, index, urls[index % n], None)

    async def _schedule(self, rate: float) -> None:
        """Release request i at t0 + i/rate, starting workers when none is free."""
        limit, t0 = self.limit, self.t0
        window = (t0, time.process_time())
        while not self.stopping and self.released < limit:
            window = self.note_busy(window)
            self.release_due(rate)
            if self.released > self.taken:
                self._dispatch()
            # Never less than a tick: shorter sleeps would spin the loop at high rates. A
            # backlog left waiting for a worker is looked at again after a tick.
            next_due = t0 + self.released / rate
            if self.released > self.taken:
                next_due = min(next_due, t0 + self.taken / rate + self.starts.grace_s)
            await asyncio.sleep(max(SCHEDULE_TICK_S, next_due - time.perf_counter()))
        self._wake_all()

    def note_busy(self, window: tuple[float, float]) -> tuple[float, float]:
        """Note whether the generator used over BUSY_SHARE of a core since `window` (its start
        on the clock and in CPU time) began, once it is BUSY_WINDOW_S long; the window to
        measure from next. While it is `busy`, `_dispatch` starts no worker.

        More connections cannot help a generator with no CPU to send on, and each costs it
        some. Little's law at the quickest interval does not see this when the generator is
        short of CPU from its first interval on: every interval's latency then includes its own
        queue. Asked for 145,000/s against nginx, the pool grew to 157 connections and the
        generator sent ~117,000/s; held at 64 it sent ~121,000/s.
        """
        now = time.perf_counter()
        if now - window[0] < BUSY_WINDOW_S:
            return window
        cpu_s = time.process_time()
        self.busy = cpu_s - window[1] > BUSY_SHARE * (now - window[0])
        return now, cpu_s

    def release_due(self, rate: float) -> None:
        """Release every request due by now."""
        due_now = min(self.limit, math.floor((time.perf_counter() - self.t0) * rate) + 1)
        if due_now > self.released:
            self.released = due_now

    def _wake_all(self) -> None:
        """Let every parked worker look again: the schedule is over or the run is stopping."""
        for waiter in self.idle:
            if not waiter.done():
                waiter.set_result(None)
        self.idle.clear()

    def _dispatch(self) -> None:
        """Wake idle workers for the released requests, and start new ones up to the cap as
        `starts` allows."""
        backlog = self.released - self.taken
        while backlog > 0 and self.idle:
            waiter = self.idle.pop()
            if not waiter.done():
                waiter.set_result(None)
                backlog -= 1
        cap = self.config.concurrency + 1  # the scheduler itself is in `workers`
        wanted = min(backlog, cap - len(self.workers))
        if wanted > 0 and not self.busy:
            oldest_due = self.t0 + (self.released - backlog) / (self.config.rate or 1.0)
            running = len(self.workers) - 1
            for _ in range(self.starts.allowed(wanted, oldest_due, time.perf_counter(), running)):
                self._spawn_worker(self._open_worker)

    async def _open_worker(self, slot: _Slot) -> None:
        """Take released requests in order; park when there is none.

        A worker that finds nothing released looks at the clock first and releases what is due
        itself: at high rates the next request is usually due by the time the last one
        answered, and a worker that need not park and be woken by the scheduler saves a future,
        a wake-up and a task switch per request (about half the open model's own CPU).
        """
        urls, n, t0 = self.urls, len(self.urls), self.t0
        rate = self.config.rate or 1.0
        loop = asyncio.get_running_loop()
        while not self.stopping:
            if self.taken >= self.released:
                self.release_due(rate)
                if self.released - self.taken > 1:
                    self._dispatch()  # more than this worker's share is due: the others too
            if self.taken < self.released:
                index = self.taken
                self.taken += 1
                if self.taken == self.limit:
                    self.window_end = time.perf_counter()
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
        self.in_flight += 1
        if self.in_flight > self.peak_in_flight:
            self.peak_in_flight = self.in_flight
        try:
            status, nbytes = await self.send(url)
        except asyncio.CancelledError:
            if not slot.expired:
                raise
            uncancel(asyncio.current_task())  # the watchdog's cancel
            slot.expired = False
            self.record_error(index, url, due, sent, TimeoutError("request timed out"))
            return
        except Exception as exc:  # a failed request is data
            self.record_error(index, url, due, sent, exc)
            return
        finally:
            slot.sent = 0.0
            self.in_flight -= 1
        self.record_answer(index, url, due, sent, status, nbytes)

    def record_answer(
        self, index: int, url: Any, due: float | None, sent: float, status: int, nbytes: int
    ) -> None:
        """Record an answer that ends now; in the open model also how late its start was, and
        the latency from its due time (the start's lag plus the service time)."""
        ended = time.perf_counter()
        self.completed += 1
        self.status[status] += 1
        self.nbytes += nbytes
        service_us = int((ended - sent) * 1e6)
        self.uncorrected.values.append(service_us)
        if due is not None:
            lag_us = int((sent - due) * 1e6)  # never negative: a request is taken once due
            self.start_lag.values.append(lag_us)
            self.latency.values.append(lag_us + service_us)
            if lag_us > _LATE_START_US:
                self.late_starts += 1
        if self.csv is not None:
            error = "http_status" if status >= 400 else ""  # an answer, and an error as counted
            self._row(index, url, due, sent, ended, status, nbytes, error)

    def record_error(
        self, index: int, url: Any, due: float | None, sent: float, exc: BaseException
    ) -> None:
        kind = classify(exc).value
        self.completed += 1
        self.errors[kind] = self.errors.get(kind, 0) + 1
        if due is not None and (sent - due) * 1e6 > _LATE_START_US:
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
            if self.csv.failure is not None and not self.halt.is_set():
                self.stop()  # the rows cannot be kept: end the run, whose figures are whole

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

    def _result(self, elapsed_s: float, cpu_s: float, busy: float | None) -> GeneratorResult:
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
            sent=self.taken,
            sending_s=(self.window_end or self.t0 + elapsed_s) - self.t0,
            cpu_s=cpu_s,
            peak_in_flight=self.peak_in_flight,
            series=tuple(self.series),
            loop_name=type(asyncio.get_running_loop()).__module__.partition(".")[0],
            pool=0 if closed else min(self.starts.pool, self.config.concurrency),
            csv_failure=None if self.csv is None else self.csv.failure,
            machine_busy=busy,
        )


def machine_busy(before: Any, after: Any) -> float | None:
    """The share of the machine's CPU time between two `psutil.cpu_times()` that was not idle;
    None when they are too close to tell (the OS counts in 10 ms ticks). Time stolen by a
    hypervisor counts as busy: another program had the core. It is the whole machine's, not a
    container's CPU quota."""

    def total(times: Any) -> float:  # guest time is counted in user time already
        return float(sum(getattr(times, n) for n in times._fields if not n.startswith("guest")))

    def idle(times: Any) -> float:
        return float(times.idle + getattr(times, "iowait", 0.0))

    elapsed = total(after) - total(before)
    if elapsed < MACHINE_WINDOW_S:
        return None
    return min(1.0, max(0.0, 1.0 - (idle(after) - idle(before)) / elapsed))


def _request_limit(config: LoadConfig) -> int:
    """How many requests this generator may send: the count, or all due within the duration."""
    limit = config.requests if config.requests is not None else 2**62
    if config.rate is not None and config.duration_s is not None:
        limit = min(limit, math.ceil(config.duration_s * config.rate))
    return limit


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f}"
