"""What every strategy shares: the callback type, the clock, and building results."""

from __future__ import annotations

import time
from collections.abc import Callable

from fetcher.classify import classify
from fetcher.models import ErrorKind, FetchResult

OnResult = Callable[[FetchResult], None]

# One clock for the whole batch. perf_counter is system-wide on Linux, macOS and Windows, so
# times taken in worker processes line up with the parent's.
clock = time.perf_counter


def succeeded(
    index: int,
    url: str,
    worker: str,
    started_s: float,
    status: int,
    nbytes: int,
    t0: float,
    body: bytes | None = None,
    attempts: int = 1,
) -> FetchResult:
    """The result of a request that got a response; 4xx and 5xx count as `http_status` errors."""
    return FetchResult(
        index=index,
        url=url,
        status=status,
        nbytes=nbytes,
        started_s=started_s,
        ended_s=clock() - t0,
        worker=worker,
        error=ErrorKind.HTTP_STATUS if status >= 400 else None,
        attempts=attempts,
        body=body,
    )


def failed(
    index: int,
    url: str,
    worker: str,
    started_s: float,
    exc: BaseException,
    t0: float,
    attempts: int = 1,
) -> FetchResult:
    """The result of a request that raised: the exception becomes an ErrorKind."""
    return FetchResult(
        index=index,
        url=url,
        status=None,
        nbytes=0,
        started_s=started_s,
        ended_s=clock() - t0,
        worker=worker,
        error=classify(exc),
        detail=describe(exc),
        attempts=attempts,
    )


def describe(exc: BaseException) -> str:
    """A one-line description of an exception, for the result's `detail`."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__


def worker_died(index: int, url: str, t0: float, detail: str) -> FetchResult:
    """The result for a URL whose worker process died before answering it."""
    now_s = clock() - t0
    return FetchResult(
        index=index,
        url=url,
        status=None,
        nbytes=0,
        started_s=now_s,
        ended_s=now_s,
        worker="?",
        error=ErrorKind.WORKER_DIED,
        detail=detail,
    )
