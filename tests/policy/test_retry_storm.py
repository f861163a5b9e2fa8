"""The retry storm: against the server's rate limit, jittered backoff needs fewer calls."""

from __future__ import annotations

import dataclasses
import time

from fetcher.config import FetchConfig, Retries, Timeouts
from fetcher.models import FetchResult
from fetcher.strategies import get_strategy
from mock_server import MockServer

# 60 URLs at once against 20 requests/s: two or three rounds of 429s, a few seconds a run.
COUNT = 60
RATE = 20
RETRIES = Retries(attempts=30, backoff_initial_s=0.5, backoff_max_s=4.0, retry_after_max_s=5.0)


def calls_to_finish(server: MockServer, jitter: bool) -> int:
    """Calls the server counted for the whole batch to succeed."""
    urls = [server.url_for(f"/items/{i}?rate-limit={RATE}") for i in range(COUNT)]
    config = FetchConfig(
        concurrency=COUNT,
        timeouts=Timeouts(connect_s=5, read_s=10, total_s=20),
        retries=dataclasses.replace(RETRIES, jitter=jitter),
    )
    results: list[FetchResult] = []
    server.reset_stats()
    time.sleep(1.2)  # a full token bucket for each run
    get_strategy("asyncio-aiohttp").run(urls, config, results.append)
    assert len(results) == COUNT and all(r.ok for r in results)
    return int(server.stats()["requests"])


def test_jittered_backoff_needs_fewer_calls_than_plain(fresh_server: MockServer) -> None:
    """Full jitter spreads the retries out, so fewer are refused than with lockstep backoff."""
    plain = calls_to_finish(fresh_server, jitter=False)
    jittered = calls_to_finish(fresh_server, jitter=True)
    assert jittered < plain, (jittered, plain)
