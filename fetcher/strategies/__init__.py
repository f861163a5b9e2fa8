"""The fetch strategies, one module each, behind one small interface.

Every strategy module has `NAME` and
`run(urls, config, on_result, t0=None) -> None`, which fetches every URL and hands each
`FetchResult` to `on_result` as it completes, in the caller's thread, exactly once per URL,
whatever fails. `t0` is the `time.perf_counter()` the batch's times are measured from.
The asyncio strategies also have `run_async`, the same as a coroutine.
"""

from __future__ import annotations

import importlib
from types import ModuleType

# Name -> module; modules are imported on first use so picking one never loads the others.
STRATEGIES: dict[str, str] = {
    "sequential": "fetcher.strategies.sequential",
    "threads": "fetcher.strategies.threads",
    "asyncio-aiohttp": "fetcher.strategies.asyncio_aiohttp",
    "asyncio-httpx": "fetcher.strategies.asyncio_httpx",
    "processes": "fetcher.strategies.processes",
    "hybrid": "fetcher.strategies.hybrid",
}
ASYNC_STRATEGIES = ("asyncio-aiohttp", "asyncio-httpx")


def get_strategy(name: str) -> ModuleType:
    """The module implementing strategy `name`."""
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r}: choose from {', '.join(STRATEGIES)}")
    return importlib.import_module(STRATEGIES[name])
