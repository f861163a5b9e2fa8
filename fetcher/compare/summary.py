"""What one strategy's run cost, as figures: RunSummary, built from a StrategyRun's results.

How many requests a strategy can have in flight, and how many cores its Python can use, come
from its traits in the strategy registry; the ideal time follows from them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fetcher.compare.stats import ideal_s, median, per_second, percentile
from fetcher.config import FetchConfig
from fetcher.models import FetchResult
from fetcher.strategies import traits_of


@dataclass(frozen=True)
class StrategyRun:
    """One run: every result, and the usage the child measured."""

    strategy: str
    results: list[FetchResult]
    wall_s: float
    cpu_s: float
    peak_rss_bytes: int
    server_peak_in_flight: int | None
    # What the bundled server counted: connections opened, and full TLS handshakes among them.
    server_connections: int | None = None
    server_handshakes: int | None = None


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
    # New connections and full TLS handshakes, as the bundled server counted them.
    connections: int | None = None
    handshakes: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The record `--json` writes and `--csv` flattens."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class SweepPoint:
    """One strategy at one worker count."""

    strategy: str
    workers: int
    requests: int
    ok: int
    wall_s: float
    cpu_s: float
    peak_rss_bytes: int
    server_peak_in_flight: int | None

    def to_json(self) -> dict[str, Any]:
        """The record `--json` writes."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def workers_for(strategy: str, config: FetchConfig, requests: int) -> int:
    """How many requests a strategy can have in flight at once on a batch of `requests`."""
    return max(1, min(traits_of(strategy).in_flight(config), requests))


def ideal_for(strategy: str, config: FetchConfig, requests: int, latency_s: float) -> float:
    """The best wall time: waves of one latency, but never less than the CPU work allows.

    A worker that does its CPU work between requests (one with no threads or tasks: sequential,
    a process) adds it to every wave; threads and tasks can overlap it with other requests'
    waits, on as many cores as the strategy's Python runs on.
    """
    traits = traits_of(strategy)
    workers = workers_for(strategy, config, requests)
    cpu_s = config.cpu_ms / 1000
    if not traits.concurrent:
        return ideal_s(requests, workers, latency_s + cpu_s)
    waves = ideal_s(requests, workers, latency_s)
    return max(waves, requests * cpu_s / traits.cores(config))


def summarize(run: StrategyRun, config: FetchConfig, latency_s: float | None) -> RunSummary:
    """The figures of one run."""
    results = run.results
    latencies = sorted(r.elapsed_s * 1000 for r in results if r.ok)
    ok = sum(r.ok for r in results)
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
        workers=workers_for(run.strategy, config, len(results)),
        startup_s=min((r.started_s for r in results), default=0.0),
        server_peak_in_flight=run.server_peak_in_flight,
        ideal_s=ideal,
        efficiency=None if ideal is None or run.wall_s <= 0 else ideal / run.wall_s,
        errors=dict(Counter(str(r.error) for r in results if r.error is not None)),
        connections=run.server_connections,
        handshakes=run.server_handshakes,
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
