"""The retry policy, on stamina: which failures to retry and how long to wait before the next try.

stamina runs the loop (attempt cap, total-time cap, sleeping the sync or async way, its logging
and instrumentation hooks, `stamina.set_testing`); this module decides. A retryable status comes
back as a `RetryableStatus` exception so that stamina sees it like a dropped connection; if the
last try still gets one, it becomes an ordinary result.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import timezone
from typing import Any, Protocol, TypeVar

import stamina

from fetcher.config import Retries
from fetcher.models import ErrorKind
from fetcher.policy.classify import classify

T = TypeVar("T")

# stamina logs each retry at WARNING; with logging unconfigured Python would print that to
# stderr, and the library never prints. An application that configures logging still gets it.
logging.getLogger("stamina").addHandler(logging.NullHandler())

# Only these may be sent twice without changing anything on the server. fetcher sends only GET.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
# Failures where the request may never have reached the server, or it gave up on us.
RETRYABLE_KINDS = frozenset(
    {
        ErrorKind.CONNECT_TIMEOUT,
        ErrorKind.READ_TIMEOUT,
        ErrorKind.TIMEOUT,
        ErrorKind.CONNECTION_REFUSED,
        ErrorKind.CONNECTION_RESET,
        ErrorKind.DISCONNECTED,
        ErrorKind.CONNECTION,
    }
)


class RetryableStatus(Exception):
    """An answer whose status says "try again later"; carries it and its Retry-After."""

    def __init__(self, status: int, nbytes: int, retry_after: str | None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.nbytes = nbytes
        self.retry_after = retry_after


def check_status(policy: Retries, status: int, nbytes: int, headers: Mapping[str, str]) -> None:
    """Raise RetryableStatus when the policy retries this status; its Retry-After header is
    looked up only then."""
    if status in policy.statuses:
        raise RetryableStatus(status, nbytes, headers.get("Retry-After"))


def retry_after_s(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait that a Retry-After header asks for: delta-seconds or an HTTP date."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None  # unreadable: fall back to our own backoff
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def backoff_s(policy: Retries, retry_number: int) -> float:
    """Exponential backoff for retry 1, 2, ...; with full jitter, a random time up to it."""
    ceiling = min(policy.backoff_max_s, policy.backoff_initial_s * 2 ** (retry_number - 1))
    return random.uniform(0, ceiling) if policy.jitter else ceiling


def make_decider(policy: Retries, started: float) -> Callable[[Exception], bool | float]:
    """stamina's backoff hook for one URL first tried at `started` (monotonic): False to give up,
    else the seconds to wait."""
    deadline = started + policy.total_s
    retries = 0

    def decide(exc: Exception) -> bool | float:
        nonlocal retries
        if not retryable(exc):
            return False
        retries += 1
        wait_s = backoff_s(policy, retries)
        if isinstance(exc, RetryableStatus):
            # Retry-After is the floor, capped; the backoff on top keeps the clients that were
            # all told the same moment from all coming back at it.
            asked_s = retry_after_s(exc.retry_after)
            wait_s += min(asked_s, policy.retry_after_max_s) if asked_s is not None else 0.0
        # Sleeping past the budget only to give up after is worse than giving up now.
        return wait_s if time.monotonic() + wait_s < deadline else False

    return decide


def retryable(exc: BaseException) -> bool:
    """True for a failure worth another try: a "later" status, a lost connection, a timeout."""
    return isinstance(exc, RetryableStatus) or classify(exc) in RETRYABLE_KINDS


class Attempts(Protocol):
    """Where `call` counts the tries it sends; read it whether the call succeeded or raised."""

    attempts: int


def call(policy: Retries, send: Callable[[], T], counter: Attempts, method: str = "GET") -> T:
    """`send()` until it succeeds or the policy gives up (then its last error is raised).

    The first try runs bare: stamina (on tenacity) costs about 100 µs per call, as much as a
    whole request to a nearby server, so it takes over only once a try has failed. From there
    stamina owns every wait and every try, the first failure included: it is raised again inside
    stamina's loop, so its hooks, its logging and `stamina.set_testing` see every retry.
    """
    started = time.monotonic()
    counter.attempts = 1
    try:
        return send()
    except Exception as exc:
        first = exc
    return call_again(policy, send, counter, first, started, method)


def call_again(
    policy: Retries,
    send: Callable[[], T],
    counter: Attempts,
    first: Exception,
    started: float,
    method: str = "GET",
) -> T:
    """What `call` does once the first try, begun at `started` (monotonic) with
    `counter.attempts` at 1, has failed with `first`: `first` raised again when the policy
    does not retry it, else stamina's retries."""
    if _attempts(policy, method) < 2 or not retryable(first):
        raise first
    failed: Exception | None = first
    for each in stamina.retry_context(**_settings(policy, method, started)):
        with each:
            if failed is not None:
                failure, failed = failed, None
                raise failure
            counter.attempts += 1
            return send()
    raise AssertionError("stamina ends by returning or raising")  # pragma: no cover


async def acall(
    policy: Retries, send: Callable[[], Awaitable[T]], counter: Attempts, method: str = "GET"
) -> T:
    """The async twin of `call`: stamina's waits are `asyncio.sleep`, not `time.sleep`."""
    started = time.monotonic()
    counter.attempts = 1
    try:
        return await send()
    except Exception as exc:
        first = exc
    return await acall_again(policy, send, counter, first, started, method)


async def acall_again(
    policy: Retries,
    send: Callable[[], Awaitable[T]],
    counter: Attempts,
    first: Exception,
    started: float,
    method: str = "GET",
) -> T:
    """The async twin of `call_again`. A loop that runs the first try itself calls this only
    once it failed, so the requests that succeed first time are awaited one coroutine less
    deep (every suspension of a request is resumed through each frame that awaits it)."""
    if _attempts(policy, method) < 2 or not retryable(first):
        raise first
    failed: Exception | None = first
    async for each in stamina.retry_context(**_settings(policy, method, started)):
        with each:
            if failed is not None:
                failure, failed = failed, None
                raise failure
            counter.attempts += 1
            return await send()
    raise AssertionError("stamina ends by returning or raising")  # pragma: no cover


def _attempts(policy: Retries, method: str) -> int:
    """Tries allowed in all: only idempotent requests are sent more than once."""
    return policy.attempts if method in IDEMPOTENT_METHODS else 1


def _settings(policy: Retries, method: str, started: float) -> Any:
    """stamina's settings from the first failure on (the decider keeps the time budget)."""
    return {
        "on": make_decider(policy, started),
        "attempts": _attempts(policy, method),
        "timeout": policy.total_s,
        "wait_jitter": 0,
    }
