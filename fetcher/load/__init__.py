"""The load generator behind `fetcher load`: closed and open models, measured in HdrHistograms.

Closed model: `concurrency` long-lived worker tasks, each sending its next request when the last
one answers. Open model: request i is due at t0 + i/rate whatever the server does; workers are
started as needed (up to `concurrency`, a generous cap on requests in flight) and latency is
measured both from when the request was due (coordinated omission corrected, as wrk2 does) and
from when it went out (uncorrected). A start more than LATE_START_MS after its due time counts as
late. Every run is bounded by a duration and/or a count; `processes` runs one generator per
process and merges their histograms.

This package's face is `run_load(LoadConfig) -> LoadResult`; the work is done in

    config      LoadConfig and its DEFAULT_* values
    client      one long-lived client behind `send(url)`: fast (the default), aiohttp or httpx
    fast        the fast client: HTTP/1.1 on asyncio protocols, parsed by httptools
    generator   the event-loop side: workers, schedule, timeouts, recording
    processes   running generators on this loop or one per process
    on_dask     one generator per worker of a Dask cluster (`--dask`)
    results     Progress, GeneratorResult, LoadResult; merging them
    csv_rows    the per-request CSV
    report      the result as the report's data (what --json writes)
"""

from __future__ import annotations

import signal
from collections.abc import Callable

from fetcher.load.config import LoadConfig
from fetcher.load.results import LoadResult, Progress

__all__ = ["LoadConfig", "LoadResult", "Progress", "run_load"]


def run_load(
    config: LoadConfig, on_progress: Callable[[Progress], None] | None = None
) -> LoadResult:
    """Run the load to its bound and return the merged result.

    Ctrl-C, SIGTERM and SIGHUP stop the run: the generators stop, and what they measured comes
    back marked `interrupted`. A stop signal that this process leaves at its default action
    (SIGTERM and SIGHUP, unless the program handles them as `fetcher load` does) is raised again
    once they have stopped, and ends the process as it would have without the run: a program
    (a test suite under `timeout`, a service under systemd) keeps its SIGTERM.
    """
    # Here, not at the top: the clients and the event loop are loaded only when a run starts.
    from fetcher.load.processes import run_one, run_processes, stop_signal
    from fetcher.load.results import merge
    from fetcher.orphans import STOP_SIGNALS

    config = config.bounded
    if config.dask:
        from fetcher.load.on_dask import run_dask

        return run_dask(config, config.scheduler)
    defaults = [signum for signum in STOP_SIGNALS if signal.getsignal(signum) == signal.SIG_DFL]
    if config.processes == 1:
        result = merge(config, [run_one(config, on_progress)])
    else:
        result = run_processes(config, on_progress)
    if result.interrupted and stop_signal() in defaults:
        signal.raise_signal(stop_signal())
    return result
