"""Where processes start to win: the same batch with no CPU work per response, then with 20 ms.

At 0 ms the batch is all waiting: one event loop overlaps every wait and wins, and processes,
one request in flight each, trail. At 20 ms per response on two cores the batch is CPU-bound:
one interpreter runs all that work on one core, so threads and asyncio cannot go under
requests x 20 ms, while processes and hybrid spread it over both cores.

The latency is short (2 ms) on purpose: a process does its waiting and its work in turn, so
it beats one event loop only where the work per response outweighs the wait (here 20 ms of
work against 2 ms of wait); hybrid overlaps the waits too, so it wins at any latency.

Run it under the shared lock so no other benchmark overlaps it (about a minute):

    flock /tmp/fetcher-bench.lock .venv/bin/python scripts/bench_cpu_crossover.py
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from dataclasses import replace

from _bench import exit_on_sigterm

from fetcher.compare.explain import GIL_BOUND, MULTICORE, explain
from fetcher.compare.harness import compare
from fetcher.compare.summary import RunSummary
from fetcher.config import FetchConfig
from fetcher.render.compare import print_comparison
from fetcher.render.console import stdout_console
from fetcher.strategies import cpu
from mock_server import launch

REGIMES_MS = (0.0, 20.0)
# Sequential and asyncio-httpx are left out: they take long and the crossover is not about them.
STRATEGIES = ("threads", "asyncio-aiohttp", "processes", "hybrid")


def parse_args(argv: list[str]) -> argparse.Namespace:
    """--count, --latency-ms, --processes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200, help="requests per run (default 200)")
    parser.add_argument("--latency-ms", type=float, default=2.0, help="server latency (2)")
    parser.add_argument("--processes", type=int, default=2, help="processes (default 2)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per strategy, median (3)")
    return parser.parse_args(argv)


def free_cores(spin_ms: float = 300.0) -> float:
    """How many cores this run really gets: CPU time over wall time of two spinning processes.

    On a shared Linux box with autogroup scheduling, all of one session's processes share one
    fair slice, so two processes can get one core between them while others are busy.
    """
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        pool.starmap(cpu.work, [(b"warm-up", 1.0)] * 2, 1)  # both interpreters up before timing
        started = time.perf_counter()
        pool.starmap(cpu.work, [(b"a", spin_ms), (b"b", spin_ms)], 1)
        wall_s = time.perf_counter() - started
    return 2 * spin_ms / 1000 / wall_s


def verdict(summaries: list[RunSummary], cpu_ms: float) -> str:
    """Whether this regime shows what it should."""
    wall = {s.strategy: s.wall_s for s in summaries}
    single = [n for n in GIL_BOUND if n in wall]
    best_single = min(single, key=lambda n: wall[n])
    if cpu_ms == 0:
        ok = wall["asyncio-aiohttp"] == min(wall.values()) and wall["processes"] > min(
            wall[n] for n in single
        )
        claim = "asyncio-aiohttp fastest, processes behind threads and async"
    else:
        ok = all(wall[n] < wall[best_single] for n in MULTICORE)
        claim = f"processes and hybrid both faster than the best of threads/async ({best_single})"
    return f"{'as expected' if ok else 'NOT as expected (a noisy machine?)'}: {claim}"


def main(argv: list[str]) -> int:
    """Run both regimes on one server and print their tables and verdicts."""
    exit_on_sigterm()
    args = parse_args(argv)
    console = stdout_console()
    config = FetchConfig(processes=args.processes)
    console.print(f"cores free for this run: about {free_cores():.1f} of {os.cpu_count()}")
    with launch(latency=f"{args.latency_ms:g}ms") as server:
        urls = [server.url_for(f"/items/{i}") for i in range(args.count)]
        for cpu_ms in REGIMES_MS:
            regime = replace(config, cpu_ms=cpu_ms)
            load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
            summaries, _ = compare(
                urls,
                STRATEGIES,
                regime,
                server=server,
                latency_s=args.latency_ms / 1000,
                repeat=args.repeat,
            )
            title = (
                f"--cpu-ms {cpu_ms:g}: {args.count} requests at {args.latency_ms:g} ms latency, "
                f"{args.processes} processes, median of {args.repeat} (load average before: {load})"
            )
            print_comparison(
                summaries, explain(summaries, args.latency_ms / 1000, cpu_ms), title, console
            )
            console.print(verdict(summaries, cpu_ms), highlight=False)
            console.print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
