"""Running `fetcher load`'s generators: one on this process's event loop, or one per process.

With `processes` > 1 each child runs its `share` of the load; the parent starts them together,
relays their progress, turns Ctrl-C into a stop for all of them, and merges their parts.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import queue as queue_module
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from fetcher.errors import FetcherError
from fetcher.load.client import open_client, prepared_urls
from fetcher.load.config import LoadConfig
from fetcher.load.csv_rows import RequestCsv
from fetcher.load.generator import Generator
from fetcher.load.results import GeneratorResult, LoadResult, Progress, combine, merge
from fetcher.loop import run_loop
from fetcher.orphans import STOP_SIGNALS, become_worker
from fetcher.policy.tls import client_context

# A generator process that has not said it is ready within this long is taken as failed.
STARTUP_TIMEOUT_S = 60.0
# The signals that stopped runs in this process, latest last.
_received: list[int] = []


def stop_signal() -> int:
    """The signal that stopped the latest interrupted run (SIGINT if none was recorded)."""
    return _received[-1] if _received else signal.SIGINT


def note_stop_signal(signum: int) -> None:
    """Record that `signum` stopped a run in this process (for `stop_signal`)."""
    _received.append(signum)


def run_one(config: LoadConfig, on_progress: Callable[[Progress], None] | None) -> GeneratorResult:
    """One generator on this process's event loop; Ctrl-C stops it."""
    return run_loop(generate(config, 0, on_progress, Signals()), config.use_uvloop)


@dataclass
class Signals:
    """How a generator learns to start and stop: its own SIGINT, or events from the parent."""

    stop: Any = None
    go: Any = None
    ready: Callable[[], None] | None = None
    poller: asyncio.Future[None] | None = None

    async def started(self, generator: Generator) -> None:
        """Wait for the go-ahead, then route stop requests to `generator`."""
        loop = asyncio.get_running_loop()
        if self.stop is None:
            for signum in STOP_SIGNALS:
                loop.add_signal_handler(signum, self._interrupt, generator, signum)
            return
        if self.ready is not None:
            self.ready()
        while not (self.go.is_set() or self.stop.is_set()):
            await asyncio.sleep(0.002)
        self.poller = asyncio.ensure_future(self._poll(generator))

    @staticmethod
    def _interrupt(generator: Generator, signum: int) -> None:
        note_stop_signal(signum)
        generator.interrupt()

    async def _poll(self, generator: Generator) -> None:
        while not self.stop.is_set():
            await asyncio.sleep(0.05)
        generator.stop(interrupted=True)

    def finished(self) -> None:
        """Stop listening: give the stop signals back to their previous handling."""
        if self.poller is not None:
            self.poller.cancel()
        if self.stop is None:
            for signum in STOP_SIGNALS:
                asyncio.get_running_loop().remove_signal_handler(signum)


async def generate(
    config: LoadConfig,
    index: int,
    on_progress: Callable[[Progress], None] | None,
    signals: Signals,
) -> GeneratorResult:
    """One generator on one client session, from setup to result."""
    async with open_client(config) as send:
        generator = Generator(config, send, prepared_urls(config))
        if config.client == "fast":
            _drive(generator)
        if config.csv_path is not None:
            generator.csv = RequestCsv(f"{config.csv_path}.part{index}")
        await signals.started(generator)
        try:
            return await generator.run(on_progress)
        finally:
            signals.finished()
            if generator.csv is not None:
                generator.csv.close()


def _drive(generator: Generator) -> None:
    """Have the fast client's connections send the requests themselves, if they go to one
    origin (`fetcher.load.driven`); else its workers send them through `send`."""
    from fetcher.load.driven import Driver, drivable

    if drivable(generator.urls):
        config = generator.config
        tls = config.tls
        generator.engine = Driver(
            generator, config.connections, config.pipeline, lambda: client_context(tls)
        )


def run_processes(config: LoadConfig, on_progress: Callable[[Progress], None] | None) -> LoadResult:
    """One generator per process; their histograms merged."""
    ctx = multiprocessing.get_context("spawn")
    stop, go, queue = ctx.Event(), ctx.Event(), ctx.Queue()
    processes = [
        ctx.Process(
            target=_child,
            args=(config.share(k), k, queue, stop, go, on_progress is not None),
            daemon=True,
        )
        for k in range(config.processes)
    ]

    def on_signal(signum: int, frame: object) -> None:
        note_stop_signal(signum)
        stop.set()

    previous = {signum: signal.signal(signum, on_signal) for signum in STOP_SIGNALS}
    try:
        for process in processes:
            process.start()
        parts = _Collector(config, processes, queue, go, stop, on_progress).collect()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        stop.set()
        for process in processes:
            process.join(5.0)
            if process.is_alive():
                process.kill()
                process.join()
    return merge(config, parts)


def _child(config: LoadConfig, index: int, queue: Any, stop: Any, go: Any, progress: bool) -> None:
    """A generator process: its terminal's Ctrl-C is left to the parent, which sets `stop`."""
    become_worker()

    def report(snapshot: Progress) -> None:
        queue.put(("progress", index, snapshot))

    signals = Signals(stop=stop, go=go, ready=lambda: queue.put(("ready", index, None)))
    try:
        part = run_loop(
            generate(config, index, report if progress else None, signals), config.use_uvloop
        )
    except Exception as exc:  # sent to the parent, which raises it there
        queue.put(("error", index, f"{type(exc).__name__}: {exc}"))
        return
    queue.put(("result", index, part))


class _Collector:
    """The parent's side of `--processes`: start them together, relay progress, gather parts."""

    def __init__(
        self,
        config: LoadConfig,
        processes: list[Any],
        queue: Any,
        go: Any,
        stop: Any,
        on_progress: Callable[[Progress], None] | None,
    ) -> None:
        self.config, self.processes, self.queue = config, processes, queue
        self.go, self.stop, self.on_progress = go, stop, on_progress
        self.ready = 0
        self.parts: dict[int, GeneratorResult] = {}
        self.snapshots: dict[int, Progress] = {}

    def collect(self) -> list[GeneratorResult]:
        """Every process's result, in process order; raise if one failed."""
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while len(self.parts) < len(self.processes):
            for kind, index, payload in self._messages():
                self._handle(kind, index, payload)
            if self.ready < len(self.processes) and time.monotonic() > deadline:
                raise FetcherError("the generator processes did not start in time")
            if self._lost():
                raise FetcherError("a generator process died before reporting")
        return [self.parts[k] for k in sorted(self.parts)]

    def _messages(self) -> Iterator[tuple[str, int, Any]]:
        """What arrived within a quarter of a second."""
        try:
            yield self.queue.get(timeout=0.25)
        except queue_module.Empty:
            return

    def _handle(self, kind: str, index: int, payload: Any) -> None:
        if kind == "ready":
            self.ready += 1
            if self.ready == len(self.processes):
                self.go.set()
        elif kind == "progress" and self.on_progress is not None:
            self.snapshots[index] = payload
            self.on_progress(combine(list(self.snapshots.values())))
        elif kind == "result":
            self.parts[index] = payload
        elif kind == "error":
            raise FetcherError(f"generator process {index} failed: {payload}")

    def _lost(self) -> bool:
        """True when a process without a result has exited (its result may still be queued)."""
        dead = [k for k, p in enumerate(self.processes) if k not in self.parts and not p.is_alive()]
        if not dead:
            return False
        time.sleep(0.5)
        return bool(self.queue.empty())
