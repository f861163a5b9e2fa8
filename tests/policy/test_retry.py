"""The retry policy on its own: Retry-After read, backoff drawn, and stamina owning every retry."""

from __future__ import annotations

import email.utils
from collections.abc import Iterator

import pytest
import stamina
import stamina.instrumentation

from fetcher import ErrorKind, FetchConfig
from fetcher.config import Retries
from fetcher.policy.retry import backoff_s, retry_after_s
from fetcher.strategies import STRATEGIES
from mock_server import MockServer
from tests.conftest import fetch


def test_retry_after_reads_seconds_and_http_dates() -> None:
    """Retry-After is delta-seconds or an HTTP date; anything else falls back to backoff (None)."""
    now = 1_800_000_000.0
    assert retry_after_s("7", now) == 7.0
    assert retry_after_s(email.utils.formatdate(now + 30, usegmt=True), now) == 30.0
    assert retry_after_s(email.utils.formatdate(now - 30, usegmt=True), now) == 0.0
    assert retry_after_s("soon", now) is None
    assert retry_after_s(None, now) is None


def test_backoff_is_exponential_capped_and_fully_jittered() -> None:
    """Without jitter the backoff doubles up to its cap; with it, it is drawn from 0 up to that."""
    plain = Retries(backoff_initial_s=0.1, backoff_max_s=0.5, jitter=False)
    assert [backoff_s(plain, n) for n in (1, 2, 3, 4)] == [0.1, 0.2, 0.4, 0.5]
    jittered = Retries(backoff_initial_s=0.1, backoff_max_s=0.5)
    draws = [backoff_s(jittered, 3) for _ in range(200)]
    assert all(0 <= d <= 0.4 for d in draws)
    assert len(set(draws)) > 100


@pytest.fixture
def retries_seen() -> Iterator[list[stamina.instrumentation.RetryDetails]]:
    """stamina's on-retry hooks pointed at a list for this test, restored after."""
    seen: list[stamina.instrumentation.RetryDetails] = []
    before = stamina.instrumentation.get_on_retry_hooks()
    stamina.instrumentation.set_on_retry_hooks([seen.append])
    try:
        yield seen
    finally:
        stamina.instrumentation.set_on_retry_hooks(before)


# Strategies whose retries run in this process, where stamina's hooks and testing mode live.
IN_PROCESS = [t.name for t in STRATEGIES.values() if not t.multiprocess]
QUICK = Retries(attempts=3, backoff_initial_s=0.001, backoff_max_s=0.002)


@pytest.mark.parametrize("strategy", IN_PROCESS)
def test_stamina_sees_every_retry_the_first_included(
    server: MockServer, strategy: str, retries_seen: list[stamina.instrumentation.RetryDetails]
) -> None:
    """A URL reset on every try is sent 3 times; stamina's hooks hear of both retries."""
    url = server.url_for("/items/1?faults=reset=1")
    results = fetch(strategy, [url], FetchConfig(retries=QUICK))
    assert [(r.error, r.attempts) for r in results] == [(ErrorKind.CONNECTION_RESET, 3)]
    assert [details.retry_num for details in retries_seen] == [1, 2]


@pytest.mark.parametrize("strategy", IN_PROCESS)
def test_stamina_testing_mode_caps_every_retry(server: MockServer, strategy: str) -> None:
    """`stamina.set_testing(True, attempts=1)` leaves one try in all: no retry escapes stamina."""
    url = server.url_for("/items/1?faults=reset=1")
    with stamina.set_testing(True, attempts=1):
        results = fetch(strategy, [url], FetchConfig(retries=QUICK))
    assert [(r.error, r.attempts) for r in results] == [(ErrorKind.CONNECTION_RESET, 1)]


@pytest.mark.parametrize("strategy", IN_PROCESS)
def test_a_failure_not_worth_retrying_is_tried_once(
    server: MockServer, strategy: str, retries_seen: list[stamina.instrumentation.RetryDetails]
) -> None:
    """A body over the cap will not shrink on a second try: one try, and stamina never hears."""
    url = server.url_for("/bytes/5000")
    results = fetch(strategy, [url], FetchConfig(retries=QUICK, max_body_bytes=1000))
    assert [(r.error, r.attempts) for r in results] == [(ErrorKind.BODY_TOO_LARGE, 1)]
    assert retries_seen == []
