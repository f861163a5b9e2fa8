"""Shared fixtures and helpers: a real mock server on 127.0.0.1, fetch runners, waiting on events.

Helpers here are imported by the tests (`from tests.conftest import fetch`): the tests directory
is a package, so this module is imported once under one name.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import psutil
import pytest
from hypothesis import settings

from fetcher import FetchConfig, FetchResult
from fetcher.compare.summary import RunSummary
from fetcher.strategies import STRATEGIES, get_strategy
from mock_server import MockServer, launch

# Property tests draw the same cases on every run, so CI runs what the developer ran; draw new
# ones on purpose with `pytest --hypothesis-profile=explore` (and add what fails as an @example).
settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile("repeatable")

# Every strategy the registry knows: shared tests run each of them, whatever is added later.
ALL_STRATEGIES = list(STRATEGIES)
# How long a test waits for something it can observe before it fails.
WAIT_S = 30.0
# `python -m fetcher`, for tests that run the command line as a user would.
FETCHER = [sys.executable, "-m", "fetcher"]


@pytest.fixture(scope="session")
def server() -> Iterator[MockServer]:
    """One mock server for the whole session, with no injected behaviour.

    Tests that need latency or faults ask for them per request (`?latency=50ms`); tests that read
    `/stats` use `fresh_server`, since other tests share this one's counters.
    """
    with launch(seed=1) as running:
        yield running


@pytest.fixture
def fresh_server() -> Iterator[MockServer]:
    """A mock server of this test's own, so its `/stats` count only this test's requests."""
    with launch(seed=1) as running:
        yield running


@pytest.fixture(scope="session")
def tls_server() -> Iterator[MockServer]:
    """One HTTPS mock server for the session; `ca_path` is the CA bundle that trusts it."""
    with launch(seed=1, tls=True) as running:
        yield running


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fetch(strategy: str, urls: Sequence[str], config: FetchConfig) -> list[FetchResult]:
    """Every result one strategy hands back, in completion order."""
    results: list[FetchResult] = []
    get_strategy(strategy).run(list(urls), config, results.append)
    return results


def assert_one_per_url(results: Sequence[FetchResult], urls: Sequence[str]) -> None:
    """Exactly one result per input URL: indices complete, none doubled, URLs matched."""
    assert sorted(r.index for r in results) == list(range(len(urls)))
    assert all(r.url == urls[r.index] for r in results)


# Ctrl-C, what CI runners, systemd, Docker and Kubernetes send, and a closed terminal's hang-up,
# with the exit status each must give: 128 + the signal's number.
STOPS = [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)]


def family(process: subprocess.Popen[str]) -> list[psutil.Process]:
    """The process and every descendant it has now."""
    parent = psutil.Process(process.pid)
    return [parent, *parent.children(recursive=True)]


def assert_all_gone(processes: list[psutil.Process], timeout_s: float = 5.0) -> None:
    """None of the processes is still running (a moment is allowed for them to exit)."""
    _, alive = psutil.wait_procs(processes, timeout=timeout_s)
    for each in alive:
        each.kill()
    assert alive == []


def ctrl_c_ends_quietly(process: subprocess.Popen[str], gone_within_s: float = 5.0) -> None:
    """A terminal's Ctrl-C, SIGINT to the whole group of `process` (started in a session of
    its own): it exits 130 with no traceback, and nothing it started is left running."""
    started = family(process)
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=WAIT_S)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert_all_gone(started, gone_within_s)


def wait_until(condition: Callable[[], object], what: str, timeout_s: float = WAIT_S) -> None:
    """Poll `condition` until it is true; fail naming `what` if it never is."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def _sigint_default() -> None:
    """In the child, before exec: Ctrl-C does what it does in a terminal."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(argv: Sequence[str], **options: Any) -> subprocess.Popen[str]:
    """Start a command as a terminal would: SIGINT at its default, even when the suite runs as a
    background job (whose children inherit an ignored SIGINT, and would never see a Ctrl-C)."""
    return subprocess.Popen(
        list(argv),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_sigint_default,
        **options,
    )


def run_fetcher(
    *args: str,
    stdin: str | None = None,
    cwd: str | None = None,
    timeout_s: float = 180,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `python -m fetcher ARGS` as a user would, to its end, capturing what it prints."""
    return subprocess.run(
        [*FETCHER, *args],
        input=stdin,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


@contextlib.contextmanager
def dask_cluster(workers: int = 2) -> Iterator[str]:
    """A LocalCluster of `workers` single-threaded worker processes on 127.0.0.1, as the dask
    strategy starts one (forked from a forkserver, so no `spawn_main` child of this process is
    taken for another strategy's worker), closed when the block ends; yields its address."""
    pytest.importorskip("distributed", reason="the dask tests need the dask extra")
    from fetcher.cluster import local_cluster

    with local_cluster(workers, "the dask tests") as cluster:
        yield str(cluster.scheduler_address)


def summary(strategy: str, wall_s: float = 1.0, **fields: Any) -> RunSummary:
    """A fabricated RunSummary: a plain run of 100 requests, with the fields a test names."""
    values: dict[str, Any] = {
        "strategy": strategy,
        "requests": 100,
        "ok": 100,
        "failed": 0,
        "wall_s": wall_s,
        "requests_per_s": 100 / wall_s,
        "p50_ms": 100.0,
        "p95_ms": 100.0,
        "p99_ms": 100.0,
        "cpu_s": 0.1,
        "peak_rss_bytes": 50 * 1024 * 1024,
        "workers": 1,
        "startup_s": 0.0,
        "server_peak_in_flight": None,
        "ideal_s": None,
        "efficiency": None,
    }
    return RunSummary(**{**values, **fields})
