"""Run several strategies on the same batch and summarise what each cost.

Each run happens in a fresh child process (`fetcher.compare.runner`), so one strategy's imports,
memory and CPU are never charged to another (each strategy imports only its own HTTP client); the
bundled server's counters are reset before each run so its peak of requests in flight, and the
connections and TLS handshakes it counted, belong to that run alone.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Protocol

import psutil

from fetcher.compare.runner import USAGE_KEY
from fetcher.compare.summary import (
    RunSummary,
    StrategyRun,
    against_ideal,
    combine,
    summarize,
    with_speedups,
)
from fetcher.compare.timeline import server_in_flight
from fetcher.config import FetchConfig, config_to_dict
from fetcher.errors import FetcherError
from fetcher.models import FetchResult
from fetcher.strategies import traits_of

MEMORY_SAMPLE_EVERY_S = 0.02
StartHook = Callable[[str, int], None]
ResultHook = Callable[[FetchResult], None]


class StatsSource(Protocol):
    """What compare needs of a server that counts its requests (a `mock_server.MockServer`)."""

    def stats(self) -> dict[str, Any]: ...
    def reset_stats(self) -> None: ...


def run_strategy(
    strategy: str,
    urls_path: Path,
    config: FetchConfig,
    *,
    server: StatsSource | None = None,
    on_result: ResultHook | None = None,
) -> StrategyRun:
    """Run one strategy in a child process and collect what it fetched and used."""
    if server is not None:
        server.reset_stats()
    job = {"strategy": strategy, "urls_path": str(urls_path), "config": config_to_dict(config)}
    results: list[FetchResult] = []
    usage: dict[str, Any] = {}
    argv = [sys.executable, "-m", "fetcher.compare.runner"]
    with _child(argv, json.dumps(job)) as child, _peak_memory(child.pid) as peak:
        assert child.stdout is not None
        for line in child.stdout:
            record = json.loads(line)
            if USAGE_KEY in record:
                usage = record[USAGE_KEY]
                continue
            result = FetchResult.from_json(record)
            results.append(result)
            if on_result is not None:
                on_result(result)
    if not usage:
        raise FetcherError(f"the {strategy} run ended without reporting (exit {child.returncode})")
    seen = {} if server is None else server.stats()
    return StrategyRun(
        strategy=strategy,
        results=results,
        wall_s=usage["wall_s"],
        cpu_s=usage["cpu_s"],
        peak_rss_bytes=max(peak[0], usage["maxrss_bytes"]),
        server_peak_in_flight=seen.get("peak_in_flight"),
        server_connections=seen.get("connections"),
        server_handshakes=seen.get("tls_handshakes"),
        server_in_flight=None if server is None else server_in_flight(seen, usage),
    )


@contextmanager
def _child(argv: list[str], job: str) -> Iterator[subprocess.Popen[str]]:
    """A child process fed `job` on stdin; killed if we leave early (an error or Ctrl-C)."""
    child = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdin is not None
        child.stdin.write(job)
        child.stdin.close()
        yield child
        child.wait()
    finally:
        if child.poll() is None:
            for process in _tree(child.pid):
                process.kill()
            child.wait()
        if child.stdout is not None:
            child.stdout.close()


def _tree(pid: int) -> list[psutil.Process]:
    """A process and its descendants, children first; empty if it is gone."""
    try:
        root = psutil.Process(pid)
        return [*root.children(recursive=True), root]
    except psutil.NoSuchProcess:
        return []


@contextmanager
def _peak_memory(pid: int) -> Iterator[list[int]]:
    """Sample the resident memory of a process tree; yields a one-item list holding the peak."""
    peak = [0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(MEMORY_SAMPLE_EVERY_S):
            total = 0
            for process in _tree(pid):
                with suppress(psutil.Error):
                    total += process.memory_info().rss
            peak[0] = max(peak[0], total)

    sampler = threading.Thread(target=sample, name="memory-sampler", daemon=True)
    sampler.start()
    try:
        yield peak
    finally:
        stop.set()
        sampler.join()


def check_strategies(strategies: Sequence[str]) -> None:
    """Refuse a strategy name the registry does not know, before anything runs."""
    for name in strategies:
        try:
            traits_of(name)
        except ValueError as error:
            raise FetcherError(str(error)) from None


def compare(
    urls: Sequence[str],
    strategies: Sequence[str],
    config: FetchConfig,
    *,
    server: StatsSource | None = None,
    latency_s: float | None = None,
    repeat: int = 1,
    on_start: StartHook | None = None,
    on_result: ResultHook | None = None,
) -> tuple[list[RunSummary], dict[str, StrategyRun]]:
    """Run each strategy `repeat` times on the same URLs; the summaries and each median run."""
    check_strategies(strategies)
    summaries: list[RunSummary] = []
    runs: dict[str, StrategyRun] = {}
    with tempfile.TemporaryDirectory(prefix="fetcher-") as folder:
        urls_path = Path(folder) / "urls.txt"
        urls_path.write_text("\n".join(urls) + "\n", encoding="utf-8")
        for strategy in strategies:
            attempts = []
            for _ in range(repeat):
                if on_start is not None:
                    on_start(strategy, len(urls))
                run = run_strategy(strategy, urls_path, config, server=server, on_result=on_result)
                attempts.append((summarize(run, config, latency_s), run))
            summary = combine([s for s, _ in attempts])
            summaries.append(summary)
            runs[strategy] = min(attempts, key=lambda a: abs(a[0].wall_s - summary.wall_s))[1]
    return with_speedups(against_ideal(summaries)), runs
