"""A ProcessPoolExecutor of requests calls, one requests.Session per process.

Each process has its own interpreter and GIL, which buys nothing for waiting on the network: P
processes overlap only P requests, and each costs a start-up and tens of MB. URLs go out one at
a time (a window of a few per process) so no process sits on a chunk while others idle.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

import requests

from fetcher.config import FetchConfig
from fetcher.models import FetchResult
from fetcher.strategies.base import OnResult, clock
from fetcher.strategies.pool import run_windowed
from fetcher.strategies.sync_http import fetch_one, new_session

NAME = "processes"
WINDOW_PER_WORKER = 2

# Set once in each worker process by _start_worker.
_session: requests.Session | None = None
_config: FetchConfig | None = None
_t0 = 0.0


def run(
    urls: Sequence[str], config: FetchConfig, on_result: OnResult, t0: float | None = None
) -> None:
    """Fetch with `config.processes` worker processes; results reach `on_result` in this process."""
    t0 = clock() if t0 is None else t0
    workers = max(1, min(config.processes, len(urls)))
    # spawn, not fork: forking a parent that runs threads (progress bars, pools) is unsafe, and
    # spawn is what macOS and Windows do anyway, so the start-up cost shown is the honest one.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_start_worker, initargs=(config, t0)
    ) as executor:
        run_windowed(executor, _fetch, urls, workers * WINDOW_PER_WORKER, on_result, t0)


def _start_worker(config: FetchConfig, t0: float) -> None:
    """Open this process's Session once; every URL it gets reuses it."""
    global _session, _config, _t0
    _session, _config, _t0 = new_session(config), config, t0


def _fetch(index: int, url: str) -> FetchResult:
    assert _session is not None and _config is not None, "worker not initialised"
    return fetch_one(_session, index, url, _config, _t0, f"pid-{os.getpid()}")
