"""The hybrid strategy (processes x asyncio) under the invariants every strategy keeps."""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter

import psutil

from fetcher.compare import workers_for
from fetcher.config import FetchConfig
from fetcher.models import ErrorKind, FetchResult
from fetcher.strategies import STRATEGIES, get_strategy
from mock_server import MockServer

KILL_WAIT_S = 20.0


def run_hybrid(urls: list[str], **config: int) -> list[FetchResult]:
    """Fetch with hybrid, collecting results in completion order."""
    results: list[FetchResult] = []
    get_strategy("hybrid").run(urls, FetchConfig(**config), results.append)
    return results


def assert_complete(results: list[FetchResult], urls: list[str]) -> None:
    """Exactly one result per input URL, each matched to its index."""
    assert sorted(r.index for r in results) == list(range(len(urls)))
    assert all(r.url == urls[r.index] for r in results)


def test_hybrid_is_registered() -> None:
    """hybrid is a strategy like the others, and compare counts processes x tasks as workers."""
    assert "hybrid" in STRATEGIES
    assert get_strategy("hybrid").NAME == "hybrid"
    assert workers_for("hybrid", FetchConfig(concurrency=10, processes=2), 1000) == 20
    assert workers_for("hybrid", FetchConfig(concurrency=10, processes=2), 5) == 5


def test_every_url_gets_one_result_from_one_of_the_processes(server: MockServer) -> None:
    """All URLs answered once, split evenly over two processes, each result naming its task."""
    urls = [server.url_for(f"/items/{i}") for i in range(41)]
    results = run_hybrid(urls, concurrency=4, processes=2)
    assert_complete(results, urls)
    assert all(r.ok and r.status == 200 for r in results)
    per_process = Counter(r.worker.split("/")[0] for r in results)
    assert sorted(per_process.values()) == [20, 21]
    assert all(r.worker.startswith("pid-") and "/task-" in r.worker for r in results)
    assert all(0 <= r.started_s <= r.ended_s for r in results)


def test_results_complete_under_errors_and_resets(server: MockServer) -> None:
    """Injected 500s and resets become error results, and no URL is lost or doubled."""
    urls = [server.url_for(f"/items/{i}?error-rate=0.3&faults=reset=0.3") for i in range(60)]
    results = run_hybrid(urls, concurrency=5, processes=2)
    assert_complete(results, urls)
    kinds = Counter(r.error for r in results)
    assert kinds[None] > 0
    # Resets may be retried away (FetchConfig.retries); whatever is left is an error result.
    assert kinds[ErrorKind.HTTP_STATUS] + kinds[ErrorKind.CONNECTION_RESET] > 0
    assert set(kinds) <= {None, ErrorKind.HTTP_STATUS, ErrorKind.CONNECTION_RESET}


def test_server_sees_processes_times_concurrency_in_flight(fresh_server: MockServer) -> None:
    """With a batch big enough and a long latency, P processes x C tasks are all in flight."""
    urls = [fresh_server.url_for(f"/items/{i}?latency=300ms") for i in range(48)]
    results = run_hybrid(urls, concurrency=6, processes=2)
    assert_complete(results, urls)
    assert fresh_server.stats()["peak_in_flight"] == 12


def test_a_killed_worker_leaves_worker_died_results_not_gaps(server: MockServer) -> None:
    """A worker process killed mid-batch: its unanswered URLs come back as worker_died."""
    urls = [server.url_for(f"/items/{i}?latency=1s") for i in range(20)]
    killer = threading.Thread(target=_kill_one_worker, daemon=True)
    killer.start()
    results = run_hybrid(urls, concurrency=2, processes=2)
    killer.join(KILL_WAIT_S)
    assert_complete(results, urls)
    kinds = Counter(r.error for r in results)
    assert kinds[ErrorKind.WORKER_DIED] > 0
    assert kinds[None] > 0


def _kill_one_worker() -> None:
    """Wait until both hybrid workers run, give them time to start requests, then kill one."""
    deadline = time.monotonic() + KILL_WAIT_S
    while time.monotonic() < deadline:
        workers = [
            child
            for child in psutil.Process().children()
            if "spawn_main" in " ".join(child.cmdline())
        ]
        if len(workers) >= 2:
            time.sleep(1.5)
            workers[0].send_signal(signal.SIGKILL)
            return
        time.sleep(0.05)
