"""The baseline: one requests.Session and a plain loop, one request at a time."""

from __future__ import annotations

from collections.abc import Collection

from fetcher.config import FetchConfig
from fetcher.models import OnResult
from fetcher.policy.limits import Throttle
from fetcher.strategies.base import Job, clock
from fetcher.strategies.requests_http import fetch_one, new_session

WORKER = "main"


def run(
    urls: Collection[str], config: FetchConfig, on_result: OnResult, t0: float | None = None
) -> None:
    """Fetch each URL in turn; the session keeps one connection alive between them."""
    t0 = clock() if t0 is None else t0
    throttle = Throttle(config.limits)
    with new_session(config) as session:
        for index, url in enumerate(urls):
            on_result(fetch_one(session, Job(index, url, WORKER, t0), config, throttle))
