"""`fetcher gil`: counts one after the other, in threads and in processes, and why they differ."""

from __future__ import annotations

import argparse

from fetcher.cli import exits
from fetcher.cli.args import int_between


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add `--count` and `--workers`."""
    # fetcher.gil is stdlib only, so importing it here keeps `fetcher gil --help` fast.
    from fetcher.gil import DEFAULT_COUNT, DEFAULT_WORKERS, MAX_WORKERS

    parser.add_argument(
        "--count",
        type=int_between(1),
        default=DEFAULT_COUNT,
        metavar="N",
        help="how far each worker counts, one step at a time (default: %(default)s)",
    )
    parser.add_argument(
        "--workers",
        type=int_between(1, MAX_WORKERS),
        default=DEFAULT_WORKERS,
        metavar="K",
        help="how many counts: run in turn, in K threads, in K processes (default: %(default)s)",
    )


def run(args: argparse.Namespace) -> int:
    """Run the three modes, telling each as it goes, then compare them and explain."""
    from fetcher import gil
    from fetcher.render.console import Console
    from fetcher.render.gil import heading, interpreter_table, modes_table, print_table

    console = Console(highlight=False)
    results = []
    for mode in gil.MODES:
        print(heading(mode, args.count, args.workers), flush=True)
        result = gil.measure(mode, args.count, args.workers)
        print(*gil.narrate(result), sep="\n", end="\n\n", flush=True)
        results.append(result)
    measured = gil.GilRun(args.count, args.workers, tuple(results))
    info = gil.interpreter_info()
    print_table(console, modes_table(measured))
    print_table(console, interpreter_table(info))
    for sentence in gil.explain(measured, info):
        console.print(sentence, markup=False)
    return exits.OK
