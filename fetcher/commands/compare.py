"""`fetcher compare [URLS_FILE]`: the same batch fetched every way, side by side."""

from __future__ import annotations

import argparse
from pathlib import Path

from fetcher.commands._args import (
    add_fetch_options,
    config_from_args,
    duration_s,
    positive_int,
    strategy_list,
)
from fetcher.errors import FetcherError
from fetcher.strategies import STRATEGIES

DEFAULT_COUNT = 100
DEFAULT_LATENCY = "100ms"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `fetcher compare`."""
    parser.add_argument(
        "urls_file",
        nargs="?",
        metavar="URLS_FILE",
        help="one URL a line ('-' for stdin); default: a generated batch "
        "against the bundled mock server",
    )
    parser.add_argument(
        "--count",
        type=positive_int,
        default=None,
        help=f"URLs in the generated batch (default {DEFAULT_COUNT})",
    )
    parser.add_argument(
        "--latency",
        type=duration_s,
        default=None,
        metavar="DURATION",
        help=f"latency the bundled server injects (default {DEFAULT_LATENCY})",
    )
    parser.add_argument(
        "--strategies",
        type=strategy_list,
        default=list(STRATEGIES),
        help="comma-separated, default all: " + ",".join(STRATEGIES),
    )
    parser.add_argument(
        "--repeat",
        type=positive_int,
        default=1,
        help="run each strategy K times and report the median (with min-max)",
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the summaries as JSON")
    parser.add_argument("--csv", type=Path, metavar="FILE", help="write the summaries as CSV")
    add_fetch_options(parser)


def run(args: argparse.Namespace) -> int:
    """Run the comparison, on a URL file or on the embedded default."""
    if args.urls_file and (args.count is not None or args.latency is not None):
        raise FetcherError(
            "--count and --latency shape the generated batch; drop them with a URL file"
        )
    from fetcher import report
    from fetcher.compare import compare
    from fetcher.explain import explain
    from fetcher.urls import read_urls

    config = config_from_args(args)
    if args.urls_file:
        urls = read_urls(args.urls_file)
        title = f"{len(urls)} URLs from {args.urls_file}"
        with report.progress_bars(args.quiet) as bars:
            summaries, _ = compare(
                urls,
                args.strategies,
                config,
                repeat=args.repeat,
                on_start=bars.start,
                on_result=bars.advance,
            )
        latency_s = None
    else:
        from mock_server import launch

        count = args.count or DEFAULT_COUNT
        latency_s = args.latency if args.latency is not None else duration_s(DEFAULT_LATENCY)
        with launch(latency=f"{latency_s * 1000:g}ms") as server:
            urls = [server.url_for(f"/items/{i}") for i in range(count)]
            title = (
                f"{count} requests to the bundled mock server at {latency_s * 1000:g} ms latency"
            )
            with report.progress_bars(args.quiet) as bars:
                summaries, _ = compare(
                    urls,
                    args.strategies,
                    config,
                    server=server,
                    latency_s=latency_s,
                    repeat=args.repeat,
                    on_start=bars.start,
                    on_result=bars.advance,
                )
    report.print_comparison(
        summaries, explain(summaries, latency_s), title, report.stdout_console()
    )
    if args.json:
        report.write_json(args.json, summaries)
    if args.csv:
        report.write_csv(args.csv, summaries)
    return 0
