"""The retry policy, on stamina: which failures to retry and how long to wait before the next try.

stamina runs the loop (attempt cap, total-time cap, sleeping the sync or async way); this module
decides. A retryable status comes back as a `RetryableStatus` exception so that stamina sees
it like a dropped connection; if the last try still gets one, it becomes an ordinary result.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timezone
from typing import Any, TypeVar

import stamina

from fetcher.classify import classify
from fetcher.config import Retries
from fetcher.models import ErrorKind

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


def check_status(policy: Retries, status: int, nbytes: int, retry_after: str | None) -> None:
    """Raise RetryableStatus when the policy retries this status."""
    if status in policy.statuses:
        raise RetryableStatus(status, nbytes, retry_after)


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


def make_decider(policy: Retries) -> Callable[[Exception], bool | float]:
    """stamina's backoff hook for one URL: False to give up, else the seconds to wait."""
    deadline = time.monotonic() + policy.total_s
    retries = 0

    def decide(exc: Exception) -> bool | float:
        nonlocal retries
        if not isinstance(exc, RetryableStatus) and classify(exc) not in RETRYABLE_KINDS:
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


@dataclass
class Tries:
    """How many times a request was sent; read it whether the call succeeded or raised."""

    count: int = 0


def call(policy: Retries, attempt: Callable[[], T], tries: Tries, method: str = "GET") -> T:
    """`attempt()` until it succeeds or the policy gives up (then its last error is raised).

    The first try runs bare: stamina (on tenacity) costs about 100 µs per call, as much as a
    whole request to a nearby server, so it takes over only once a try has failed.
    """
    decide = make_decider(policy)
    tries.count = 1
    try:
        return attempt()
    except Exception as exc:
        wait_s = decide(exc)
        if wait_s is False or _attempts(policy, method) < 2:
            raise
    time.sleep(wait_s)
    for each in stamina.retry_context(**_rest(policy, method, decide)):
        with each:
            tries.count += 1
            return attempt()
    raise AssertionError("stamina ends by returning or raising")  # pragma: no cover


async def acall(
    policy: Retries, attempt: Callable[[], Awaitable[T]], tries: Tries, method: str = "GET"
) -> T:
    """The async twin of `call`: its waits are `asyncio.sleep`, not `time.sleep`."""
    decide = make_decider(policy)
    tries.count = 1
    try:
        return await attempt()
    except Exception as exc:
        wait_s = decide(exc)
        if wait_s is False or _attempts(policy, method) < 2:
            raise
    await asyncio.sleep(wait_s)
    async for each in stamina.retry_context(**_rest(policy, method, decide)):
        with each:
            tries.count += 1
            return await attempt()
    raise AssertionError("stamina ends by returning or raising")  # pragma: no cover


def _attempts(policy: Retries, method: str) -> int:
    """Tries allowed in all: only idempotent requests are sent more than once."""
    return policy.attempts if method in IDEMPOTENT_METHODS else 1


def _rest(policy: Retries, method: str, decide: Callable[[Exception], bool | float]) -> Any:
    """stamina's settings for the tries after the first (the decider keeps the time budget)."""
    return {
        "on": decide,
        "attempts": _attempts(policy, method) - 1,
        "timeout": policy.total_s,
        "wait_jitter": 0,
    }
