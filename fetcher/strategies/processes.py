"""A ProcessPoolExecutor of requests calls, one requests.Session per process.

Each process has its own interpreter and GIL, which buys nothing for waiting on the network: P
processes overlap only P requests, and each costs a start-up and tens of MB. URLs go out one at
a time (a window of a few per process) so no process sits on a chunk while others idle.
Processes share no limiter: each gets rate/P of the rate limit. Each holds one connection at a
time, so at most P reach one host whatever the per-host limit.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Collection
from concurrent.futures import ProcessPoolExecutor

import requests

from fetcher.config import FetchConfig
from fetcher.models import FetchResult, OnResult
from fetcher.orphans import become_worker
from fetcher.policy.limits import Throttle, share
from fetcher.strategies.base import Job, clock
from fetcher.strategies.pool import run_windowed
from fetcher.strategies.requests_http import fetch_one, new_session
from fetcher.strategies.spawn import sigint_held

WINDOW_PER_WORKER = 2

# Set once in each worker process by _start_worker.
_session: requests.Session | None = None
_config: FetchConfig | None = None
_throttle: Throttle | None = None
_t0 = 0.0


def run(
    urls: Collection[str], config: FetchConfig, on_result: OnResult, t0: float | None = None
) -> None:
    """Fetch with `config.processes` worker processes; results reach `on_result` in this process."""
    t0 = clock() if t0 is None else t0
    workers = max(1, min(config.processes, len(urls)))
    # spawn, not fork: forking a parent that runs threads (progress bars, pools) is unsafe, and
    # spawn is what macOS and Windows do anyway, so the start-up cost shown is the honest one.
    executor = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(share(config, workers), t0),
    )
    try:
        with sigint_held():  # children that never see Ctrl-C (see spawn.py)
            # The pool starts a process per submit while none is idle: this starts them all.
            for _ in range(workers):
                executor.submit(_ready)
        run_windowed(executor, _fetch, urls, workers * WINDOW_PER_WORKER, on_result, t0)
    except BaseException:
        # Ctrl-C: the workers ignore SIGINT, so stopping them is up to us.
        terminate_workers(executor)
        raise
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def terminate_workers(executor: ProcessPoolExecutor) -> None:
    """Stop every worker process now, whatever it is doing."""
    # SIGKILL, not SIGTERM: the workers ignore SIGTERM, which is the parent's to act on.
    if hasattr(executor, "kill_workers"):  # Python 3.14+
        executor.kill_workers()
        return
    for process in list((executor._processes or {}).values()):
        process.kill()


def _start_worker(config: FetchConfig, t0: float) -> None:
    """Open this process's Session (and SSL context: one cannot be pickled) once; every URL it
    gets reuses it."""
    global _session, _config, _throttle, _t0
    become_worker()
    _session, _config, _throttle, _t0 = new_session(config), config, Throttle(config.limits), t0


def _ready() -> None:
    """Nothing: submitted once per worker so that the pool starts them all at once."""


def _fetch(index: int, url: str) -> FetchResult:
    assert _session is not None and _config is not None and _throttle is not None
    return fetch_one(_session, Job(index, url, f"pid-{os.getpid()}", _t0), _config, _throttle)
