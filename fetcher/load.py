"""The load generator behind `fetcher load`: closed and open models, measured in HdrHistograms.

Closed model: `concurrency` long-lived worker tasks, each sending its next request when the last
one answers. Open model: request i is due at t0 + i/rate whatever the server does; workers are
started as needed (up to `concurrency`, a generous cap on requests in flight) and latency is
measured both from when the request was due (coordinated omission corrected, as wrk2 does) and
from when it went out (uncorrected). A start more than LATE_START_MS after its due time counts as
late. Every run is bounded by a duration and/or a count; `processes` runs one generator per
process and merges their histograms.

This module is the public face; the work is done in

    load_config     LoadConfig and its DEFAULT_* values
    load_results    Progress, GeneratorResult, LoadResult; merging them
    load_client     one aiohttp or httpx session behind `send(url)`
    load_generator  the event-loop side: workers, schedule, timeouts, recording
    load_processes  running generators on this loop or one per process
"""

from __future__ import annotations

from collections.abc import Callable

from fetcher.load_client import Send, open_client, prepared_urls
from fetcher.load_config import (
    CLIENTS,
    DEFAULT_CONCURRENCY,
    DEFAULT_DRAIN_S,
    DEFAULT_DURATION_S,
    DEFAULT_OPEN_CONCURRENCY,
    DEFAULT_TIMEOUT_S,
    LoadConfig,
)
from fetcher.load_generator import (
    FLUSH_INTERVAL_S,
    LATE_START_MS,
    PROGRESS_INTERVAL_S,
    SCHEDULE_TICK_S,
    Generator,
)
from fetcher.load_processes import STARTUP_TIMEOUT_S, run_one, run_processes, share
from fetcher.load_results import (
    HIST_DIGITS,
    HIST_MAX_US,
    GeneratorResult,
    LoadResult,
    Progress,
    Recorder,
    combine,
    merge,
    new_histogram,
)

__all__ = [
    "CLIENTS",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_DRAIN_S",
    "DEFAULT_DURATION_S",
    "DEFAULT_OPEN_CONCURRENCY",
    "DEFAULT_TIMEOUT_S",
    "FLUSH_INTERVAL_S",
    "HIST_DIGITS",
    "HIST_MAX_US",
    "LATE_START_MS",
    "PROGRESS_INTERVAL_S",
    "SCHEDULE_TICK_S",
    "STARTUP_TIMEOUT_S",
    "Generator",
    "GeneratorResult",
    "LoadConfig",
    "LoadResult",
    "Progress",
    "Recorder",
    "Send",
    "combine",
    "merge",
    "new_histogram",
    "open_client",
    "prepared_urls",
    "run_load",
    "share",
]


def run_load(
    config: LoadConfig, on_progress: Callable[[Progress], None] | None = None
) -> LoadResult:
    """Run the load to its bound (or Ctrl-C) and return the merged result."""
    config = config.bounded
    if config.processes == 1:
        return merge(config, [run_one(config, on_progress)])
    return run_processes(config, on_progress)
