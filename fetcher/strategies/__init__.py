"""The fetch strategies: a module each, behind one small Protocol, and the registry of their traits.

Every strategy module has
`run(urls, config, on_result, t0=None) -> None`, which fetches every URL and hands each
`FetchResult` to `on_result` as it completes, in the caller's thread, exactly once per URL,
whatever fails. `urls` is a Collection, not a Sequence: a strategy takes `len(urls)` and
iterates it, never indexes it, so `fetcher fetch` can stream a URL file of any length (result
`index` is the URL's position in the iteration). A collection marked `streamed = True` (fetch's
URL file) is re-iterable and pickles small, so a multi-process strategy may send it whole to
its workers and let each read its own share. An exception raised by `on_result` (Ctrl-C,
SIGTERM, a results file that cannot be written) stops the run: workers are stopped and reaped
and the exception propagates. `t0` is the `time.perf_counter()` the batch's times are measured from.
The asynchronous ones also have `run_async`, the same as a coroutine.

What a strategy *is* (its client, whether it is async, which settings count its workers, whether
it spans cores, the extra it needs) is declared once, in `STRATEGIES`; the comparison harness,
the sweep, the explanations, the command line and the tests all read it from there. Modules are
imported on first use, so picking one strategy never loads the others or their clients.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol, cast

from fetcher.config import FetchConfig
from fetcher.models import OnResult


class Strategy(Protocol):
    """A way to fetch a batch: one result per URL, handed to `on_result` as each completes."""

    def run(
        self,
        urls: Collection[str],
        config: FetchConfig,
        on_result: OnResult,
        t0: float | None = None,
    ) -> None: ...


class AsyncStrategy(Strategy, Protocol):
    """A strategy that can also run on an event loop the caller already has."""

    async def run_async(
        self,
        urls: Collection[str],
        config: FetchConfig,
        on_result: OnResult,
        t0: float | None = None,
    ) -> None: ...


@dataclass(frozen=True)
class Traits:
    """What a strategy is, declared once."""

    name: str
    module: str
    # How it fetches, in a line (for --help and the README's table).
    how: str
    # The HTTP library it uses: requests, aiohttp or httpx.
    client: str
    # True when the module has `run_async` (afetch_all can run it on a caller's loop).
    asynchronous: bool
    # True when `config.concurrency` sets its threads or tasks (per process, if it has several).
    concurrent: bool
    # True when `config.processes` sets its worker processes: its Python runs on several cores.
    multiprocess: bool
    # The optional extra it needs (`pip install -e '.[EXTRA]'`), or None.
    extra: str | None = None
    # True when it runs on a cluster engine: its workers are the engine's (not processes it
    # spawns), and results come back a chunk at a time, as each chunk completes.
    cluster: bool = False

    def in_flight(self, config: FetchConfig) -> int:
        """How many requests it can have in flight at once with this config."""
        processes = config.processes if self.multiprocess else 1
        return processes * (config.concurrency if self.concurrent else 1)

    def cores(self, config: FetchConfig) -> int:
        """How many cores its Python can run on at once: one GIL, or one per process."""
        if not self.multiprocess:
            return 1
        return max(1, min(config.processes, os.cpu_count() or 1))

    @property
    def workers_setting(self) -> Literal["concurrency", "processes"] | None:
        """The FetchConfig field a sweep turns to change its workers; None when it has one."""
        if self.concurrent:
            return "concurrency"
        return "processes" if self.multiprocess else None


STRATEGIES: dict[str, Traits] = {
    traits.name: traits
    for traits in (
        Traits(
            name="sequential",
            module="fetcher.strategies.sequential",
            how="one requests.Session, a loop",
            client="requests",
            asynchronous=False,
            concurrent=False,
            multiprocess=False,
        ),
        Traits(
            name="threads",
            module="fetcher.strategies.threads",
            how="ThreadPoolExecutor, a requests.Session per thread",
            client="requests",
            asynchronous=False,
            concurrent=True,
            multiprocess=False,
        ),
        Traits(
            name="asyncio-aiohttp",
            module="fetcher.strategies.asyncio_aiohttp",
            how="one aiohttp.ClientSession, --concurrency worker tasks",
            client="aiohttp",
            asynchronous=True,
            concurrent=True,
            multiprocess=False,
        ),
        Traits(
            name="asyncio-httpx",
            module="fetcher.strategies.asyncio_httpx",
            how="httpx.AsyncClients, --concurrency worker tasks",
            client="httpx",
            asynchronous=True,
            concurrent=True,
            multiprocess=False,
        ),
        Traits(
            name="processes",
            module="fetcher.strategies.processes",
            how="ProcessPoolExecutor (spawn), a Session per process, one URL at a time",
            client="requests",
            asynchronous=False,
            concurrent=False,
            multiprocess=True,
        ),
        Traits(
            name="hybrid",
            module="fetcher.strategies.hybrid",
            how="one process per core, each running the asyncio-aiohttp loop",
            client="aiohttp",
            asynchronous=False,
            concurrent=True,
            multiprocess=True,
        ),
        Traits(
            name="dask",
            module="fetcher.strategies.on_dask",
            how="chunks on a Dask cluster (a LocalCluster here), each on the asyncio-aiohttp loop",
            client="aiohttp",
            asynchronous=False,
            concurrent=True,
            multiprocess=True,
            extra="dask",
            cluster=True,
        ),
    )
}


def traits_of(name: str) -> Traits:
    """The traits of strategy `name`; a ValueError lists the choices for an unknown one."""
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r}: choose from {', '.join(STRATEGIES)}")
    return STRATEGIES[name]


def get_strategy(name: str) -> Strategy:
    """The module implementing strategy `name`."""
    return cast(Strategy, importlib.import_module(traits_of(name).module))


def get_async_strategy(name: str) -> AsyncStrategy:
    """The module implementing asynchronous strategy `name`; ValueError for a blocking one."""
    traits = traits_of(name)
    if not traits.asynchronous:
        choices = " or ".join(t.name for t in STRATEGIES.values() if t.asynchronous)
        raise ValueError(f"afetch_all runs {choices}, not {name!r}")
    return cast(AsyncStrategy, importlib.import_module(traits.module))


if TYPE_CHECKING:
    # mypy checks here that every module keeps the Protocol its traits promise.
    from fetcher.strategies import (
        asyncio_aiohttp,
        asyncio_httpx,
        hybrid,
        on_dask,
        processes,
        sequential,
        threads,
    )

    _BLOCKING: tuple[Strategy, ...] = (sequential, threads, processes, hybrid, on_dask)
    _ASYNC: tuple[AsyncStrategy, ...] = (asyncio_aiohttp, asyncio_httpx)
