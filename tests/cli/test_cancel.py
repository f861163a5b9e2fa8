"""Ctrl-C and a killed worker, on a real `fetcher fetch` subprocess: nothing lost, nothing left."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import psutil
import pytest

from fetcher.strategies import STRATEGIES
from mock_server import MockServer
from tests.conftest import (
    ALL_STRATEGIES,
    FETCHER,
    STOPS,
    WAIT_S,
    assert_all_gone,
    ctrl_c_ends_quietly,
    family,
    start,
    wait_until,
)

FETCH = [*FETCHER, "fetch", "--quiet"]
# Strategies that start worker processes of their own.
MULTIPROCESS = [t.name for t in STRATEGIES.values() if t.multiprocess]
# dask hands results on a chunk at a time, as each chunk completes: with a hung URL in every
# chunk nothing is written before Ctrl-C; and its LocalCluster forks workers from a forkserver
# rather than spawning them. tests/strategies/test_dask.py has its own stop-signal and
# parent-killed tests.
PER_RESULT = [name for name in ALL_STRATEGIES if not STRATEGIES[name].cluster]
SPAWNED = [name for name in MULTIPROCESS if not STRATEGIES[name].cluster]


def start_fetch(tmp_path: Path, urls: list[str], *flags: str) -> tuple[subprocess.Popen[str], Path]:
    """Start `fetcher fetch` on the URLs, writing to a file; return the process and the file."""
    urls_file = tmp_path / "urls.txt"
    urls_file.write_text("\n".join(urls) + "\n")
    out = tmp_path / "results.jsonl"
    return start([*FETCH, str(urls_file), "--out", str(out), *flags]), out


def lines(path: Path) -> list[dict[str, Any]]:
    """The JSON records of a results file; every line must parse."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def wait_for_results(process: subprocess.Popen[str], out: Path, count: int) -> None:
    """Wait until the file holds `count` results (the run is under way)."""

    def written() -> bool:
        assert process.poll() is None, process.communicate()
        return len(lines(out)) >= count

    wait_until(written, f"{count} results in {out.name}")


def workers(process: subprocess.Popen[str]) -> list[psutil.Process]:
    """The spawned worker processes among its descendants."""
    found = []
    for child in family(process)[1:]:
        try:
            if any("spawn_main" in part for part in child.cmdline()):
                found.append(child)
        except psutil.NoSuchProcess:
            pass
    return found


def importing_http_stack(worker: psutil.Process) -> bool:
    """True once the worker has loaded the ssl extension: it is importing its HTTP client."""
    try:
        return any("/_ssl." in region.path for region in worker.memory_maps())
    except psutil.Error:
        return False


@pytest.mark.parametrize(("signum", "code"), STOPS, ids=lambda v: getattr(v, "name", str(v)))
@pytest.mark.parametrize("strategy", PER_RESULT)
def test_a_stop_signal_writes_every_finished_result_and_exits_128_plus_it(
    server: MockServer, tmp_path: Path, strategy: str, signum: signal.Signals, code: int
) -> None:
    """SIGINT, SIGTERM or SIGHUP mid-run: exit 128+N at once, whole lines only, a summary, and
    no process left behind."""
    # After the first few, requests hang for minutes: only real cancellation ends the run quickly.
    urls = [server.url_for(f"/items/{i}?latency=100ms") for i in range(5)]
    urls += [server.url_for(f"/items/{i}?latency=100ms&faults=hang=0.3") for i in range(5, 60)]
    flags = ["--strategy", strategy, "--concurrency", "3", "--processes", "2"]
    process, out = start_fetch(tmp_path, urls, *flags, "--read-timeout", "60s")
    try:
        wait_for_results(process, out, 3)
        started = family(process)
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=WAIT_S)
    finally:
        process.kill()
    assert process.returncode == code, stderr
    records = lines(out)
    assert 3 <= len(records) < len(urls)
    assert len({r["index"] for r in records}) == len(records)
    assert "interrupted" in stderr
    assert_all_gone(started)


@pytest.mark.parametrize("strategy", SPAWNED)
def test_ctrl_c_while_workers_start_prints_no_traceback(
    server: MockServer, tmp_path: Path, strategy: str
) -> None:
    """A terminal's Ctrl-C reaches the whole group: workers still importing must stay quiet."""
    urls_file = tmp_path / "urls.txt"
    urls_file.write_text("".join(server.url_for(f"/items/{i}?latency=100ms\n") for i in range(50)))
    argv = [*FETCH, str(urls_file), "--out", os.devnull, "--strategy", strategy, "--processes", "2"]
    process = start(argv, start_new_session=True)
    try:

        def both_importing() -> bool:
            assert process.poll() is None, process.communicate()
            found = workers(process)
            return len(found) == 2 and all(importing_http_stack(w) for w in found)

        # Past the interpreter's start (where SIGINT would kill silently), into their imports.
        wait_until(both_importing, "both workers importing their HTTP client")
        ctrl_c_ends_quietly(process)
    finally:
        process.kill()


def test_killed_worker_turns_its_urls_into_worker_died(server: MockServer, tmp_path: Path) -> None:
    """A worker killed by a signal: the run still completes, unfinished URLs are WORKER_DIED."""
    urls = [server.url_for(f"/items/{i}?latency=200ms") for i in range(20)]
    process, out = start_fetch(tmp_path, urls, "--strategy", "processes", "--processes", "2")
    try:
        wait_for_results(process, out, 1)
        workers = [
            p for p in family(process)[1:] if "resource_tracker" not in " ".join(p.cmdline())
        ]
        os.kill(workers[0].pid, signal.SIGKILL)
        _, stderr = process.communicate(timeout=WAIT_S)
    finally:
        process.kill()
    assert process.returncode == 1, stderr  # some URLs failed (worker died): still a whole run
    records = lines(out)
    assert sorted(r["index"] for r in records) == list(range(len(urls)))
    assert any(r["error"] == "worker_died" for r in records)


@pytest.mark.parametrize("strategy", SPAWNED)
def test_workers_exit_when_their_parent_is_killed(
    server: MockServer, tmp_path: Path, strategy: str
) -> None:
    """SIGKILL on `fetcher fetch` runs no cleanup: its workers notice and exit within seconds."""
    # The first few answer, so the run is under way; the rest hang, so the workers are busy.
    urls = [server.url_for(f"/items/{i}?latency=100ms") for i in range(4)]
    urls += [server.url_for(f"/items/{i}?faults=hang=1") for i in range(4, 60)]
    flags = ["--strategy", strategy, "--processes", "2", "--read-timeout", "60s"]
    process, out = start_fetch(tmp_path, urls, *flags)
    try:
        wait_for_results(process, out, 1)
        started = workers(process)
        assert len(started) == 2
        process.kill()
        process.communicate(timeout=WAIT_S)
    finally:
        process.kill()
    assert_all_gone(started)


def test_load_generators_exit_when_their_parent_is_killed() -> None:
    """`fetcher load -p 2` killed by SIGKILL: its generator processes exit within seconds."""
    process = start([*FETCHER, "load", "-z", "60s", "-p", "2"])
    try:

        def both_started() -> bool:
            assert process.poll() is None, process.communicate()
            return len(workers(process)) >= 2

        wait_until(both_started, "both generator processes")
        started = workers(process)
        process.kill()
        process.communicate(timeout=WAIT_S)
    finally:
        process.kill()
    assert_all_gone(started)
