"""asyncio with one aiohttp.ClientSession and a fixed number of worker tasks.

One thread, one event loop: while a request waits for its response, the loop runs the others,
so C tasks keep C requests in flight with no thread per request. The connector's limit is set to
the concurrency: aiohttp's default of 100 connections would silently cap anything above it.
C long-lived tasks pulling from one iterator, rather than a task per URL behind a semaphore,
keep memory flat however long the batch is and cost less CPU per request.
"""

from __future__ import annotations

import asyncio
import math
import ssl
import time
from collections.abc import AsyncIterator, Collection, Iterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from fetcher.config import FetchConfig
from fetcher.loop import run_loop, uncancel
from fetcher.models import FetchResult, OnResult
from fetcher.policy import retry
from fetcher.policy.classify import BodyTooLargeError
from fetcher.policy.limits import AsyncThrottle
from fetcher.policy.tls import client_context
from fetcher.strategies import cpu
from fetcher.strategies.base import Job, clock

CHUNK_BYTES = 64 * 1024


class Deadlines:
    """Every attempt's time limits, kept by one watchdog task rather than timers of its own.

    aiohttp's `total` timeout arms a timer per request, and its `sock_read` re-arms one on every
    read; measured against a loop without them, they were the largest costs of the production
    loop over a hand-written one. Here an attempt notes its two deadlines in a dict (`start`):
    the total limit, and the read limit, from its start (connecting included) to its headers,
    then between two chunks of a body still arriving (`renew`). A watchdog waking every
    twentieth of the shorter limit cancels the tasks past either; `get` turns that cancel into
    the timeout error aiohttp would have raised. Each limit is kept to within a twentieth of
    the shorter one.

    aiohttp counts its read limit once the attempt has a connection, and again for each
    redirect; this one counts from the attempt's start to the last response's headers. On a
    kept-alive connection (nearly every request of a batch) they agree; a new connection's
    connect (DNS, TCP, TLS, each also under the connect limit) and any redirects come out of
    the same read_s. Waiting in a queue must not, so with a rate or per-host limit
    (`watches_reads`) the read limit is left to aiohttp.
    """

    def __init__(self, total_s: float, read_s: float = math.inf) -> None:
        self.total_s = total_s
        self.read_s = read_s
        # task -> [total deadline, read deadline]
        self.due: dict[asyncio.Task[Any], list[float]] = {}
        # task -> the limit it was cancelled for: "total" or "read"
        self.cancelled: dict[asyncio.Task[Any], str] = {}

    @asynccontextmanager
    async def watching(self) -> AsyncIterator[None]:
        """The watchdog, running for the block."""
        watchdog = asyncio.ensure_future(self._watch())
        try:
            yield
        finally:
            watchdog.cancel()

    async def _watch(self) -> None:
        tick_s = min(1.0, max(0.01, min(self.total_s, self.read_s) / 20))
        while True:
            await asyncio.sleep(tick_s)
            now = clock()
            for task, (total_due, read_due) in list(self.due.items()):
                if min(total_due, read_due) <= now and task not in self.cancelled:
                    self.cancelled[task] = "total" if total_due <= now else "read"
                    task.cancel()

    def start(self, task: asyncio.Task[Any]) -> None:
        """Note the deadlines of `task`'s attempt, starting now."""
        now = clock()
        self.due[task] = [now + self.total_s, now + self.read_s]

    def renew(self, task: asyncio.Task[Any]) -> None:
        """Data arrived: the read limit counts again from now."""
        self.due[task][1] = clock() + self.read_s

    def end(self, task: asyncio.Task[Any]) -> None:
        """The attempt is over, answered or not. A cancel of the watchdog's that did not end
        it (a library swallowed it) is undone: left noted, the task would never be timed out
        again."""
        del self.due[task]
        if self.cancelled.pop(task, None) is not None:
            uncancel(task)

    def expired(self, task: asyncio.Task[Any]) -> BaseException | None:
        """The timeout error, the cancel undone, when the watchdog cancelled `task` and nothing
        else did; None otherwise."""
        limit = self.cancelled.pop(task, None)
        if limit is None:
            return None
        if uncancel(task) > 0:
            return None  # cancelled by someone else as well (Ctrl-C): that cancel stands
        if limit == "read":
            return aiohttp.SocketTimeoutError(f"no data for {self.read_s:g} s")
        return asyncio.TimeoutError(f"no answer within {self.total_s:g} s")


def watches_reads(config: FetchConfig) -> bool:
    """True when the Deadlines watchdog keeps the read limit: no limit queues requests."""
    return config.limits.rate_per_s is None and config.limits.per_host is None


# What every attempt needs besides its session: the settings, the limits, the deadlines.
Policy = tuple[FetchConfig, AsyncThrottle, Deadlines]


def run(
    urls: Collection[str], config: FetchConfig, on_result: OnResult, t0: float | None = None
) -> None:
    """Fetch on a new event loop; see `run_async`."""
    run_loop(run_async(urls, config, on_result, t0))


async def run_async(
    urls: Collection[str], config: FetchConfig, on_result: OnResult, t0: float | None = None
) -> None:
    """Fetch every URL with `config.concurrency` tasks sharing one session."""
    t0 = clock() if t0 is None else t0
    work = iter(enumerate(urls))
    throttle = AsyncThrottle(config.limits, hosts=False)  # the connector limits hosts itself
    timeouts = config.timeouts
    deadlines = Deadlines(timeouts.total_s, timeouts.read_s if watches_reads(config) else math.inf)
    async with open_session(config) as session, deadlines.watching():
        tasks = min(config.concurrency, len(urls))
        # If this is cancelled (Ctrl-C), gather cancels every worker and the session closes.
        await asyncio.gather(
            *(
                _worker(session, work, (config, throttle, deadlines), on_result, t0, f"task-{slot}")
                for slot in range(tasks)
            )
        )


def open_session(config: FetchConfig, tls: ssl.SSLContext | None = None) -> aiohttp.ClientSession:
    """A session whose connection pool is as large as the concurrency, with every timeout set."""
    timeouts = config.timeouts
    connector = aiohttp.TCPConnector(
        limit=config.concurrency,
        limit_per_host=config.limits.per_host or 0,
        ssl=tls or client_context(config.tls),
        force_close=not config.keepalive,
    )
    # The total limit, and the read limit when nothing queues, are the Deadlines watchdog's
    # (see `get`): one task for all, not timers for each request.
    read_s = None if watches_reads(config) else timeouts.read_s
    timeout = aiohttp.ClientTimeout(sock_connect=timeouts.connect_s, sock_read=read_s)
    session = aiohttp.ClientSession(connector=connector, timeout=timeout)
    # aiohttp quietly sends a GET again when a kept-alive connection drops; our retry policy
    # must be the only one, so that `attempts` counts what the server saw. Private API (there is
    # no public switch); tests/test_private_api.py fails by name if aiohttp drops it.
    session._retry_connection = False
    return session


async def _worker(
    session: aiohttp.ClientSession,
    work: Iterator[tuple[int, str]],
    policy: Policy,
    on_result: OnResult,
    t0: float,
    name: str,
) -> None:
    """Take the next URL until none are left; `next()` never awaits, so tasks cannot collide."""
    task = asyncio.current_task()  # looked up once: the watchdog cancels this task
    assert task is not None
    for index, url in work:
        on_result(await fetch_one(session, Job(index, url, name, t0), policy, task))


async def fetch_one(
    session: aiohttp.ClientSession, job: Job, policy: Policy, task: asyncio.Task[Any]
) -> FetchResult:
    """GET one URL in `task`, retried as the policy says; a failure is a result, never raised."""
    config = policy[0]
    started = time.monotonic()
    job.attempts = 1
    try:
        # The first try is awaited here, not through retry.acall: a frame less to resume the
        # request through at each of its waits (1% of a fetch at 0 ms). The policy, stamina
        # and the closure come in only once it failed.
        status, body = await get(session, job.url, policy, task)
    except Exception as first:
        try:
            status, body = await retry.acall_again(
                config.retries, lambda: get(session, job.url, policy, task), job, first, started
            )
        except retry.RetryableStatus as answer:  # still "later" on the last try: a result
            return job.answered(answer.status, answer.nbytes)
        except (aiohttp.ClientError, asyncio.TimeoutError, BodyTooLargeError, OSError) as exc:
            return job.failed(exc)
    cpu.work(body, config.cpu_ms)
    return job.answered(status, len(body), body if config.keep_body else None)


async def get(
    session: aiohttp.ClientSession, url: str, policy: Policy, task: asyncio.Task[Any]
) -> tuple[int, bytes]:
    """One attempt, in `task`: (status, body), or RetryableStatus for an answer the policy
    retries."""
    config, throttle, deadlines = policy
    deadlines.start(task)
    try:
        async with throttle.slot(url):
            # Awaited and released, not `async with session.get(...)`: its __aenter__ is one
            # more frame to resume the request through at each of its waits (1.6% of a loop
            # at 0 ms). release() returns the connection to the pool, or closes it when the
            # body was not read to its end (refused as too large, timed out).
            response = await session.get(url, max_redirects=config.max_redirects)
            try:
                body = await read_body(response, config.max_body_bytes, deadlines, task)
            finally:
                response.release()
    except asyncio.CancelledError:
        timeout = deadlines.expired(task)
        if timeout is not None:
            raise timeout from None
        raise
    finally:
        deadlines.end(task)
    retry.check_status(config.retries, response.status, len(body), response.headers)
    return response.status, body


async def read_body(
    response: aiohttp.ClientResponse, limit: int, deadlines: Deadlines, task: asyncio.Task[Any]
) -> bytes:
    """The body, refused as soon as it is known to be over `limit` bytes."""
    # All of it came with the headers, uncompressed: nothing to wait for, its size known. Taken
    # from the buffer as it is: `response.read()` would await three coroutines to collect what
    # is already here (7% of a fetch at 0 ms).
    if response.content.is_eof() and "Content-Encoding" not in response.headers:
        body = response.content.read_nowait()
        if len(body) > limit:
            raise BodyTooLargeError(limit)
        return body
    declared = response.content_length
    if declared is not None and declared > limit:
        raise BodyTooLargeError(limit)
    # A compressed body's Content-Length says nothing of its size once decoded (a gzip bomb).
    chunks: list[bytes] = []
    size = 0
    deadlines.renew(task)
    async for chunk in response.content.iter_chunked(CHUNK_BYTES):
        deadlines.renew(task)
        size += len(chunk)
        if size > limit:
            raise BodyTooLargeError(limit)
        chunks.append(chunk)
    return b"".join(chunks)
