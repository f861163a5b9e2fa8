"""`fetcher fetch URLS_FILE --strategy NAME --out FILE`: fetch once, one JSON line per result.

Each line is written and flushed the moment its request completes, so an interrupted run keeps
every finished result, and `--resume FILE` can pick up where it stopped.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import threading
from collections import Counter
from typing import TextIO

from fetcher.cli import exits
from fetcher.cli.args import add_fetch_options, config_from_args, require_extras
from fetcher.errors import FetcherError
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
        default=None,
        metavar="FILE",
        help="JSON-lines output, one line per result ('-', the default: stdout)",
    )
    parser.add_argument(
        "--resume",
        default=None,
        metavar="FILE",
        help="skip the URLs this results file records as fetched, and append the rest to it",
    )
    add_fetch_options(parser)


def run(args: argparse.Namespace) -> int:
    """Fetch the file's URLs with one strategy, streaming results to --out."""
    from fetcher.render.console import progress_bars, stderr_console
    from fetcher.render.fetch import fetch_summary
    from fetcher.resume import finished
    from fetcher.strategies import get_strategy
    from fetcher.strategies.base import clock
    from fetcher.urls import read_urls

    urls = read_urls(args.urls_file)  # a bad file stops here, before any request
    config = config_from_args(args)
    require_extras([args.strategy])
    strategy = get_strategy(args.strategy)
    done = finished(args.resume, urls) if args.resume else set()
    # The indices still to fetch; results come back numbered 0.. within them.
    todo = [index for index in range(len(urls)) if index not in done]
    out = open_output(args)
    tally = Tally(out)
    t0 = clock()
    code = exits.OK
    try:
        with progress_bars(args.quiet) as bars:
            bars.start(args.strategy, len(todo))

            def on_result(result: FetchResult) -> None:
                tally.add(dataclasses.replace(result, index=todo[result.index]))
                bars.advance()

            if todo:
                strategy.run([urls[index] for index in todo], config, on_result, t0)
    except KeyboardInterrupt:
        code = exits.INTERRUPTED
    finally:
        if out is not sys.stdout:
            out.close()
    summary = fetch_summary(tally.count, tally.ok, tally.errors, clock() - t0)
    prefix = "interrupted: " if code == exits.INTERRUPTED else ""
    skipped = f" ({len(done)} already fetched, skipped)" if done else ""
    stderr_console().print(prefix + summary + skipped, highlight=False)
    if code == exits.INTERRUPTED:
        exit_if_threads_linger(code)
    return code


def open_output(args: argparse.Namespace) -> TextIO:
    """Stdout, the --out file (truncated), or the --resume file (appended to)."""
    from fetcher.resume import ends_mid_line

    if args.resume is None:
        if args.out in (None, "-"):
            return sys.stdout
        return open(args.out, "w", encoding="utf-8")
    if args.out not in (None, args.resume):
        raise FetcherError("--resume appends to its own file; drop --out or give it the same file")
    out = open(args.resume, "a", encoding="utf-8")  # noqa: SIM115 - closed by run()
    if ends_mid_line(args.resume):
        out.write("\n")  # a line cut short by a kill stays on its own, and is ignored
    return out


def exit_if_threads_linger(code: int) -> None:
    """End the process now if a worker thread is still blocked in a request.

    Python cannot interrupt a thread blocked in a socket read, and the interpreter waits for
    it at exit, up to the read timeout. Every result is written and flushed by now.
    """
    others = [t for t in threading.enumerate() if t is not threading.main_thread()]
    if any(t.is_alive() and not t.daemon for t in others):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


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
