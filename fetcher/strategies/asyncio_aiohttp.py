"""asyncio with one aiohttp.ClientSession and a fixed number of worker tasks.

One thread, one event loop: while a request waits for its response, the loop runs the others,
so C tasks keep C requests in flight with no thread per request. The connector's limit is set to
the concurrency: aiohttp's default of 100 connections would silently cap anything above it.
C long-lived tasks pulling from one iterator, rather than a task per URL behind a semaphore,
keep memory flat however long the batch is and cost less CPU per request.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator, Sequence

import aiohttp

from fetcher.config import FetchConfig
from fetcher.models import FetchResult, OnResult
from fetcher.policy import retry
from fetcher.policy.classify import BodyTooLargeError
from fetcher.policy.limits import AsyncThrottle
from fetcher.policy.tls import client_context
from fetcher.strategies import cpu
from fetcher.strategies.base import Job, clock, run_loop

CHUNK_BYTES = 64 * 1024


def run(
    urls: Sequence[str], config: FetchConfig, on_result: OnResult, t0: float | None = None
) -> None:
    """Fetch on a new event loop; see `run_async`."""
    run_loop(run_async(urls, config, on_result, t0))


async def run_async(
    urls: Sequence[str], config: FetchConfig, on_result: OnResult, t0: float | None = None
) -> None:
    """Fetch every URL with `config.concurrency` tasks sharing one session."""
    t0 = clock() if t0 is None else t0
    work = iter(enumerate(urls))
    throttle = AsyncThrottle(config.limits, hosts=False)  # the connector limits hosts itself
    async with open_session(config) as session:
        tasks = min(config.concurrency, len(urls))
        # If this is cancelled (Ctrl-C), gather cancels every worker and the session closes.
        await asyncio.gather(
            *(
                _worker(session, work, config, throttle, on_result, t0, f"task-{slot}")
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
    timeout = aiohttp.ClientTimeout(
        total=timeouts.total_s, sock_connect=timeouts.connect_s, sock_read=timeouts.read_s
    )
    session = aiohttp.ClientSession(connector=connector, timeout=timeout)
    # aiohttp quietly sends a GET again when a kept-alive connection drops; our retry policy
    # must be the only one, so that `attempts` counts what the server saw. Private API (there is
    # no public switch); tests/test_private_api.py fails by name if aiohttp drops it.
    session._retry_connection = False
    return session


async def _worker(
    session: aiohttp.ClientSession,
    work: Iterator[tuple[int, str]],
    config: FetchConfig,
    throttle: AsyncThrottle,
    on_result: OnResult,
    t0: float,
    name: str,
) -> None:
    """Take the next URL until none are left; `next()` never awaits, so tasks cannot collide."""
    for index, url in work:
        on_result(await fetch_one(session, Job(index, url, name, t0), config, throttle))


async def fetch_one(
    session: aiohttp.ClientSession, job: Job, config: FetchConfig, throttle: AsyncThrottle
) -> FetchResult:
    """GET one URL, retried as the policy says; a failure is a result, never raised."""
    try:
        if config.retries.attempts == 1:  # no retries: no closure, no policy call per request
            job.attempts = 1
            status, body = await get(session, job.url, config, throttle)
        else:
            status, body = await retry.acall(
                config.retries, lambda: get(session, job.url, config, throttle), job
            )
    except retry.RetryableStatus as answer:  # still "later" on the last try: a result like any
        return job.answered(answer.status, answer.nbytes)
    except (aiohttp.ClientError, asyncio.TimeoutError, BodyTooLargeError, OSError) as exc:
        return job.failed(exc)
    cpu.work(body, config.cpu_ms)
    return job.answered(status, len(body), body if config.keep_body else None)


async def get(
    session: aiohttp.ClientSession, url: str, config: FetchConfig, throttle: AsyncThrottle
) -> tuple[int, bytes]:
    """One attempt: (status, body), or RetryableStatus for an answer the policy retries."""
    async with (
        throttle.slot(url),
        session.get(url, max_redirects=config.max_redirects) as response,
    ):
        body = await read_body(response, config.max_body_bytes)
    retry_after = response.headers.get("Retry-After")
    retry.check_status(config.retries, response.status, len(body), retry_after)
    return response.status, body


async def read_body(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The body, refused as soon as it is known to be over `limit` bytes."""
    declared = response.content_length
    if declared is not None and declared > limit:
        raise BodyTooLargeError(limit)
    # A compressed body's Content-Length says nothing of its size once decoded (a gzip bomb).
    if declared is not None and "Content-Encoding" not in response.headers:
        return await response.read()
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(CHUNK_BYTES):
        size += len(chunk)
        if size > limit:
            raise BodyTooLargeError(limit)
        chunks.append(chunk)
    return b"".join(chunks)
