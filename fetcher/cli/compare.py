"""`fetcher compare [URLS_FILE]`: the same batch fetched every way, side by side."""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from fetcher.cli import exits
from fetcher.cli.args import (
    add_fetch_options,
    config_from_args,
    positive_int,
    require_extras,
    strategy_list,
)
from fetcher.cli.batch import add_batch_options, add_cpu_ms, open_batch, with_cpu_ms
from fetcher.errors import FetcherError
from fetcher.strategies import STRATEGIES

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from rich.console import Console

    from fetcher.compare.summary import RunSummary, StrategyRun
    from fetcher.models import FetchResult

DEFAULT_COUNT = 100
# dask needs its extra and starts a cluster: compare runs it when asked.
BUILT_IN = [name for name, traits in STRATEGIES.items() if traits.extra is None]
DEFAULT_LATENCY = "100ms"
TEXT_TIMELINE = "-"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `fetcher compare`, and the meaning of every column it prints."""
    from fetcher.compare.summary import LEGEND

    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    width = max(len(name) for name, _ in LEGEND)
    parser.epilog = "the columns:\n" + "\n".join(
        textwrap.fill(
            meaning, 96, initial_indent=f"  {name:<{width}}  ", subsequent_indent=" " * (width + 4)
        )
        for name, meaning in LEGEND
    )
    parser.epilog += "\n\n" + exits.HELP
    add_batch_options(parser, DEFAULT_COUNT, DEFAULT_LATENCY)
    parser.add_argument(
        "--strategies",
        type=strategy_list,
        default=BUILT_IN,
        help="comma-separated, default every one that needs no extra: "
        + ",".join(BUILT_IN)
        + " (add dask to run it on a LocalCluster)",
    )
    parser.add_argument(
        "--repeat",
        type=positive_int,
        default=1,
        help="run each strategy K times and report the median (with min-max)",
    )
    parser.add_argument(
        "--timeline",
        nargs="?",
        const=TEXT_TIMELINE,
        default=None,
        metavar="FILE.png",
        help="draw each request, start to end, in a lane per worker: to FILE.png "
        "(needs the plot extra), or as text in the terminal when no file is given",
    )
    add_cpu_ms(parser)
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the summaries as JSON")
    parser.add_argument("--csv", type=Path, metavar="FILE", help="write the summaries as CSV")
    parser.add_argument(
        "--html",
        type=Path,
        metavar="FILE",
        help="write the table, the sentences and every request's timeline as one HTML file "
        "(needs the html extra)",
    )
    add_fetch_options(parser)


def run(args: argparse.Namespace) -> int:
    """Run the comparison, on a URL file or on the embedded default."""
    from fetcher.compare.explain import explain
    from fetcher.compare.harness import compare
    from fetcher.compare.machine import conditions
    from fetcher.render import compare as report
    from fetcher.render.console import progress_bars, stdout_console

    config = with_cpu_ms(config_from_args(args), args)
    if args.timeline not in (None, TEXT_TIMELINE) and not args.timeline.endswith(".png"):
        raise FetcherError(
            f"--timeline draws a .png file, got {args.timeline!r}; "
            "put a URL file before --timeline, not after it"
        )
    if args.timeline not in (None, TEXT_TIMELINE):
        from fetcher.render.plots import require_matplotlib

        require_matplotlib("--timeline FILE.png")
    if args.html:
        from fetcher.render.html import require_html

        require_html(args.html)
    require_extras(args.strategies)
    with (
        open_batch(args, DEFAULT_COUNT, DEFAULT_LATENCY) as batch,
        progress_bars(args.quiet) as bars,
    ):
        config = batch.trusted_by(config)
        # Before the runs: the load average then is other programs', not ours.
        ran_under = conditions(batch.latency_s, config.cpu_ms, config.processes, args.repeat)
        summaries, runs = compare(
            batch.urls,
            args.strategies,
            config,
            server=batch.server,
            latency_s=batch.latency_s,
            repeat=args.repeat,
            on_start=bars.start,
            on_result=bars.advance,
        )
    console = stdout_console()
    sentences = explain(summaries, ran_under)
    report.print_comparison(summaries, sentences, batch.title, console, with_legend=not args.quiet)
    if args.timeline:
        results = {name: run.results for name, run in runs.items()}
        _timeline(args.timeline, results, summaries, console)
    if args.json:
        report.write_json(args.json, summaries)
    if args.csv:
        report.write_csv(args.csv, summaries)
    if args.html:
        _html(args.html, summaries, runs, sentences, batch.title, console)
    return exits.OK


def _timeline(
    target: str,
    results: dict[str, list[FetchResult]],
    summaries: list[RunSummary],
    console: Console,
) -> None:
    """Draw the runs' timelines to a PNG, or print them when no file was named."""
    from fetcher.compare.timeline import timelines

    lines = timelines(results)
    by_name = {s.strategy: s for s in summaries}
    if target == TEXT_TIMELINE:
        from fetcher.render.timeline import render

        console.print()
        for line in render(lines, by_name):
            console.print(line, highlight=False, markup=False, soft_wrap=True)
        return
    from fetcher.render.plots import plot_timelines

    plot_timelines(lines, Path(target), by_name)
    console.print(f"timeline written to {target}", highlight=False)


def _html(
    path: Path,
    summaries: Sequence[RunSummary],
    runs: Mapping[str, StrategyRun],
    sentences: Sequence[str],
    title: str,
    console: Console,
) -> None:
    """Write the self-contained HTML report."""
    from fetcher.render.html import compare_data, compare_page, write

    write(path, compare_page(compare_data(summaries, runs, sentences, title)))
    console.print(f"report written to {path}", highlight=False)
