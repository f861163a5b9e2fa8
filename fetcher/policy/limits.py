"""Rate and per-host limits, shared by every worker of a run: sync and async twins side by side.

The rate limit spaces requests evenly (a bucket of one token, refilled every 1/rate seconds), so
a batch never bursts: aiolimiter for asyncio, `RateLimiter` with the same semantics for threads.
Processes cannot share a limiter cheaply, so each of P processes gets rate/P and its part of the
per-host connections (`share`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import (
    AbstractAsyncContextManager,
    AbstractContextManager,
    asynccontextmanager,
    contextmanager,
    nullcontext,
)
from urllib.parse import urlsplit

from aiolimiter import AsyncLimiter

from fetcher.config import FetchConfig, Limits

# With no limit set there is nothing to wait for; one shared context serves every request.
NO_LIMIT: nullcontext[None] = nullcontext()


def share(config: FetchConfig, parts: int, index: int = 0) -> FetchConfig:
    """The config for process `index` of `parts`: its part of the rate and per-host limits.

    The rate is split evenly, the per-host connections as evenly as whole numbers allow. A
    per-host limit below `parts` cannot be kept by processes that share nothing: each keeps one.
    """
    limits = config.limits
    if parts <= 1 or (limits.rate_per_s is None and limits.per_host is None):
        return config
    rate = None if limits.rate_per_s is None else limits.rate_per_s / parts
    per_host = limits.per_host
    if per_host is not None:
        per_host = max(1, per_host // parts + (index < per_host % parts))
    return dataclasses.replace(
        config, limits=dataclasses.replace(limits, rate_per_s=rate, per_host=per_host)
    )


def host_of(url: str) -> str:
    """The host:port a URL connects to, the key of per-host limits."""
    return urlsplit(url).netloc.lower()


class RateLimiter:
    """At most `rate_per_s` acquisitions a second, evenly spaced, safe to share between threads."""

    def __init__(self, rate_per_s: float) -> None:
        self.interval_s = 1.0 / rate_per_s
        self._next_s = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Wait for this caller's slot; slots are handed out in order of arrival."""
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_s)
            self._next_s = slot + self.interval_s
        time.sleep(slot - now)  # outside the lock, so the other threads can book their slots


class Throttle:
    """The rate limit and per-host connection limit of the sync strategies."""

    def __init__(self, limits: Limits) -> None:
        rate = limits.rate_per_s
        self.rate = None if rate is None else RateLimiter(rate)
        self.per_host = limits.per_host
        self._hosts: dict[str, threading.BoundedSemaphore] = {}
        self._lock = threading.Lock()

    def slot(self, url: str) -> AbstractContextManager[None]:
        """Hold one of the host's connections and a rate token while the request runs."""
        if self.rate is None and self.per_host is None:
            return NO_LIMIT  # the common case skips a generator per request
        return self._limited(url)

    @contextmanager
    def _limited(self, url: str) -> Iterator[None]:
        if self.per_host is None:
            self._take_token()
            yield
            return
        with self._lock:
            host = self._hosts.setdefault(host_of(url), threading.BoundedSemaphore(self.per_host))
        with host:
            self._take_token()  # after the host slot, so no token is spent waiting for one
            yield

    def _take_token(self) -> None:
        if self.rate is not None:
            self.rate.acquire()


class AsyncThrottle:
    """The asyncio twin of `Throttle`; `hosts=False` when the client limits hosts itself."""

    def __init__(self, limits: Limits, hosts: bool = True) -> None:
        rate = limits.rate_per_s
        # One token refilled every 1/rate s: even spacing, the same as RateLimiter.
        self.rate = None if rate is None else AsyncLimiter(1, 1.0 / rate)
        self.per_host = limits.per_host if hosts else None
        self._hosts: dict[str, asyncio.Semaphore] = {}

    def slot(self, url: str) -> AbstractAsyncContextManager[None]:
        """Hold one of the host's connections and a rate token while the request runs."""
        if self.rate is None and self.per_host is None:
            return NO_LIMIT  # the common case skips a generator per request (~5 µs)
        return self._limited(url)

    @asynccontextmanager
    async def _limited(self, url: str) -> AsyncIterator[None]:
        if self.per_host is None:
            await self._take_token()
            yield
            return
        host = self._hosts.setdefault(host_of(url), asyncio.Semaphore(self.per_host))
        async with host:
            await self._take_token()
            yield

    async def _take_token(self) -> None:
        if self.rate is not None:
            await self.rate.acquire()
