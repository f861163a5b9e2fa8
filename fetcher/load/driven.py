"""The fast client to one origin, driven from its connections' callbacks: no task per request.

The generator's workers (`fetcher.load.generator`) are tasks that await a future per request,
which any client fits. For the fast client to one origin (scheme, host and port: what a load test
usually targets) this driver does without both, as wrk and hey drive their connections: when an
answer ends, the parser's callback records it and writes the connection's next request, and in
the open model the schedule writes each tick's released requests on the connections left idle.
Per request that saves a future, a task step and the frames between the parser and the
generator: ~10% of the closed model's CPU a request on nginx (7.4 us against 8.3).

The open model releases requests only on the schedule's tick (SCHEDULE_TICK_S, the event loop's
timer granularity), so each start lags its due time by up to a tick, as in wrk2, and the sends
of a tick go out together: the loop and the target then serve them in one wake-up, as at full
load, where a request sent the moment it fell due cost ~20% more CPU than at full load at 80% of
it, and held no rate above that. The start lag is measured and reported as before.

Connections are opened by a task each (a connect is rare), which takes its request first: a
failed connect is that request's result, and the next one due tries again. The open model
connects its pool's floor (POOL_FLOOR) before its schedule starts, and opens more as
`WorkerStarts` allows.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections import deque
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from fetcher.load.fast import MAX_OPENING, Connection, Target, TlsContext, closed_first, connect
from fetcher.load.generator import POOL_FLOOR, SCHEDULE_TICK_S, START_GRACE_S, WorkerStarts

if TYPE_CHECKING:
    from fetcher.load.generator import Generator

# The open model's pool floor is connected before its schedule starts, for at most this long.
PRECONNECT_S = 1.0


def drivable(targets: list[Any]) -> bool:
    """Whether a run's prepared URLs suit the driver: fast-client targets, one origin."""
    return all(isinstance(t, Target) for t in targets) and len({t.origin for t in targets}) == 1


class _Request:
    """A request written on a connection, in its queue as a future would be: the connection
    calls `set_result` or `set_exception` on it, once."""

    __slots__ = ("conn", "driver", "due", "index", "sent")

    def __init__(
        self, driver: Driver, conn: Connection, index: int, due: float | None, sent: float
    ):
        self.driver = driver
        self.conn = conn
        self.index = index
        self.due = due
        self.sent = sent

    def done(self) -> bool:
        return False

    def set_result(self, result: tuple[int, int]) -> None:
        self.driver.answered(self, result[0], result[1])

    def set_exception(self, exc: BaseException) -> None:
        self.driver.failed(self, exc)


class Driver:
    """Runs a generator's requests on fast-client connections to one origin."""

    def __init__(self, generator: Generator, connections: int, pipeline: int, tls: TlsContext):
        self.g = generator
        self.targets: list[Target] = generator.urls
        self.origin = self.targets[0]
        self.cap = connections
        self.pipeline = pipeline
        # -c caps requests in flight, as the workers do, when `pipeline` does not divide it.
        self.max_in_flight = generator.config.concurrency
        self.tls = functools.cache(tls)
        self.rate = generator.config.rate
        self.live: set[Connection] = set()
        # Open-model connections with room and nothing released for them, in the order they
        # came free (see _dispatch).
        self.idle: dict[Connection, None] = {}
        self.openers: set[asyncio.Task[None]] = set()
        # Connections the open model may open without WorkerStarts' leave: the pool's floor.
        self.vacant = 0
        self.opening = asyncio.Semaphore(MAX_OPENING)
        self.helpers: list[asyncio.Task[None]] = []
        self.settled = asyncio.Event()  # nothing in flight and nothing more to send
        self.closing = False  # the run is over: failures from here on are its own aborts
        self.error: Exception | None = None
        if self.rate is not None:
            # A request released on a tick is up to a tick overdue by design, not for want of
            # a connection.
            generator.starts = WorkerStarts(self.rate, grace_s=START_GRACE_S + SCHEDULE_TICK_S)

    # the generator's side

    async def prepare(self) -> None:
        """Open model: connect the pool's floor before the schedule's clock starts, as wrk
        connects before it sends. Opened by the first requests instead, the floor's connects
        held a schedule at 105,000/s ~4 ms behind through its first 25 ms (on nginx), enough to
        make half a percent of an 8 s run's starts late. A connect that fails or takes over
        PRECONNECT_S leaves its place to a request, which then connects (and fails) itself."""
        if self.rate is None:
            return
        count = min(POOL_FLOOR, self.cap, self.g.limit)
        connects = [asyncio.wait_for(self._create(), PRECONNECT_S) for _ in range(count)]
        for conn in await asyncio.gather(*connects, return_exceptions=True):
            if isinstance(conn, Connection) and not conn.closed:  # not lost meanwhile
                self.live.add(conn)
                self.idle[conn] = None
        self.vacant = count - len(self.live)

    def start(self) -> None:
        """Open the connections (closed model) or start the schedule (open model)."""
        self.helpers.append(asyncio.ensure_future(self._watch()))
        if self.rate is None:
            for _ in range(min(self.cap, self.g.limit)):
                index = self._take()
                if index is not None:
                    self._open(index)
        else:
            self.helpers.append(asyncio.ensure_future(self._schedule(self.rate)))

    async def drain(self, timeout_s: float) -> None:
        """Wait up to `timeout_s` for the requests in flight to end."""
        self._check_settled()
        with suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.settled.wait(), timeout_s)

    async def close(self) -> None:
        """Drop every connection and connect left: what is still in flight stays unfinished.
        Raises what failed in recording an answer, if anything did."""
        self.closing = True
        for task in (*self.helpers, *self.openers):
            task.cancel()
        await asyncio.gather(*self.helpers, *self.openers, return_exceptions=True)
        for conn in list(self.live):
            conn.abort()
        self.live.clear()
        if self.error is not None:
            raise self.error

    def _abandon(self, exc: Exception) -> None:
        """Recording failed inside a parser's callback (a bug: the CSV keeps its own write
        failures), where raising would pass for the server's bad answer: stop the run, and
        raise it from `close`, where it shows as what it is."""
        if self.error is None:
            self.error = exc
        self.g.stop(interrupted=True)

    # the connections' side

    def answered(self, request: _Request, status: int, nbytes: int) -> None:
        """An answer ended: record it, then give its connection the next request."""
        g = self.g
        g.in_flight -= 1
        target = self.targets[request.index % len(self.targets)]
        try:
            g.record_answer(request.index, target, request.due, request.sent, status, nbytes)
        except Exception as exc:  # ours, not the answer's: see _abandon
            self._abandon(exc)
            return
        conn = request.conn
        if not conn.closed:
            if self.rate is None or g.taken < g.released:
                self._fill(conn, 1)
            else:  # on time: it waits for the next tick (as `_fill` would leave it)
                self.idle[conn] = None
        if g.in_flight == 0:
            self._check_settled()

    def failed(self, request: _Request, exc: BaseException) -> None:
        """A request failed with its connection (reset, closed early, unparsable answer)."""
        g = self.g
        g.in_flight -= 1
        if not self.closing:
            self._record_error(request.index, request.due, request.sent, exc)
        if g.in_flight == 0:
            self._check_settled()

    def _record_error(self, index: int, due: float | None, sent: float, exc: BaseException) -> bool:
        """Record a failed request; False when recording it failed (see _abandon)."""
        target = self.targets[index % len(self.targets)]
        try:
            self.g.record_error(index, target, due, sent, exc)
        except Exception as error:  # ours, not the request's
            self._abandon(error)
            return False
        return True

    def forget(self, conn: Connection) -> None:
        """`conn` closed: its place is free for another (at once in the closed model)."""
        if conn not in self.live:
            return
        self.live.discard(conn)
        self.idle.pop(conn, None)
        if self.closing:
            return
        if self.rate is None:
            index = self._take()
            if index is not None:
                self._open(index)
        else:
            self.vacant += 1

    # sending

    def _take(self) -> int | None:
        """The next request to send, if there is one now: counted in flight from here.
        (`_send_on_idle` keeps the same books for a tick's requests at once.)"""
        g = self.g
        if g.stopping or g.taken >= (g.limit if self.rate is None else g.released):
            return None
        index = g.taken
        g.taken = index + 1
        if g.taken == g.limit:
            g.window_end = time.perf_counter()
        g.in_flight += 1
        if g.in_flight > g.peak_in_flight:
            g.peak_in_flight = g.in_flight
        return index

    def _due(self, index: int) -> float | None:
        return None if self.rate is None else self.g.t0 + index / self.rate

    def _fill(self, conn: Connection, count: int) -> None:
        """Write up to `count` requests on `conn`, as its room, the cap on requests in flight
        and what there is to send allow; in the open model a connection left with room waits
        in `idle` for the next tick."""
        g, targets, n, waiters = self.g, self.targets, len(self.targets), conn.waiters
        write = conn.transport.write  # type: ignore[union-attr]
        while count and len(waiters) < self.pipeline and g.in_flight < self.max_in_flight:
            index = self._take()
            if index is None:
                break
            waiters.append(_Request(self, conn, index, self._due(index), time.perf_counter()))
            write(targets[index % n].request)
            count -= 1
        if self.rate is not None and len(waiters) < self.pipeline:
            self.idle[conn] = None

    def _open(self, index: int) -> None:
        """Open a connection for request `index`, in a task of its own."""
        task = asyncio.ensure_future(self._connect(index))
        self.openers.add(task)
        task.add_done_callback(self._opened)

    def _opened(self, task: asyncio.Task[None]) -> None:
        self.openers.discard(task)
        self._check_settled()

    async def _connect(self, index: int | None) -> None:
        """Connect and send request `index` first; a failed connect is that request's result,
        and the next request due tries again."""
        g = self.g
        while index is not None:
            sent, due = time.perf_counter(), self._due(index)
            try:
                conn = await asyncio.wait_for(self._create(), g.config.timeout_s)
                if conn.closed:  # lost before it was ours: `forget` had no place to free
                    raise closed_first()
            except asyncio.TimeoutError:
                exc: Exception = TimeoutError("request timed out")
            except Exception as error:  # a failed connect is that request's result
                exc = error
            else:
                self.live.add(conn)
                conn.waiters.append(_Request(self, conn, index, due, sent))
                request = self.targets[index % len(self.targets)].request
                conn.transport.write(request)  # type: ignore[union-attr]
                self._fill(conn, self.pipeline)
                return
            g.in_flight -= 1
            if not self._record_error(index, due, sent, exc):
                return
            index = self._take()
        if self.rate is not None:
            self.vacant += 1

    async def _create(self) -> Connection:
        """A new connection to the origin (at most MAX_OPENING being opened at once)."""
        async with self.opening:
            return await connect(self, self.origin, self.tls)

    def _check_settled(self) -> None:
        """Note when nothing is in flight or connecting and nothing more will be sent; a run
        that sent its whole count is then over."""
        g = self.g
        if g.in_flight or self.openers:
            return
        done = g.taken >= g.limit
        if done or g.stopping:
            self.settled.set()
        if done:
            g.halt.set()

    # the open model's schedule, and the timeout

    async def _schedule(self, rate: float) -> None:
        """Each tick, release the requests due by then and write them on idle connections;
        open connections for the rest, up to the floor at once and past it as `starts`
        allows."""
        g = self.g
        limit, t0 = g.limit, g.t0
        window = (t0, time.process_time())
        while not g.stopping and g.taken < limit:  # on until the backlog is sent, too
            window = g.note_busy(window)
            g.release_due(rate)
            self._dispatch(rate)
            next_due = t0 + g.released / rate
            if g.released > g.taken:  # a backlog: look again once it may start a connection
                next_due = min(next_due, t0 + g.taken / rate + g.starts.grace_s)
            await asyncio.sleep(max(SCHEDULE_TICK_S, next_due - time.perf_counter()))

    def _dispatch(self, rate: float) -> None:
        """Write what is released on idle connections, a request each in turn; open
        connections for what is left.

        Without pipelining, the connection that came free last goes first (its socket is the
        warmest: 2-3% less CPU a request than in turn, at 105,000/s on nginx); pipelined, in
        turn, a connection that still has room going to the back, so a tick's requests spread
        over the connections instead of queueing on one."""
        g, idle = self.g, self.idle
        if self.pipeline == 1:  # `_send_on_idle` takes without `_take`, so it checks `stopping`
            if idle and g.taken < g.released and not g.stopping:
                self._send_on_idle(rate)
        else:
            while idle and g.taken < g.released and g.in_flight < self.max_in_flight:
                conn = next(iter(idle))
                del idle[conn]
                if not conn.closed:
                    self._fill(conn, 1)
        while self.vacant > 0 and g.taken < g.released:
            index = self._take()
            if index is None:
                break
            self.vacant -= 1
            self._open(index)
        backlog = g.released - g.taken
        if backlog <= 0 or g.busy:
            return
        held = len(self.live) + len(self.openers) + self.vacant
        wanted = min(-(-backlog // self.pipeline), self.cap - held)
        if wanted > 0:
            # `starts` counts requests in flight (Little's law): a connection carries pipeline.
            oldest_due, now = g.t0 + g.taken / rate, time.perf_counter()
            for _ in range(g.starts.allowed(wanted, oldest_due, now, held * self.pipeline)):
                index = self._take()
                if index is None:
                    break
                self._open(index)

    def _send_on_idle(self, rate: float) -> None:
        """Without pipelining: write released requests on idle connections, the one that came
        free last first. `_fill` a request at a time, inlined: this is the open model's every
        send when it keeps up."""
        g, idle, targets, n = self.g, self.idle, self.targets, len(self.targets)
        t0, perf_counter = g.t0, time.perf_counter
        first = index = g.taken
        end = index + min(g.released - index, self.max_in_flight - g.in_flight)
        while index < end and idle:
            conn = idle.popitem()[0]
            if conn.closed:
                continue
            conn.waiters.append(_Request(self, conn, index, t0 + index / rate, perf_counter()))
            conn.transport.write(targets[index % n].request)  # type: ignore[union-attr]
            index += 1
        g.taken = index
        if index == g.limit:
            g.window_end = perf_counter()
        g.in_flight += index - first
        if g.in_flight > g.peak_in_flight:
            g.peak_in_flight = g.in_flight

    async def _watch(self) -> None:
        """Fail requests older than the timeout and drop their connection (its state is
        unknown): the younger requests on it fail with it, as disconnected."""
        g = self.g
        timeout_s = g.config.timeout_s
        while True:
            await asyncio.sleep(min(1.0, max(0.05, timeout_s / 10)))
            cutoff = time.perf_counter() - timeout_s
            for conn in list(self.live):
                waiters: deque[Any] = conn.waiters  # every one a _Request
                if waiters and waiters[0].sent < cutoff:
                    conn.in_body = False  # the answer cut short does not end with the connection
                    while waiters and waiters[0].sent < cutoff:
                        waiters.popleft().set_exception(TimeoutError("request timed out"))
                    conn.abort()
