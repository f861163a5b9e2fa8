"""`fetcher load --dask`: one generator per worker of a real LocalCluster of two processes,
their counts and histograms merged on the client."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from fetcher.load import LoadConfig, run_load
from mock_server import MockServer
from tests.conftest import FETCHER, WAIT_S, dask_cluster, run_fetcher, start, wait_until

pytest.importorskip("distributed", reason="the dask tests need the dask extra")


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """One LocalCluster of two single-threaded worker processes for this module."""
    with dask_cluster(workers=2) as address:
        yield address


def items(server: MockServer, count: int = 10) -> tuple[str, ...]:
    """URLs of `count` items on `server`."""
    return tuple(server.url_for(f"/items/{i}?latency=5ms") for i in range(count))


def test_merged_counts_are_the_sum_of_the_workers(fresh_server: MockServer, scheduler: str) -> None:
    """Closed model, 300 requests: two generators, each a part; the merged counts, histogram
    and statuses add up to theirs, and the server saw exactly as many."""
    config = LoadConfig(
        urls=items(fresh_server), concurrency=4, requests=301, dask=True, scheduler=scheduler
    )
    result = run_load(config)
    assert len(result.per_process) == 2
    assert all(part > 0 for part in result.per_process)
    assert result.requests == sum(result.per_process) == 301
    assert result.latency.get_total_count() == 301
    assert result.status == {200: 301}
    assert fresh_server.stats()["requests"] == 301
    assert len(result.hosts) == 2


def test_open_model_rate_is_split_over_the_workers(
    fresh_server: MockServer, scheduler: str
) -> None:
    """200/s for 1.5 s on two workers: each sends about half, the server about 300 in all."""
    config = LoadConfig(
        urls=items(fresh_server), rate=200, duration_s=1.5, dask=True, scheduler=scheduler
    )
    result = run_load(config)
    sent = fresh_server.stats()["requests"]
    assert 250 <= sent <= 310
    low, high = sorted(result.per_process)
    assert low >= 0.8 * high


def test_the_report_says_workers_hosts_and_per_worker_rates(
    server: MockServer, scheduler: str, tmp_path: Path
) -> None:
    """The command line, on the cluster: the JSON report's dask block matches its totals."""
    report = tmp_path / "load.json"
    done = run_fetcher(
        "load",
        server.url_for("/items/1"),
        "--dask",
        "--scheduler",
        scheduler,
        "-n",
        "200",
        "-c",
        "4",
        "--json",
        str(report),
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(report.read_text())
    assert data["dask"]["workers"] == 2
    assert data["dask"]["hosts"] == 1
    per_worker = data["dask"]["per_worker"]
    assert sum(w["requests"] for w in per_worker) == data["requests"] == 200
    assert all(w["requests_per_s"] > 0 for w in per_worker)
    assert "2 workers on 1 host(s)" in done.stdout


def test_scheduler_without_dask_is_a_usage_error() -> None:
    """--scheduler alone would be ignored: refused in one line."""
    done = run_fetcher("load", "http://127.0.0.1:9/", "--scheduler", "tcp://127.0.0.1:1")
    assert done.returncode == 2
    assert done.stderr.strip().endswith(
        "--scheduler names the Dask scheduler of --dask; add --dask"
    )


def test_sigterm_stops_the_run_with_143(fresh_server: MockServer, scheduler: str) -> None:
    """SIGTERM on `fetcher load --dask` stops it as on one machine: the report of what was
    measured, and 128 + SIGTERM."""
    url = fresh_server.url_for("/items/1?latency=5ms")
    process = start([*FETCHER, "load", url, "--dask", "--scheduler", scheduler, "-z", "60s"])
    try:

        def sending() -> bool:
            assert process.poll() is None, process.communicate()
            return fresh_server.stats()["requests"] > 0

        wait_until(sending, "the generators' first requests")
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=WAIT_S)
    finally:
        process.kill()
    assert process.returncode == 143, stderr
    assert "Traceback" not in stderr
