"""asyncio with one aiohttp.ClientSession and a fixed number of worker tasks.

One thread, one event loop: while a request waits for its response, the loop runs the others,
so C tasks keep C requests in flight with no thread per request. The connector's limit is set to
the concurrency: aiohttp's default of 100 connections would silently cap anything above it.
C long-lived tasks pulling from one iterator, rather than a task per URL behind a semaphore,
keep memory flat however long the batch is and cost less CPU per request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence

import aiohttp

from fetcher import cpu
from fetcher.classify import BodyTooLargeError
from fetcher.config import FetchConfig
from fetcher.models import FetchResult
from fetcher.strategies.base import OnResult, clock, failed, succeeded

NAME = "asyncio-aiohttp"
CHUNK_BYTES = 64 * 1024


def run(
    urls: Sequence[str], config: FetchConfig, on_result: OnResult, t0: float | None = None
) -> None:
    """Fetch on a new event loop; see `run_async`."""
    asyncio.run(run_async(urls, config, on_result, t0))


async def run_async(
    urls: Sequence[str], config: FetchConfig, on_result: OnResult, t0: float | None = None
) -> None:
    """Fetch every URL with `config.concurrency` tasks sharing one session."""
    t0 = clock() if t0 is None else t0
    work = iter(enumerate(urls))
    async with open_session(config) as session:
        tasks = min(config.concurrency, len(urls))
        await asyncio.gather(
            *(
                _worker(session, work, config, on_result, t0, f"task-{slot}")
                for slot in range(tasks)
            )
        )


def open_session(config: FetchConfig) -> aiohttp.ClientSession:
    """A session whose connection pool is as large as the concurrency, with every timeout set."""
    timeouts = config.timeouts
    connector = aiohttp.TCPConnector(limit=config.concurrency, limit_per_host=0)
    timeout = aiohttp.ClientTimeout(
        total=timeouts.total_s, sock_connect=timeouts.connect_s, sock_read=timeouts.read_s
    )
    return aiohttp.ClientSession(connector=connector, timeout=timeout)


async def _worker(
    session: aiohttp.ClientSession,
    work: Iterator[tuple[int, str]],
    config: FetchConfig,
    on_result: OnResult,
    t0: float,
    name: str,
) -> None:
    """Take the next URL until none are left; `next()` never awaits, so tasks cannot collide."""
    for index, url in work:
        on_result(await fetch_one(session, index, url, config, t0, name))


async def fetch_one(
    session: aiohttp.ClientSession,
    index: int,
    url: str,
    config: FetchConfig,
    t0: float,
    worker: str,
) -> FetchResult:
    """GET one URL; a failure is returned as a result, never raised (cancellation excepted)."""
    started_s = clock() - t0
    try:
        async with session.get(url, max_redirects=config.max_redirects) as response:
            body = await read_body(response, config.max_body_bytes)
        cpu.work(body, config.cpu_ms)
        return succeeded(
            index,
            url,
            worker,
            started_s,
            response.status,
            len(body),
            t0,
            body if config.keep_body else None,
        )
    except (aiohttp.ClientError, asyncio.TimeoutError, BodyTooLargeError, OSError) as exc:
        return failed(index, url, worker, started_s, exc, t0)


async def read_body(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The body, refused as soon as it is known to be over `limit` bytes."""
    declared = response.content_length
    if declared is not None:
        if declared > limit:
            raise BodyTooLargeError(limit)
        return await response.read()
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(CHUNK_BYTES):
        size += len(chunk)
        if size > limit:
            raise BodyTooLargeError(limit)
        chunks.append(chunk)
    return b"".join(chunks)
