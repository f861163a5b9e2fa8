"""hybrid's own promises: URLs split evenly over its processes, and a killed process loses none."""

from __future__ import annotations

import signal
import threading
from collections import Counter

import psutil

from fetcher.config import FetchConfig
from fetcher.models import ErrorKind, FetchResult
from mock_server import MockServer
from tests.conftest import assert_one_per_url, fetch, wait_until


def test_every_url_gets_one_result_from_one_of_the_processes(server: MockServer) -> None:
    """All URLs answered once, split evenly over two processes, each result naming its task."""
    urls = [server.url_for(f"/items/{i}") for i in range(41)]
    results = fetch("hybrid", urls, FetchConfig(concurrency=4, processes=2))
    assert_one_per_url(results, urls)
    assert all(r.ok and r.status == 200 for r in results)
    per_process = Counter(r.worker.split("/")[0] for r in results)
    assert sorted(per_process.values()) == [20, 21]
    assert all(r.worker.startswith("pid-") and "/task-" in r.worker for r in results)
    assert all(0 <= r.started_s <= r.ended_s for r in results)


def test_a_killed_worker_leaves_worker_died_results_not_gaps(fresh_server: MockServer) -> None:
    """A worker process killed mid-batch: its unanswered URLs come back as worker_died."""
    urls = [fresh_server.url_for(f"/items/{i}?latency=1s") for i in range(20)]
    killer = threading.Thread(target=_kill_one_worker, args=(fresh_server, 4), daemon=True)
    killer.start()
    results: list[FetchResult] = fetch("hybrid", urls, FetchConfig(concurrency=2, processes=2))
    killer.join()
    assert_one_per_url(results, urls)
    kinds = Counter(r.error for r in results)
    assert kinds[ErrorKind.WORKER_DIED] > 0
    assert kinds[None] > 0


def _kill_one_worker(server: MockServer, in_flight: int) -> None:
    """Once the server sees every task of both workers waiting on it, kill one worker."""
    wait_until(lambda: server.stats()["in_flight"] >= in_flight, "both workers' first requests")
    workers = [
        child for child in psutil.Process().children() if "spawn_main" in " ".join(child.cmdline())
    ]
    workers[0].send_signal(signal.SIGKILL)
