"""The dask strategy on real LocalClusters of two worker processes: chunks, a worker killed
mid-chunk, Ctrl-C, and a scheduler that is not there.

The shared strategy tests (faults, policy, TLS, concurrency) run it too, through the registry.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from fetcher import FetchConfig, FetchResult
from fetcher.strategies import on_dask
from mock_server import MockServer
from tests.conftest import (
    FETCHER,
    STOPS,
    WAIT_S,
    assert_all_gone,
    assert_one_per_url,
    closed_port,
    ctrl_c_ends_quietly,
    dask_cluster,
    family,
    fetch,
    run_fetcher,
    start,
    wait_until,
)

distributed = pytest.importorskip("distributed", reason="the dask tests need the dask extra")


@pytest.fixture
def own_cluster() -> Iterator[str]:
    """A LocalCluster for a test that harms it (kills a worker)."""
    with dask_cluster(workers=2) as address:
        yield address


def test_chunks_cover_the_batch_and_spread_over_the_threads() -> None:
    """Chunk sizes: every thread gets work on a small batch, a big one is cut in steps."""
    assert on_dask.chunk_size(16, slots=2, concurrency=4) == 8
    assert on_dask.chunk_size(20_000, slots=2, concurrency=100) == 2_000
    assert on_dask.chunk_size(1, slots=8, concurrency=100) == 1


def test_one_result_per_url_from_the_cluster_workers(
    server: MockServer, shared_scheduler: str
) -> None:
    """Several chunks per worker, at most a window of them in flight: every URL once, answered
    by the cluster's worker processes, not this one."""
    urls = [server.url_for(f"/items/{i}?latency=5ms") for i in range(1_200)]
    config = FetchConfig(concurrency=5, processes=2, scheduler=shared_scheduler)
    results = fetch("dask", urls, config)
    assert_one_per_url(results, urls)
    assert all(r.ok for r in results)
    workers = {r.worker.split("/task-")[0] for r in results}
    assert len(workers) == 2
    assert not any(f"pid-{os.getpid()}/" in w for w in workers)
    # 1,200 URLs in chunks of 500 at most: three chunks, the last one short.
    assert len({(r.index // 500) for r in results}) == 3


def test_a_worker_killed_mid_chunk_loses_and_doubles_nothing(
    fresh_server: MockServer, own_cluster: str
) -> None:
    """SIGKILL to a worker while its chunk is half done: Dask runs the chunk again on a worker
    that lives, and the output still holds exactly one result per URL, all answered."""
    urls = [fresh_server.url_for(f"/items/{i}?latency=300ms") for i in range(24)]
    config = FetchConfig(concurrency=2, processes=2, scheduler=own_cluster)
    client = distributed.Client(own_cluster, set_as_default=False)
    try:
        pids = list(client.run(os.getpid).values())
    finally:
        client.close()
    assert len(pids) == 2
    killer = threading.Thread(target=_kill_when_busy, args=(fresh_server, pids[0]), daemon=True)
    killer.start()
    results: list[FetchResult] = fetch("dask", urls, config)
    killer.join(WAIT_S)
    assert_one_per_url(results, urls)
    assert Counter(r.ok for r in results) == {True: len(urls)}
    # The killed chunk's requests were sent again: the server saw more requests than URLs.
    assert fresh_server.stats()["requests"] > len(urls)


def _kill_when_busy(server: MockServer, pid: int) -> None:
    """Once both workers have answered a few requests (their chunks are half-way), kill one."""
    wait_until(lambda: server.stats()["requests"] >= 8, "both chunks under way")
    os.kill(pid, signal.SIGKILL)


def test_an_unreachable_scheduler_is_one_line_within_15_seconds(tmp_path: Path) -> None:
    """Nothing listens there: exit 2, one line naming the address, well before a hang."""
    urls_file = tmp_path / "urls.txt"
    urls_file.write_text("http://127.0.0.1:9/a\n")
    address = f"tcp://127.0.0.1:{closed_port()}"
    started = time.monotonic()
    done = run_fetcher(
        "fetch",
        str(urls_file),
        "--strategy",
        "dask",
        "--scheduler",
        address,
        "--quiet",
        timeout_s=30,
    )
    assert time.monotonic() - started < 15
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"fetcher fetch: error: cannot reach the Dask scheduler at {address}: "
        "nothing answered in 8 s"
    ]


def start_half_hung_run(
    server: MockServer, tmp_path: Path
) -> tuple[subprocess.Popen[str], Path, list[psutil.Process]]:
    """`fetcher fetch --strategy dask` on a LocalCluster started by the run, once its first chunk
    of 30 is written and the second chunk's 15 hanging URLs are in flight at the server; the
    process, its results file and its family (itself and its workers)."""
    urls = [server.url_for(f"/items/{i}") for i in range(30)]
    urls += [
        server.url_for(f"/items/{i}" + ("?faults=hang=1" if i % 2 else "")) for i in range(30, 60)
    ]
    urls_file = tmp_path / "urls.txt"
    urls_file.write_text("\n".join(urls) + "\n")
    out = tmp_path / "results.jsonl"
    argv = [*FETCHER, "fetch", str(urls_file), "--out", str(out), "--quiet"]
    argv += ["--strategy", "dask", "--processes", "2", "--concurrency", "30"]
    argv += ["--read-timeout", "60s", "--attempts", "1"]
    env = {k: v for k, v in os.environ.items() if k != "DASK_SCHEDULER_ADDRESS"}
    process = start(argv, env=env)
    try:

        def written() -> bool:
            assert process.poll() is None, process.communicate()
            stats = server.stats()
            answered = stats["requests"] == 60 and stats["in_flight"] == 15
            return answered and out.exists() and len(out.read_text().splitlines()) >= 30

        wait_until(written, "the first chunk written, the second's 15 hung", timeout_s=60)
        started = family(process)
    except BaseException:
        process.kill()
        raise
    assert len(started) >= 3  # this process and its two workers at least
    return process, out, started


@pytest.mark.parametrize(("signum", "code"), STOPS, ids=lambda v: getattr(v, "name", str(v)))
def test_a_stop_signal_keeps_every_finished_result_and_exits_128_plus_it(
    fresh_server: MockServer, tmp_path: Path, signum: signal.Signals, code: int
) -> None:
    """The first chunk completes; in the second, every other URL hangs. A stop signal writes
    the first chunk's 30 results and the second's 15 finished ones, no more, exits 128+N and
    leaves no worker."""
    process, out, started = start_half_hung_run(fresh_server, tmp_path)
    try:
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=WAIT_S)
    finally:
        process.kill()
    assert process.returncode == code, stderr
    indices = sorted(
        int(line.split('"index":')[1].split(",")[0]) for line in out.read_text().splitlines()
    )
    assert indices == list(range(30)) + list(range(30, 60, 2))
    assert "interrupted" in stderr
    assert_all_gone(started, timeout_s=10)


def test_the_cluster_exits_when_fetcher_is_killed(fresh_server: MockServer, tmp_path: Path) -> None:
    """SIGKILL on `fetcher fetch` runs no cleanup: the LocalCluster's worker processes notice
    their parent is gone and exit within seconds."""
    process, _, started = start_half_hung_run(fresh_server, tmp_path)
    process.kill()
    process.communicate(timeout=WAIT_S)
    assert_all_gone(started, timeout_s=10)


def test_ctrl_c_while_the_cluster_starts_prints_no_traceback(
    server: MockServer, tmp_path: Path
) -> None:
    """A terminal's Ctrl-C reaches the whole group while the LocalCluster's workers start: the
    run exits 130 with no traceback from any of them, and leaves no process behind."""
    urls_file = tmp_path / "urls.txt"
    urls_file.write_text("".join(server.url_for(f"/items/{i}\n") for i in range(50)))
    argv = [*FETCHER, "fetch", str(urls_file), "--out", os.devnull, "--quiet"]
    argv += ["--strategy", "dask", "--processes", "2"]
    env = {k: v for k, v in os.environ.items() if k != "DASK_SCHEDULER_ADDRESS"}
    process = start(argv, env=env, start_new_session=True)
    try:

        def workers_starting() -> bool:
            assert process.poll() is None, process.communicate()
            return len(psutil.Process(process.pid).children(recursive=True)) >= 3

        wait_until(workers_starting, "the forkserver and two workers", timeout_s=60)
        ctrl_c_ends_quietly(process, gone_within_s=10)
    finally:
        process.kill()


def test_without_the_extra_fetch_names_it_in_one_line(tmp_path: Path) -> None:
    """With `distributed` not importable, --strategy dask stops before any request: one line
    naming the dask extra, exit 2, and no results file written."""
    blocked = tmp_path / "blocked" / "distributed"
    blocked.mkdir(parents=True)
    (blocked / "__init__.py").write_text("raise ImportError('not installed')\n")
    urls_file = tmp_path / "urls.txt"
    urls_file.write_text("http://127.0.0.1:9/a\n")
    env = {**os.environ, "PYTHONPATH": str(blocked.parent)}
    out = tmp_path / "results.jsonl"
    done = run_fetcher(
        "fetch", str(urls_file), "--strategy", "dask", "--out", str(out), env=env, timeout_s=60
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "the dask strategy needs the 'dask' extra" in lines[0]
    assert "pip install -e '.[dask]'" in lines[0]
    assert not out.exists()


def test_fetch_writes_one_line_per_url_and_resume_fills_the_rest(
    server: MockServer, shared_scheduler: str, tmp_path: Path
) -> None:
    """`fetcher fetch --strategy dask --out` on a LocalCluster of its own: a line per URL, all
    OK; cut short, `--resume` on a running scheduler fetches only what is missing."""
    urls = [server.url_for(f"/items/{i}") for i in range(120)]
    urls_file = tmp_path / "urls.txt"
    urls_file.write_text("\n".join(urls) + "\n")
    out = tmp_path / "r.jsonl"
    env = {k: v for k, v in os.environ.items() if k != "DASK_SCHEDULER_ADDRESS"}
    flags = ["--strategy", "dask", "--processes", "2", "--quiet"]
    done = run_fetcher("fetch", str(urls_file), *flags, "--out", str(out), env=env)
    assert done.returncode == 0, done.stderr
    # The summary and nothing else: no log line or traceback from the cluster as it closes.
    assert len(done.stderr.splitlines()) == 1 and "results in" in done.stderr, done.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["index"] for r in records) == list(range(120))
    assert all(r["status"] == 200 and r["error"] is None for r in records)
    kept = [line for line in out.read_text().splitlines() if json.loads(line)["index"] % 3]
    out.write_text("\n".join(kept) + "\n")
    resumed = run_fetcher(
        "fetch", str(urls_file), *flags, "--resume", str(out), "--scheduler", shared_scheduler
    )
    assert resumed.returncode == 0, resumed.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["index"] for r in records) == list(range(120))
    assert "(80 already fetched, skipped)" in resumed.stderr
