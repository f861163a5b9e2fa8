"""Run strategies over a range of worker counts: where more workers stop helping, and what each
one costs in memory.

Each point is one run of `fetcher.compare.run_strategy`, in a fresh child process, so its wall
time, CPU and peak memory belong to that strategy at that worker count alone. The worker count
is `processes` for the processes strategy, and `concurrency` (threads, tasks, or tasks per
process for hybrid) for the others; sequential has one worker whatever is asked, so it runs once.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from fetcher.compare import ResultHook, StatsSource, StrategyRun, run_strategy
from fetcher.config import FetchConfig
from fetcher.errors import FetcherError
from fetcher.strategies import STRATEGIES

DEFAULT_WORKERS = (1, 2, 4, 8, 16, 32, 64)
PointHook = Callable[[str, int, int], None]


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


def config_for(strategy: str, config: FetchConfig, workers: int) -> FetchConfig:
    """`config` with the knob that sets this strategy's worker count turned to `workers`."""
    if strategy == "processes":
        return replace(config, processes=workers)
    return replace(config, concurrency=workers)


def counts_for(strategy: str, workers: Sequence[int]) -> list[int]:
    """The worker counts worth running: sequential only ever has one."""
    return [1] if strategy == "sequential" else sorted(set(workers))


def sweep(
    urls: Sequence[str],
    strategies: Sequence[str],
    workers: Sequence[int],
    config: FetchConfig,
    *,
    server: StatsSource | None = None,
    on_start: PointHook | None = None,
    on_result: ResultHook | None = None,
) -> list[SweepPoint]:
    """Every strategy at every worker count, on the same URLs; one point each."""
    unknown = [name for name in strategies if name not in STRATEGIES]
    if unknown:
        raise FetcherError(f"unknown strategy {unknown[0]!r}: choose from {', '.join(STRATEGIES)}")
    if not workers or min(workers) < 1:
        raise FetcherError("--workers needs whole numbers of at least 1, e.g. 1,2,4,8")
    points: list[SweepPoint] = []
    with tempfile.TemporaryDirectory(prefix="fetcher-sweep-") as folder:
        urls_path = Path(folder) / "urls.txt"
        urls_path.write_text("\n".join(urls) + "\n", encoding="utf-8")
        for strategy in strategies:
            for count in counts_for(strategy, workers):
                if on_start is not None:
                    on_start(strategy, count, len(urls))
                point_config = config_for(strategy, config, count)
                run = run_strategy(
                    strategy, urls_path, point_config, server=server, on_result=on_result
                )
                points.append(_point(count, run))
    return points


def _point(workers: int, run: StrategyRun) -> SweepPoint:
    """What one run at `workers` workers cost."""
    return SweepPoint(
        strategy=run.strategy,
        workers=workers,
        requests=len(run.results),
        ok=sum(r.ok for r in run.results),
        wall_s=run.wall_s,
        cpu_s=run.cpu_s,
        peak_rss_bytes=run.peak_rss_bytes,
        server_peak_in_flight=run.server_peak_in_flight,
    )
