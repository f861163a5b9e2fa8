"""Retry storm: jittered backoff finishes a rate-limited batch with fewer calls than plain backoff.

A batch much larger than the server's rate limit arrives at once. Most requests get 429 with
Retry-After; the clients wait and come back. With plain exponential backoff they all come back
at the same moment and most are refused again; with full jitter they spread out and more get
through each time. The server's /stats counts every call.

    flock /tmp/fetcher-bench.lock .venv/bin/python scripts/bench_retry_storm.py
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections import Counter

from _bench import exit_on_sigterm

from fetcher.config import FetchConfig, Retries, Timeouts
from fetcher.models import FetchResult
from fetcher.strategies import get_strategy
from mock_server import MockServer, launch

RETRIES = Retries(
    attempts=30, backoff_initial_s=0.5, backoff_max_s=4.0, total_s=120.0, retry_after_max_s=5.0
)


@dataclasses.dataclass(frozen=True)
class StormRun:
    """What one run cost: calls the server counted, results by outcome, wall time."""

    jitter: bool
    calls: int
    outcomes: Counter[str]
    wall_s: float


def storm(
    server: MockServer, strategy: str, count: int, rate: float, jitter: bool, concurrency: int
) -> StormRun:
    """Fetch `count` URLs limited to `rate` per second at the server; count the calls."""
    urls = [server.url_for(f"/items/{i}?rate-limit={rate:g}") for i in range(count)]
    config = FetchConfig(
        concurrency=concurrency,
        processes=2,
        timeouts=Timeouts(connect_s=5, read_s=10, total_s=20),
        retries=dataclasses.replace(RETRIES, jitter=jitter),
    )
    results: list[FetchResult] = []
    server.reset_stats()
    time.sleep(1.5)  # let the server's token bucket refill between runs
    start = time.perf_counter()
    get_strategy(strategy).run(urls, config, results.append)
    wall_s = time.perf_counter() - start
    outcomes = Counter("ok" if r.ok else f"{r.error}:{r.status}" for r in results)
    return StormRun(jitter, server.stats()["requests"], outcomes, wall_s)


def main() -> None:
    """Run the storm with and without jitter and print both."""
    exit_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200, help="URLs in the batch")
    parser.add_argument("--rate", type=float, default=50.0, help="server's limit, requests/s")
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--strategy", default="asyncio-aiohttp")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{args.count} URLs, {args.strategy}, server limit {args.rate:g}/s, {RETRIES}")
    with launch(seed=1) as server:
        for round_ in range(1, args.repeat + 1):
            for jitter in (False, True):
                run = storm(server, args.strategy, args.count, args.rate, jitter, args.concurrency)
                label = "full jitter" if jitter else "no jitter  "
                print(
                    f"round {round_}  {label}  calls {run.calls:5d}  "
                    f"({run.calls / args.count:.2f} per URL)  {run.wall_s:5.1f} s  "
                    f"{dict(run.outcomes)}"
                )


if __name__ == "__main__":
    main()
