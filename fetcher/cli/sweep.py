"""`fetcher sweep [URLS_FILE]`: strategies over a range of workers, wall time and memory."""

from __future__ import annotations

import argparse
from pathlib import Path

from fetcher.cli import exits
from fetcher.cli.args import (
    add_fetch_options,
    config_from_args,
    require_extras,
    strategy_list,
)
from fetcher.cli.batch import add_batch_options, add_cpu_ms, open_batch, with_cpu_ms

DEFAULT_COUNT = 64
DEFAULT_LATENCY = "100ms"
DEFAULT_STRATEGIES = "threads,asyncio-aiohttp,processes"
DEFAULT_WORKERS = "1,2,4,8,16,32,64"
MAX_WORKERS = 1024


def worker_list(text: str) -> list[int]:
    """A comma-separated list of worker counts, each from 1 to MAX_WORKERS."""
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list like 1,2,4,8") from None
    if not counts or not all(1 <= n <= MAX_WORKERS for n in counts):
        raise argparse.ArgumentTypeError(f"worker counts must be from 1 to {MAX_WORKERS}")
    return sorted(set(counts))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `fetcher sweep`."""
    add_batch_options(parser, DEFAULT_COUNT, DEFAULT_LATENCY)
    parser.add_argument(
        "--workers",
        type=worker_list,
        default=worker_list(DEFAULT_WORKERS),
        help="worker counts: processes for processes, concurrency for threads, tasks and "
        f"hybrid's tasks per process (default {DEFAULT_WORKERS})",
    )
    parser.add_argument(
        "--strategies",
        type=strategy_list,
        default=strategy_list(DEFAULT_STRATEGIES),
        help=f"comma-separated (default {DEFAULT_STRATEGIES})",
    )
    add_cpu_ms(parser)
    parser.add_argument("--plot", type=Path, metavar="FILE.png", help="draw the sweep as a chart")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the points as JSON")
    parser.add_argument(
        "--html",
        type=Path,
        metavar="FILE",
        help="write the table and its charts as one HTML file (needs the html extra)",
    )
    add_fetch_options(parser)


def run(args: argparse.Namespace) -> int:
    """Run the sweep and show it."""
    from fetcher.compare.sweep import sweep
    from fetcher.render import sweep as sweep_report
    from fetcher.render.console import progress_bars, stdout_console

    config = with_cpu_ms(config_from_args(args), args)
    if args.plot:
        from fetcher.render.plots import require_matplotlib

        require_matplotlib("--plot FILE.png")
    if args.html:
        from fetcher.render.html import require_html

        require_html(args.html)
    require_extras(args.strategies)
    with (
        open_batch(args, DEFAULT_COUNT, DEFAULT_LATENCY) as batch,
        progress_bars(args.quiet) as bars,
    ):
        points = sweep(
            batch.urls,
            args.strategies,
            args.workers,
            batch.trusted_by(config),
            server=batch.server,
            on_start=lambda name, workers, total: bars.start(f"{name} x{workers}", total),
            on_result=bars.advance,
        )
    console = stdout_console()
    console.print(sweep_report.sweep_table(points, batch.title))
    if args.plot:
        from fetcher.render.plots import plot_sweep

        plot_sweep(points, args.plot)
        console.print(f"chart written to {args.plot}", highlight=False)
    if args.json:
        sweep_report.write_json(args.json, points)
    if args.html:
        from fetcher.render.html import sweep_data, sweep_page, write

        write(args.html, sweep_page(sweep_data(points, batch.title)))
        console.print(f"report written to {args.html}", highlight=False)
    return exits.OK
