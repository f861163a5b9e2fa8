"""Fetch batches of HTTP endpoints concurrently, six ways behind one interface.

    >>> from fetcher import fetch_all
    >>> results = fetch_all(urls, strategy="asyncio-aiohttp", concurrency=100)

Every URL yields exactly one `FetchResult`, in input order; a failed request is a result with an
`ErrorKind`, never an exception.
"""

from __future__ import annotations

from collections.abc import Sequence

from fetcher.config import FetchConfig, Timeouts
from fetcher.errors import FetcherError, MissingExtraError, UrlFileError
from fetcher.models import ErrorKind, FetchResult, OnResult
from fetcher.strategies import STRATEGIES, get_async_strategy, get_strategy
from fetcher.urls import parse_urls, read_urls

__all__ = [
    "STRATEGIES",
    "ErrorKind",
    "FetchConfig",
    "FetchResult",
    "FetcherError",
    "MissingExtraError",
    "Timeouts",
    "UrlFileError",
    "afetch_all",
    "fetch_all",
    "parse_urls",
    "read_urls",
]


def _config(config: FetchConfig | None, concurrency: int | None) -> FetchConfig:
    from dataclasses import replace

    config = config or FetchConfig()
    return config if concurrency is None else replace(config, concurrency=concurrency)


def _collector(on_result: OnResult | None) -> tuple[list[FetchResult], OnResult]:
    """A list of results, and the callback that fills it and passes each on to `on_result`."""
    results: list[FetchResult] = []

    def collect(result: FetchResult) -> None:
        results.append(result)
        if on_result is not None:
            on_result(result)

    return results, collect


def fetch_all(
    urls: Sequence[str],
    strategy: str = "asyncio-aiohttp",
    *,
    concurrency: int | None = None,
    config: FetchConfig | None = None,
    on_result: OnResult | None = None,
) -> list[FetchResult]:
    """Fetch every URL with one strategy; results in input order, each streamed to `on_result`.

    The returned list holds every result until the batch ends. `on_result` streams: it is
    called with each result the moment it completes, in this thread, so for a batch too large
    to hold, keep what you need of each result there and ignore the list (as `fetcher fetch`
    does, which also streams its URL file: see `fetcher.urls.UrlFile`).
    """
    results, collect = _collector(on_result)
    get_strategy(strategy).run(list(urls), _config(config, concurrency), collect)
    return sorted(results, key=lambda r: r.index)


async def afetch_all(
    urls: Sequence[str],
    strategy: str = "asyncio-aiohttp",
    *,
    concurrency: int | None = None,
    config: FetchConfig | None = None,
    on_result: OnResult | None = None,
) -> list[FetchResult]:
    """`fetch_all` for code already running an event loop (asyncio strategies only)."""
    runner = get_async_strategy(strategy)
    results, collect = _collector(on_result)
    await runner.run_async(list(urls), _config(config, concurrency), collect)
    return sorted(results, key=lambda r: r.index)
