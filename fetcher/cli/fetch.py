"""`fetcher fetch URLS_FILE --strategy NAME --out FILE`: fetch once, one JSON line per result.

Results are written as whole JSON lines, in batches flushed at least every 0.2 s (see
`fetcher.cli.output`), so an interrupted run keeps every finished result and `--resume FILE`
picks up where it stopped, even after a crash that cut the last line short. The URL file is
streamed and only counts are kept, so memory does not grow with the batch.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import threading
from array import array
from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO

from fetcher.cli import exits
from fetcher.cli.args import add_fetch_options, config_from_args, require_extras
from fetcher.cli.output import OutputClosed, OutputFailed, ResultsWriter, open_results
from fetcher.config import FetchConfig
from fetcher.errors import FetcherError
from fetcher.models import FetchResult, OnResult
from fetcher.resume import DoneSet
from fetcher.strategies import STRATEGIES, Strategy
from fetcher.urls import UrlFile

if TYPE_CHECKING:
    from fetcher.render.console import ProgressHooks

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
        help="JSON-lines output, one line per result ('-', the default: stdout), in the "
        "order results complete: index (the URL's place among the file's URLs, from 0; blank "
        "and comment lines are not counted), url, status, nbytes, started_ms, elapsed_ms, "
        "worker, error (a kind, or null), detail, attempts",
    )
    parser.add_argument(
        "--resume",
        default=None,
        metavar="FILE",
        help="skip the URLs this results file records as fetched, and append the rest to it "
        "(a last line cut short by a crash is dropped first, and said so)",
    )
    add_fetch_options(parser)


def run(args: argparse.Namespace) -> int:
    """Fetch the file's URLs with one strategy, streaming results to --out."""
    from fetcher.strategies import get_strategy

    urls = UrlFile(args.urls_file)  # a bad file stops here, before any request
    try:
        config = config_from_args(args)
        require_extras([args.strategy])
        strategy = get_strategy(args.strategy)
        done = DoneSet(0)
        if args.resume:
            out, name, done = open_resumed(args, urls)
        else:
            out, name = open_results(args.out)
        todo = Pending(urls, done)
        return fetch(args, strategy, config, todo, ResultsWriter(out, name))
    finally:
        urls.close()


def fetch(
    args: argparse.Namespace,
    strategy: Strategy,
    config: FetchConfig,
    todo: Pending,
    writer: ResultsWriter,
) -> int:
    """Run the batch into `writer`; the exit status, after the summary or the one-line error."""
    from fetcher.loop import loop_name
    from fetcher.render.console import progress_bars, stderr_console
    from fetcher.render.fetch import fetch_summary, retries_note
    from fetcher.strategies.base import clock

    t0 = clock()
    code = exits.OK
    failure: Exception | None = None
    try:
        with progress_bars(args.quiet) as bars:
            bars.start(args.strategy, len(todo))
            if len(todo):
                strategy.run(todo, config, results_sink(writer, bars, todo), t0)
    except KeyboardInterrupt as stop:
        code = exits.interrupted(stop)
    except (OutputFailed, OutputClosed) as error:
        failure = error
    try:
        writer.close()
    except (OutputFailed, OutputClosed) as error:
        failure = failure or error
    if isinstance(failure, OutputClosed):
        code = quit_quietly()
    elif failure is not None:
        print(f"fetcher fetch: error: {failure}", file=sys.stderr)
        code = exits.FAILED
    else:
        summary = fetch_summary(writer.count, writer.ok, writer.errors, clock() - t0)
        if STRATEGIES[args.strategy].asynchronous:
            summary += f" on {loop_name()}"
        summary += retries_note(writer.retried, writer.retries)
        prefix = "interrupted: " if code != exits.OK else ""
        skipped = f" ({len(todo.done)} already fetched, skipped)" if len(todo.done) else ""
        stderr_console().print(prefix + summary + skipped, highlight=False)
        if code == exits.OK and writer.ok < writer.count:
            code = exits.FAILED  # some URL failed: every result is still written
    if code not in (exits.OK, exits.FAILED):
        exit_if_threads_linger(code)
    return code


def results_sink(writer: ResultsWriter, bars: ProgressHooks, todo: Pending) -> OnResult:
    """Where each result goes: to the writer, and to the bar when one is shown, renumbered
    when --resume skipped some. Without either, straight to the writer: no call between."""
    renumber = len(todo.done) > 0
    if bars.progress is None and not renumber:
        return writer.add

    def on_result(result: FetchResult) -> None:
        # Renumbered only when --resume skipped some: replace() costs ~5 µs a result.
        if renumber:
            result = dataclasses.replace(result, index=todo.index_of(result.index))
        writer.add(result)
        bars.advance()

    return on_result


def open_resumed(args: argparse.Namespace, urls: UrlFile) -> tuple[BinaryIO, str, DoneSet]:
    """The --resume file, repaired and opened for appending, and the indices it has done."""
    from fetcher.resume import repair, scan

    if args.out not in (None, args.resume):
        raise FetcherError("--resume appends to its own file; drop --out or give it the same file")
    found = scan(args.resume, urls, len(urls))
    out, name = open_results(args.resume, append=True)  # refused here, before any request
    for problem in found.problems(args.resume):
        print(f"fetcher fetch: {problem}", file=sys.stderr)
    repair(args.resume, found)
    return out, name, found.done


class Pending:
    """The URLs still to fetch, streamed from the file; strategies number them 0, 1, ...

    Without --resume that number is the URL's index in the file; with it, a compact array maps
    one to the other (8 bytes per URL still to fetch). Worker processes are sent it whole, the
    file's path and the done bitmap, and read the file themselves.
    """

    streamed = True

    def __init__(self, urls: UrlFile, done: DoneSet) -> None:
        self.urls = urls
        self.done = done
        self._indices: array[int] | None = None
        if len(done):
            self._indices = array("Q", (i for i in range(len(urls)) if i not in done))

    def __len__(self) -> int:
        return len(self.urls) - len(self.done)

    def __iter__(self) -> Iterator[str]:
        if not len(self.done):
            return iter(self.urls)  # nothing to skip: no membership test per URL
        return (url for index, url in enumerate(self.urls) if index not in self.done)

    def __contains__(self, url: object) -> bool:
        return any(each == url for each in self)

    def __getstate__(self) -> dict[str, object]:
        return {**self.__dict__, "_indices": None}  # the parent alone maps positions back

    def index_of(self, position: int) -> int:
        """The index in the URL file of the `position`-th URL still to fetch."""
        return position if self._indices is None else self._indices[position]


def quit_quietly() -> int:
    """The reader of stdout is gone: stop without a word, as Unix tools do."""
    from fetcher.cli.output import silence_stdout

    silence_stdout()
    return exits.BROKEN_PIPE


def exit_if_threads_linger(code: int) -> None:
    """End the process now if a worker thread is still blocked in a request.

    Python cannot interrupt a thread blocked in a socket read, and the interpreter waits for
    it at exit, up to the read timeout. Every result is written and flushed by now (or the
    output has failed, and nothing more can be written).
    """
    others = [t for t in threading.enumerate() if t is not threading.main_thread()]
    if any(t.is_alive() and not t.daemon for t in others):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
