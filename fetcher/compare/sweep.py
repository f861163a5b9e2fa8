"""Run strategies over a range of worker counts: where more workers stop helping, and what each
one costs in memory.

Each point is one run of `fetcher.compare.harness.run_strategy`, in a fresh child process, so its
wall time, CPU and peak memory belong to that strategy at that worker count alone. The setting a
point turns is the one the strategy's traits name: `concurrency` (threads, tasks, or tasks per
process for hybrid) or `processes`; a strategy with one worker whatever is asked runs once.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from fetcher.compare.harness import ResultHook, StatsSource, check_strategies, run_strategy
from fetcher.compare.summary import StrategyRun, SweepPoint
from fetcher.config import FetchConfig
from fetcher.errors import FetcherError
from fetcher.strategies import traits_of

DEFAULT_WORKERS = (1, 2, 4, 8, 16, 32, 64)
PointHook = Callable[[str, int, int], None]


def config_for(strategy: str, config: FetchConfig, workers: int) -> FetchConfig:
    """`config` with the setting that counts this strategy's workers turned to `workers`."""
    setting = traits_of(strategy).workers_setting
    if setting == "processes":
        return replace(config, processes=workers)
    return config if setting is None else replace(config, concurrency=workers)


def counts_for(strategy: str, workers: Sequence[int]) -> list[int]:
    """The worker counts worth running: a strategy with no setting for them only ever has one."""
    return sorted(set(workers)) if traits_of(strategy).workers_setting else [1]


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
    check_strategies(strategies)
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
