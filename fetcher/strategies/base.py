"""What every strategy shares: the clock, one URL in progress (`Job`), and its result."""

from __future__ import annotations

import time

from fetcher.models import ErrorKind, FetchResult
from fetcher.policy.classify import classify, tls_detail, tls_failure

# One clock for the whole batch. perf_counter is system-wide on Linux, macOS and Windows, so
# times taken in worker processes line up with the parent's.
clock = time.perf_counter


class Job:
    """One URL being fetched: by which worker, since when, and how many tries were sent.

    The retry policy counts the tries in `attempts` (see `fetcher.policy.retry.call`); the result
    is built from the job once the URL is done, answered or failed.
    """

    __slots__ = ("attempts", "index", "started_s", "t0", "url", "worker")

    def __init__(self, index: int, url: str, worker: str, t0: float) -> None:
        self.index = index
        self.url = url
        self.worker = worker
        self.t0 = t0
        self.started_s = clock() - t0
        self.attempts = 0

    def answered(self, status: int, nbytes: int, body: bytes | None = None) -> FetchResult:
        """The result of a request that got a response; 4xx and 5xx count as `http_status`."""
        # Positional, in FetchResult's field order: a call by keyword took 0.45 µs more, and
        # this one runs for nearly every request.
        return FetchResult(
            self.index,
            self.url,
            status,
            nbytes,
            self.started_s,
            clock() - self.t0,  # ended_s
            self.worker,
            ErrorKind.HTTP_STATUS if status >= 400 else None,  # error
            None,  # detail
            self.attempts,
            body,
        )

    def failed(self, exc: BaseException) -> FetchResult:
        """The result of a request that raised: the exception becomes an ErrorKind."""
        return FetchResult(
            index=self.index,
            url=self.url,
            status=None,
            nbytes=0,
            started_s=self.started_s,
            ended_s=clock() - self.t0,
            worker=self.worker,
            error=classify(exc),
            detail=describe(exc),
            attempts=self.attempts,
        )


def describe(exc: BaseException) -> str:
    """A one-line description of an exception, for the result's `detail`."""
    tls = tls_failure(exc)
    if tls is not None:  # the wrappers repeat the URL; the reason is what the reader needs
        return f"TLS: {tls_detail(tls)}"
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
