"""`fetcher fetch URLS_FILE --strategy NAME --out FILE`: fetch once, one JSON line per result.

Each line is written and flushed the moment its request completes, so an interrupted run keeps
every finished result.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from typing import TextIO

from fetcher.cli import EXIT_INTERRUPTED, EXIT_OK
from fetcher.commands._args import add_fetch_options, config_from_args
from fetcher.models import FetchResult
from fetcher.strategies import STRATEGIES

DEFAULT_STRATEGY = "asyncio-aiohttp"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `fetcher fetch`."""
    parser.add_argument("urls_file", metavar="URLS_FILE", help="one URL a line ('-' for stdin)")
    parser.add_argument(
        "--strategy",
        choices=list(STRATEGIES),
        default=DEFAULT_STRATEGY,
        help=f"how to fetch (default {DEFAULT_STRATEGY})",
    )
    parser.add_argument(
        "--out",
        default="-",
        metavar="FILE",
        help="JSON-lines output, one line per result ('-', the default: stdout)",
    )
    add_fetch_options(parser)


def run(args: argparse.Namespace) -> int:
    """Fetch the file's URLs with one strategy, streaming results to --out."""
    from fetcher import report
    from fetcher.strategies import get_strategy
    from fetcher.strategies.base import clock
    from fetcher.urls import read_urls

    urls = read_urls(args.urls_file)  # a bad file stops here, before any request
    config = config_from_args(args)
    strategy = get_strategy(args.strategy)
    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")  # noqa: SIM115
    tally = Tally(out)
    t0 = clock()
    code = EXIT_OK
    try:
        with report.progress_bars(args.quiet) as bars:
            bars.start(args.strategy, len(urls))

            def on_result(result: FetchResult) -> None:
                tally.add(result)
                bars.advance()

            strategy.run(urls, config, on_result, t0)
    except KeyboardInterrupt:
        code = EXIT_INTERRUPTED
    finally:
        if out is not sys.stdout:
            out.close()
    summary = report.fetch_summary(tally.count, tally.ok, tally.errors, clock() - t0)
    prefix = "interrupted: " if code == EXIT_INTERRUPTED else ""
    report.stderr_console().print(prefix + summary, highlight=False)
    return code


class Tally:
    """Writes each result as a JSON line, flushed, and counts outcomes for the summary."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.count = 0
        self.ok = 0
        self.errors: Counter[str] = Counter()

    def add(self, result: FetchResult) -> None:
        """Record one result."""
        self.out.write(json.dumps(result.to_json(), separators=(",", ":")) + "\n")
        self.out.flush()
        self.count += 1
        if result.ok:
            self.ok += 1
        else:
            self.errors[str(result.error)] += 1
