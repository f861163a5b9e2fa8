"""A ThreadPoolExecutor of requests calls, one requests.Session per thread.

A thread blocked in a socket read releases the GIL, so N threads wait on N responses at once.
requests.Session is not documented as thread-safe, hence one per thread, kept in a
threading.local so each thread reuses its own connection. The rate and per-host limits are one
`Throttle` shared by all threads.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor

import requests

from fetcher.config import FetchConfig
from fetcher.models import FetchResult, OnResult
from fetcher.policy.limits import Throttle
from fetcher.policy.tls import client_context
from fetcher.strategies.base import Job, clock
from fetcher.strategies.pool import run_windowed
from fetcher.strategies.requests_http import fetch_one, new_session

# Futures submitted per thread ahead of time: enough to keep every thread busy.
WINDOW_PER_WORKER = 2


def run(
    urls: Collection[str], config: FetchConfig, on_result: OnResult, t0: float | None = None
) -> None:
    """Fetch with `config.concurrency` threads; results reach `on_result` in this thread."""
    t0 = clock() if t0 is None else t0
    local = threading.local()
    sessions: list[requests.Session] = []
    lock = threading.Lock()
    throttle = Throttle(config.limits)
    tls = client_context(config.tls)  # one for all the threads' sessions: a context is thread-safe

    def session() -> requests.Session:
        if not hasattr(local, "session"):
            local.session = new_session(config, tls=tls)
            with lock:
                sessions.append(local.session)
        return local.session  # type: ignore[no-any-return]

    def task(index: int, url: str) -> FetchResult:
        job = Job(index, url, threading.current_thread().name, t0)
        return fetch_one(session(), job, config, throttle)

    workers = max(1, min(config.concurrency, len(urls)))
    executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="thread")
    try:
        run_windowed(executor, task, urls, workers * WINDOW_PER_WORKER, on_result, t0)
    except BaseException:
        # Ctrl-C: drop the queued URLs instead of fetching them; a request already under way
        # ends within its timeouts, and nothing waits for it.
        executor.shutdown(wait=False, cancel_futures=True)
        raise
    else:
        executor.shutdown(wait=True)
    finally:
        for each in sessions:
            each.close()
