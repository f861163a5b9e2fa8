"""Run several strategies on the same batch and summarise what each cost.

Each run happens in a fresh child process (`fetcher.runner`), so one strategy's imports, memory
and CPU are never charged to another; the bundled server's counters are reset before each run
so its peak of requests in flight belongs to that run alone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import psutil

from fetcher.config import FetchConfig, config_to_dict
from fetcher.errors import FetcherError
from fetcher.models import FetchResult
from fetcher.runner import USAGE_KEY
from fetcher.stats import ideal_s, median, per_second, percentile
from fetcher.strategies import STRATEGIES

MEMORY_SAMPLE_EVERY_S = 0.02
StartHook = Callable[[str, int], None]
ResultHook = Callable[[FetchResult], None]


class StatsSource(Protocol):
    """What compare needs of a server that counts its requests (a `mock_server.MockServer`)."""

    def stats(self) -> dict[str, Any]: ...
    def reset_stats(self) -> None: ...


@dataclass(frozen=True)
class RunSummary:
    """What one strategy cost on the batch; with repeats, the median run with the wall range."""

    strategy: str
    requests: int
    ok: int
    failed: int
    wall_s: float
    requests_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    cpu_s: float
    peak_rss_bytes: int
    workers: int
    startup_s: float
    server_peak_in_flight: int | None
    ideal_s: float | None
    efficiency: float | None
    errors: dict[str, int] = field(default_factory=dict)
    repeats: int = 1
    wall_min_s: float | None = None
    wall_max_s: float | None = None
    speedup: float | None = None

    def to_json(self) -> dict[str, Any]:
        """The record `--json` writes and `--csv` flattens."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class StrategyRun:
    """One run: every result, and the usage the child measured."""

    strategy: str
    results: list[FetchResult]
    wall_s: float
    cpu_s: float
    peak_rss_bytes: int
    server_peak_in_flight: int | None


def workers_for(strategy: str, config: FetchConfig, requests: int) -> int:
    """How many requests a strategy can have in flight at once."""
    if strategy == "sequential":
        return 1
    if strategy == "hybrid":
        limit = config.processes * config.concurrency
    else:
        limit = config.processes if strategy == "processes" else config.concurrency
    return max(1, min(limit, requests))


def cores_for(strategy: str, config: FetchConfig) -> int:
    """How many cores a strategy's Python can run on at once: one GIL, or one per process."""
    if strategy in ("processes", "hybrid"):
        return max(1, min(config.processes, os.cpu_count() or 1))
    return 1


def ideal_for(strategy: str, config: FetchConfig, requests: int, latency_s: float) -> float:
    """The best wall time: waves of one latency, but never less than the CPU work allows.

    A worker that does its CPU work between requests (sequential, a process) adds it to every
    wave; threads and tasks can overlap it with other requests' waits, on one core at most.
    """
    workers = workers_for(strategy, config, requests)
    cpu_s = config.cpu_ms / 1000
    if strategy in ("sequential", "processes"):
        return ideal_s(requests, workers, latency_s + cpu_s)
    waves = ideal_s(requests, workers, latency_s)
    return max(waves, requests * cpu_s / cores_for(strategy, config))


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
    argv = [sys.executable, "-m", "fetcher.runner"]
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
    return StrategyRun(
        strategy=strategy,
        results=results,
        wall_s=usage["wall_s"],
        cpu_s=usage["cpu_s"],
        peak_rss_bytes=max(peak[0], usage["maxrss_bytes"]),
        server_peak_in_flight=None if server is None else server.stats()["peak_in_flight"],
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


def summarize(run: StrategyRun, config: FetchConfig, latency_s: float | None) -> RunSummary:
    """The figures of one run."""
    results = run.results
    latencies = sorted(r.elapsed_s * 1000 for r in results if r.ok)
    ok = sum(r.ok for r in results)
    workers = workers_for(run.strategy, config, len(results))
    ideal = None if latency_s is None else ideal_for(run.strategy, config, len(results), latency_s)
    return RunSummary(
        strategy=run.strategy,
        requests=len(results),
        ok=ok,
        failed=len(results) - ok,
        wall_s=run.wall_s,
        requests_per_s=per_second(len(results), run.wall_s),
        p50_ms=percentile(latencies, 50),
        p95_ms=percentile(latencies, 95),
        p99_ms=percentile(latencies, 99),
        cpu_s=run.cpu_s,
        peak_rss_bytes=run.peak_rss_bytes,
        workers=workers,
        startup_s=min((r.started_s for r in results), default=0.0),
        server_peak_in_flight=run.server_peak_in_flight,
        ideal_s=ideal,
        efficiency=None if ideal is None or run.wall_s <= 0 else ideal / run.wall_s,
        errors=dict(Counter(str(r.error) for r in results if r.error is not None)),
    )


def combine(summaries: Sequence[RunSummary]) -> RunSummary:
    """Several repeats of one strategy as one: the median run, with the range of wall times."""
    ordered = sorted(summaries, key=lambda s: s.wall_s)
    middle = ordered[(len(ordered) - 1) // 2]
    walls = [s.wall_s for s in ordered]
    return _replace(
        middle,
        repeats=len(ordered),
        wall_s=median(walls),
        wall_min_s=walls[0],
        wall_max_s=walls[-1],
    )


def _replace(summary: RunSummary, **changes: Any) -> RunSummary:
    return RunSummary(**{**summary.to_json(), **changes})


def with_speedups(summaries: Sequence[RunSummary]) -> list[RunSummary]:
    """Each summary with its speedup over the sequential run, when there is one."""
    baseline = next((s.wall_s for s in summaries if s.strategy == "sequential"), None)
    if not baseline:
        return list(summaries)
    return [_replace(s, speedup=baseline / s.wall_s if s.wall_s > 0 else None) for s in summaries]


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
    unknown = [name for name in strategies if name not in STRATEGIES]
    if unknown:
        raise FetcherError(f"unknown strategy {unknown[0]!r}: choose from {', '.join(STRATEGIES)}")
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
    return with_speedups(summaries), runs
