"""asyncio with httpx.AsyncClients and a fixed number of worker tasks.

The same shape as the aiohttp strategy, with two differences. httpx's pool defaults to 100
connections with 20 kept alive, which would throttle higher concurrency and reconnect
constantly, so every connection is kept alive. And httpcore scans its whole pool, once per
connection, each time a request starts or ends, so the cost per request grows with the square
of the pool (measured here at 0 ms latency, 64 tasks: one client of 64 connections served 250
requests/s, eight clients of 8 served 1,450/s; on another day, against nginx, clients of 8
served 589/s, of 4 1,000/s, of 1 1,149/s). The tasks therefore share several small clients;
their connections still add up to the concurrency. Four connections a client keep most of the
gain while a client can still hold connections to a few hosts at once (with one, a batch
alternating between two hosts would reconnect on every request). httpx has no total timeout
of its own; asyncio's timeout provides it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import sys
from collections.abc import Collection, Iterator

import httpx

from fetcher.config import FetchConfig
from fetcher.loop import run_loop
from fetcher.models import FetchResult, OnResult
from fetcher.policy import retry
from fetcher.policy.classify import BodyTooLargeError
from fetcher.policy.limits import AsyncThrottle
from fetcher.policy.tls import client_context
from fetcher.strategies import cpu
from fetcher.strategies.base import Job, clock

if sys.version_info >= (3, 11):
    from asyncio import timeout as total_timeout
else:  # aiohttp depends on async-timeout before 3.11
    from async_timeout import timeout as total_timeout

# Small enough that httpcore's pool scans stay cheap, large enough to keep clients few.
CONNECTIONS_PER_CLIENT = 4


def run(
    urls: Collection[str], config: FetchConfig, on_result: OnResult, t0: float | None = None
) -> None:
    """Fetch on a new event loop; see `run_async`."""
    run_loop(run_async(urls, config, on_result, t0))


async def run_async(
    urls: Collection[str], config: FetchConfig, on_result: OnResult, t0: float | None = None
) -> None:
    """Fetch every URL with `config.concurrency` tasks sharing a few small clients."""
    t0 = clock() if t0 is None else t0
    work = iter(enumerate(urls))
    # httpx has no per-host connection limit, so the throttle holds per-host slots as well.
    throttle = AsyncThrottle(config.limits)
    tasks = min(config.concurrency, len(urls))
    count = -(-tasks // CONNECTIONS_PER_CLIENT)
    async with contextlib.AsyncExitStack() as stack:
        # Task `slot` uses client `slot % count`, so no client has more tasks than connections.
        per_client = -(-tasks // count) if tasks else 1
        tls = client_context(config.tls)  # the clients of a run share it: each costs ~20 ms
        clients = [
            await stack.enter_async_context(open_client(config, per_client, tls))
            for _ in range(count)
        ]
        # If this is cancelled (Ctrl-C), gather cancels every worker and the clients close.
        await asyncio.gather(
            *(
                _worker(
                    clients[slot % count], work, config, throttle, on_result, t0, f"task-{slot}"
                )
                for slot in range(tasks)
            )
        )


def open_client(
    config: FetchConfig, connections: int | None = None, tls: ssl.SSLContext | None = None
) -> httpx.AsyncClient:
    """A client that keeps all its `connections` (default: the concurrency) alive."""
    timeouts = config.timeouts
    connections = connections or config.concurrency
    kept = connections if config.keepalive else 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=kept)
    timeout = httpx.Timeout(
        connect=timeouts.connect_s,
        read=timeouts.read_s,
        write=timeouts.read_s,
        pool=timeouts.total_s,
    )
    return httpx.AsyncClient(
        limits=limits,
        timeout=timeout,
        follow_redirects=True,
        max_redirects=config.max_redirects,
        trust_env=False,
        verify=tls or client_context(config.tls),
    )


async def _worker(
    client: httpx.AsyncClient,
    work: Iterator[tuple[int, str]],
    config: FetchConfig,
    throttle: AsyncThrottle,
    on_result: OnResult,
    t0: float,
    name: str,
) -> None:
    """Take the next URL until none are left."""
    for index, url in work:
        on_result(await fetch_one(client, Job(index, url, name, t0), config, throttle))


async def fetch_one(
    client: httpx.AsyncClient, job: Job, config: FetchConfig, throttle: AsyncThrottle
) -> FetchResult:
    """GET one URL, retried as the policy says; a failure is a result, never raised."""
    try:
        status, body = await retry.acall(
            config.retries, lambda: get(client, job.url, config, throttle), job
        )
    except retry.RetryableStatus as answer:  # still "later" on the last try: a result like any
        return job.answered(answer.status, answer.nbytes)
    except (
        httpx.HTTPError,
        httpx.InvalidURL,
        asyncio.TimeoutError,
        BodyTooLargeError,
        OSError,
    ) as exc:
        return job.failed(exc)
    cpu.work(body, config.cpu_ms)
    return job.answered(status, len(body), body if config.keep_body else None)


async def get(
    client: httpx.AsyncClient, url: str, config: FetchConfig, throttle: AsyncThrottle
) -> tuple[int, bytes]:
    """One attempt: (status, body), or RetryableStatus for an answer the policy retries."""
    async with (
        throttle.slot(url),
        total_timeout(config.timeouts.total_s),
        client.stream("GET", url) as response,
    ):
        body = await read_body(response, config.max_body_bytes)
    retry.check_status(config.retries, response.status_code, len(body), response.headers)
    return response.status_code, body


async def read_body(response: httpx.Response, limit: int) -> bytes:
    """The body, refused as soon as it is known to be over `limit` bytes."""
    declared = response.headers.get("Content-Length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLargeError(limit)
    # A compressed body's Content-Length says nothing of its size once decoded (a gzip bomb).
    if declared is not None and declared.isdigit() and "Content-Encoding" not in response.headers:
        return await response.aread()
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise BodyTooLargeError(limit)
        chunks.append(chunk)
    return b"".join(chunks)
