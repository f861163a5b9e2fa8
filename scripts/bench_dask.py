"""What Dask costs on one machine: the same batch with hybrid and with dask, rounds alternated.

20,000 URLs at 50 ms from the bundled mock server, fetched by hybrid (two processes, each an
asyncio-aiohttp loop) and by dask on a LocalCluster of two workers running the same loop on
chunks. Three figures per round:

  hybrid        end to end, its two processes spawned by the run
  dask          end to end, its LocalCluster started and closed by the run (what `fetcher fetch
                --strategy dask` does with no scheduler)
  dask, warm    on a LocalCluster already running (what a user with a cluster pays per batch)

Then the scheduler's cost per chunk (no-op chunks through the same window of futures), the
client's memory (peak RSS growth over the run, for a small and the full batch: it should not
grow with the batch), and, on paper, the throughput of N machines from the measured per-worker
rate. The goal: dask within 1.2x of hybrid's wall time.

On this box the mock server shares the two cores with the workers, so the per-worker rate is
the server's limit as much as the client's: the N-machine figures are a floor.

    flock /tmp/fetcher-bench.lock .venv/bin/python scripts/bench_dask.py
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import psutil
from _bench import exit_on_sigterm

from fetcher.cluster import connect
from fetcher.config import FetchConfig
from fetcher.models import FetchResult
from fetcher.strategies import get_strategy, on_dask
from mock_server import launch

MACHINES = (1, 2, 4, 8, 16)


def parse_args(argv: list[str]) -> argparse.Namespace:
    """--count, --latency, --rounds, --workers, --concurrency."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000, help="URLs per run (20000)")
    parser.add_argument("--latency", default="50ms", help="server latency (50ms)")
    parser.add_argument("--rounds", type=int, default=3, help="alternated rounds (3)")
    parser.add_argument("--workers", type=int, default=2, help="processes / workers (2)")
    parser.add_argument("--concurrency", type=int, default=100, help="tasks per worker (100)")
    return parser.parse_args(argv)


class PeakRss:
    """This process's peak resident memory while the block runs, sampled every 10 ms."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.before = self.peak = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.wait(0.01):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self) -> PeakRss:
        self.before = self.peak = self.process.memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join()

    @property
    def growth_mb(self) -> float:
        """Peak over the start, in MB."""
        return (self.peak - self.before) / 2**20


def timed(strategy: str, urls: Sequence[str], config: FetchConfig) -> tuple[float, float]:
    """(wall s, peak client RSS growth MB) of one run; every URL must come back once, OK."""
    results: list[FetchResult] = []
    with PeakRss() as rss:
        started = time.perf_counter()
        get_strategy(strategy).run(urls, config, results.append)
        wall_s = time.perf_counter() - started
    indices = {r.index for r in results}
    ok = sum(r.ok for r in results)
    if len(results) != len(urls) or len(indices) != len(urls) or ok != len(urls):
        sys.exit(f"{strategy}: {len(results)} results, {len(indices)} URLs, {ok} OK of {len(urls)}")
    return wall_s, rss.growth_mb


def scheduler_cost_per_chunk(client: Any, slots: int, chunks: int = 400) -> float:
    """Seconds per chunk of no-op chunks fed through the strategy's window of futures."""
    import distributed

    def noop(start: int) -> int:
        return start

    started = time.perf_counter()
    window = on_dask.WINDOW_PER_SLOT * slots
    next_chunk = iter(range(chunks))
    first = [client.submit(noop, k, pure=False) for k in [next(next_chunk) for _ in range(window)]]
    completed = distributed.as_completed(first, loop=client.loop)
    for future in completed:
        future.result()
        k = next(next_chunk, None)
        if k is not None:
            completed.add(client.submit(noop, k, pure=False))
    return (time.perf_counter() - started) / chunks


def median(values: list[float]) -> float:
    return statistics.median(values)


def main(argv: list[str]) -> int:
    exit_on_sigterm()
    args = parse_args(argv)
    logging.getLogger("distributed").setLevel(logging.ERROR)
    config = FetchConfig(concurrency=args.concurrency, processes=args.workers)
    walls: dict[str, list[float]] = {"hybrid": [], "dask": [], "dask, warm": []}
    memory: dict[int, list[float]] = {}
    with launch(latency=args.latency) as server:
        urls = [server.url_for(f"/items/{i}") for i in range(args.count)]
        small = urls[: max(1, args.count // 4)]
        print(f"{args.count} URLs at {args.latency}, {args.workers} workers x {args.concurrency}")
        with connect(None, args.workers, "bench_dask") as warm:
            warm_config = FetchConfig(
                concurrency=args.concurrency, processes=args.workers, scheduler=warm.address
            )
            timed("dask", small[:200], warm_config)  # workers import fetcher and aiohttp
            per_chunk_s = scheduler_cost_per_chunk(warm.client, warm.slots)
            runs: list[tuple[str, Callable[[], tuple[float, float]]]] = [
                ("hybrid", lambda: timed("hybrid", urls, config)),
                ("dask", lambda: timed("dask", urls, config)),
                ("dask, warm", lambda: timed("dask", urls, warm_config)),
            ]
            for round_ in range(args.rounds):
                order = runs if round_ % 2 == 0 else runs[::-1]
                for name, run in order:
                    wall_s, growth_mb = run()
                    walls[name].append(wall_s)
                    if name == "dask, warm":
                        memory.setdefault(len(urls), []).append(growth_mb)
                    print(f"  round {round_ + 1}: {name:<11} {wall_s:6.2f} s", flush=True)
            for _ in range(args.rounds):
                memory.setdefault(len(small), []).append(timed("dask", small, warm_config)[1])
    hybrid, dask, dask_warm = (median(walls[name]) for name in ("hybrid", "dask", "dask, warm"))
    chunk = on_dask.chunk_size(args.count, args.workers, args.concurrency)
    per_worker = args.count / dask_warm / args.workers
    print()
    print(f"median wall   hybrid {hybrid:.2f} s   dask {dask:.2f} s   dask, warm {dask_warm:.2f} s")
    # Paired by round: a busy spell slows both runs of a round, and cancels out of its ratio.
    cold = [d / h for d, h in zip(walls["dask"], walls["hybrid"], strict=True)]
    warm_ratios = [d / h for d, h in zip(walls["dask, warm"], walls["hybrid"], strict=True)]
    print(
        f"overhead      dask / hybrid = {median(cold):.2f}x end to end (goal 1.2x), "
        f"{median(warm_ratios):.2f}x on a running cluster (medians of the rounds' ratios: "
        + ", ".join(f"{r:.2f}" for r in cold)
        + " and "
        + ", ".join(f"{r:.2f}" for r in warm_ratios)
        + ")"
    )
    print(
        f"scheduler     {per_chunk_s * 1000:.1f} ms per chunk ({chunk} URLs a chunk: "
        f"{per_chunk_s / chunk * 1e6:.1f} us per URL)"
    )
    for count, growth in sorted(memory.items()):
        print(f"client memory {count:>7,} URLs: peak RSS +{median(growth):.1f} MB over the run")
    print(f"per worker    {per_worker:,.0f} URLs/s (warm run, {args.concurrency} tasks each)")
    ceiling = chunk / per_chunk_s
    print(f"on paper, {args.workers} workers a machine (the scheduler caps at {ceiling:,.0f}/s):")
    for machines in MACHINES:
        rate = min(machines * args.workers * per_worker, ceiling)
        print(f"  {machines:>2} machines: {rate:>9,.0f} URLs/s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
