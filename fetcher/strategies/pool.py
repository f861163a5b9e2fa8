"""Feed URLs to an executor a window at a time and hand results back as they complete.

Shared by the threads and processes strategies. Submitting the whole batch at once would hold a
future per URL (100,000 URLs, 100,000 futures); a window of a few per worker keeps every worker
busy with memory bounded by the window, not the batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from concurrent.futures.process import BrokenProcessPool

from fetcher.models import FetchResult, OnResult
from fetcher.strategies.base import Job, worker_died

Task = Callable[[int, str], FetchResult]


def run_windowed(
    executor: Executor,
    task: Task,
    urls: Iterable[str],
    window: int,
    on_result: OnResult,
    t0: float,
) -> None:
    """Run `task(index, url)` for every URL with at most `window` submitted and unfinished."""
    pending: dict[Future[FetchResult], tuple[int, str]] = {}
    for index, url in enumerate(urls):
        while len(pending) >= window:
            _collect(pending, on_result, t0)
        try:
            pending[executor.submit(task, index, url)] = (index, url)
        except BrokenProcessPool as exc:
            on_result(worker_died(index, url, t0, f"{type(exc).__name__}: {exc}"))
    while pending:
        _collect(pending, on_result, t0)


def _collect(
    pending: dict[Future[FetchResult], tuple[int, str]], on_result: OnResult, t0: float
) -> None:
    """Wait for at least one future and report every finished one."""
    done, _ = wait(pending, return_when=FIRST_COMPLETED)
    for future in done:
        index, url = pending.pop(future)
        try:
            result = future.result()
        except BrokenProcessPool as exc:
            result = worker_died(index, url, t0, f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # a bug in a task must still yield this URL's result
            result = Job(index, url, "?", t0).failed(exc)
        on_result(result)
