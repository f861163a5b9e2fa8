"""What one strategy's run cost, as figures: RunSummary, built from a StrategyRun's results.

How many requests a strategy can have in flight, and how many cores its Python can use, come
from its traits in the strategy registry. From them follow two ideal times: the strategy's own
(the best its limits allow) and the comparison's (the best any strategy compared could do).
Efficiency is measured against the comparison's, so reading it down the rows ranks them; a
strategy whose own limits keep it from that ideal says what limits it.
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
    # (seconds since the run started, most requests in flight then), as the server counted.
    server_in_flight: tuple[tuple[float, int], ...] | None = None


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
    # The comparison's ideal (the same for every strategy) and wall time against it.
    ideal_s: float | None
    efficiency: float | None
    errors: dict[str, int] = field(default_factory=dict)
    repeats: int = 1
    wall_min_s: float | None = None
    wall_max_s: float | None = None
    speedup: float | None = None
    # What caps this strategy below the comparison's ideal, the best time that cap allows, and
    # how that time is worked out (the comparison's ideal is the best of these).
    limited_by: str | None = None
    limit_ideal_s: float | None = None
    limit_formula: str | None = None
    # What the client itself had in flight at most, and how long into the run it got there.
    client_peak_in_flight: int = 0
    peak_reached_s: float = 0.0
    # For strategies with worker processes: how far apart the processes sent their first requests.
    process_start_spread_s: float | None = None
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
    """The best wall time a strategy's limits allow: waves of one latency, but never less than
    the CPU work allows.

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


def limit_of(strategy: str, config: FetchConfig, requests: int, latency_s: float) -> str:
    """What sets a strategy's own ideal, in words: its workers, or its cores when CPU-bound."""
    traits = traits_of(strategy)
    workers = workers_for(strategy, config, requests)
    cores = traits.cores(config)
    if _cpu_bound(traits.concurrent, cores, config, requests, workers, latency_s):
        return "1 core (GIL)" if cores == 1 else f"{cores} cores"
    if not traits.concurrent and not traits.multiprocess:
        return "1 at a time"
    if not traits.concurrent:
        return f"{workers} processes"
    return f"{workers} in flight"


def ideal_formula(strategy: str, config: FetchConfig, requests: int, latency_s: float) -> str:
    """How a strategy's own ideal is worked out, in figures (for the legend and the JSON)."""
    traits = traits_of(strategy)
    workers = workers_for(strategy, config, requests)
    cores = traits.cores(config)
    if _cpu_bound(traits.concurrent, cores, config, requests, workers, latency_s):
        return f"{requests} x {config.cpu_ms:g} ms of CPU / {cores} core{'s' * (cores > 1)}"
    step_ms = latency_s * 1000 + (0 if traits.concurrent else config.cpu_ms)
    return f"ceil({requests} / {workers} at once) x {step_ms:g} ms"


def _cpu_bound(
    concurrent: bool,
    cores: int,
    config: FetchConfig,
    requests: int,
    workers: int,
    latency_s: float,
) -> bool:
    """True when the CPU work on the cores, not the waves of waiting, sets the ideal."""
    work_s = requests * config.cpu_ms / 1000 / cores
    return concurrent and config.cpu_ms > 0 and work_s > ideal_s(requests, workers, latency_s)


def summarize(run: StrategyRun, config: FetchConfig, latency_s: float | None) -> RunSummary:
    """The figures of one run."""
    results = run.results
    latencies = sorted(r.elapsed_s * 1000 for r in results if r.ok)
    ok = sum(r.ok for r in results)
    own_ideal = limit = formula = None
    if latency_s is not None:
        own_ideal = ideal_for(run.strategy, config, len(results), latency_s)
        limit = limit_of(run.strategy, config, len(results), latency_s)
        formula = ideal_formula(run.strategy, config, len(results), latency_s)
    peak, peak_s = peak_in_flight(results)
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
        # Set against the other strategies by `against_ideal`; alone, a run is its own ideal.
        ideal_s=own_ideal,
        efficiency=None if own_ideal is None or run.wall_s <= 0 else own_ideal / run.wall_s,
        errors=dict(Counter(str(r.error) for r in results if r.error is not None)),
        # What sets its own ideal; against_ideal keeps it only where it is what held the run back.
        limited_by=limit,
        limit_ideal_s=own_ideal,
        limit_formula=formula,
        client_peak_in_flight=peak,
        peak_reached_s=peak_s,
        process_start_spread_s=start_spread_s(results),
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


def against_ideal(summaries: Sequence[RunSummary]) -> list[RunSummary]:
    """Each summary measured against the best ideal among them: the comparison's ideal.

    Efficiency is that ideal over the wall time, so it ranks the rows; `limited_by` stays only
    on strategies whose own limits allow less (their best is `limit_ideal_s`).
    """
    ideals = [s.limit_ideal_s for s in summaries if s.limit_ideal_s is not None]
    if not ideals:
        return list(summaries)
    best = min(ideals)
    return [
        _replace(
            s,
            ideal_s=best,
            efficiency=best / s.wall_s if s.wall_s > 0 else None,
            limited_by=s.limited_by
            if s.limit_ideal_s is not None and s.limit_ideal_s > best * 1.001
            else None,
        )
        for s in summaries
    ]


def peak_in_flight(results: Sequence[FetchResult]) -> tuple[int, float]:
    """The most requests in flight at once as the client saw them, and when that was first."""
    events = sorted(
        [(r.started_s, 1) for r in results] + [(r.ended_s, -1) for r in results],
        key=lambda event: (event[0], event[1]),
    )
    current = peak = 0
    peak_s = 0.0
    for at_s, change in events:
        current += change
        if current > peak:
            peak, peak_s = current, at_s
    return peak, peak_s


def start_spread_s(results: Sequence[FetchResult]) -> float | None:
    """For results from worker processes (`pid-N...`): how far apart each sent its first."""
    firsts: dict[str, float] = {}
    for result in results:
        if result.worker.startswith("pid-"):
            process = result.worker.split("/")[0]
            firsts[process] = min(firsts.get(process, result.started_s), result.started_s)
    if len(firsts) < 2:
        return None
    return max(firsts.values()) - min(firsts.values())


# What each column of the comparison means: printed under the table (unless --quiet), in
# `fetcher compare --help`, and in docs/compare.md beside the JSON keys it names.
LEGEND: tuple[tuple[str, str], ...] = (
    ("wall s", "the whole batch, from starting the strategy to its last result"),
    ("speedup", "sequential's wall time over this row's"),
    ("req/s", "requests over wall s"),
    (
        "p50/p95/p99 ms",
        "each request from when a worker took it to its last byte, retries and time queued in "
        "the client included; half, 95% and 99% of requests took at most this",
    ),
    ("CPU s", "user and system CPU of the strategy's process and its worker processes"),
    ("peak MB", "largest resident memory of that process tree, sampled every 20 ms"),
    ("workers", "most requests it can have in flight with these settings, at most the batch"),
    ("in flight", "most requests the bundled server saw at once (its /stats); - for a URL file"),
    (
        "efficiency",
        "the ideal over wall s; the ideal is the best time any strategy here could reach: waves "
        "of the most requests any of them keeps in flight, one latency each, or the CPU work "
        "spread over the cores, if that is longer",
    ),
    ("limited by", "what keeps a strategy from the ideal, and the best time that allows it"),
    (
        "start-up s",
        "time before the first request: starting threads, tasks and clients, or spawning "
        "processes that import their HTTP client",
    ),
    # Only over TLS to the bundled server, which counts them.
    ("new conns", "connections the server saw opened; a kept-alive one serves many requests"),
    (
        "handshakes",
        "full TLS handshakes the server completed, about 1 ms of CPU at each end "
        "(scripts/bench_tls.py)",
    ),
)
