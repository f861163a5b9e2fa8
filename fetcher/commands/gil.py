"""`fetcher gil`: counts one after the other, in threads and in processes, and why they differ."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from fetcher.gil import GilRun, InterpreterInfo

EXIT_OK = 0
HEADINGS = {
    "sequential": "Sequential: {workers} count(s) to {count:,}, one after the other, in one thread",
    "threads": "Threads: {workers} thread(s), each counting to {count:,}",
    "processes": "Processes: {workers} process(es), each counting to {count:,}",
}


def int_between(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number from `low` up to `high` (no upper limit if None)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low or (high is not None and value > high):
            limits = f"at least {low}" if high is None else f"between {low} and {high}"
            raise argparse.ArgumentTypeError(f"must be {limits}, got {value}")
        return value

    return parse


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


def heading(mode: str, count: int, workers: int) -> str:
    """What one mode is about to do, in a line."""
    return HEADINGS[mode].format(count=count, workers=workers)


def run(args: argparse.Namespace) -> int:
    """Run the three modes, telling each as it goes, then compare them and explain."""
    from rich.console import Console

    from fetcher import gil

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
    return EXIT_OK


def modes_table(measured: GilRun) -> Table:
    """Wall time, CPU time, CPU utilisation and speedup of every mode."""
    from rich.table import Table

    title = f"{measured.workers} worker(s), each counting to {measured.count:,}"
    table = Table(title=title)
    table.add_column("mode")
    for name in ("workers", "wall time", "CPU time", "CPU utilisation", "speedup"):
        table.add_column(name, justify="right")
    for result in measured.results:
        table.add_row(
            result.mode,
            workers_cell(result.mode, measured.workers),
            f"{result.wall_s:.4f} s",
            f"{result.cpu_s:.4f} s",
            f"{result.utilisation:.0%}",
            f"{measured.speedup(result.mode):.2f}x",
        )
    return table


def workers_cell(mode: str, workers: int) -> str:
    """Who did the counting in one mode: "1 thread", "2 threads", "2 processes"."""
    if mode == "sequential":
        return "1 thread"
    noun = "thread" if mode == "threads" else "process"
    return f"{workers} {noun}" if workers == 1 else f"{workers} {mode}"


def interpreter_table(info: InterpreterInfo) -> Table:
    """The facts about this interpreter that decide what threads can do."""
    from rich.table import Table

    table = Table(title="interpreter", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("Python", f"{info.implementation} {info.version}")
    table.add_row("free-threaded build", "yes" if info.free_threaded_build else "no")
    table.add_row("GIL enabled", "yes" if info.gil_enabled else "no")
    table.add_row("switch interval", f"{info.switch_interval_s * 1000:g} ms")
    table.add_row("CPU cores", str(info.cpu_count))
    return table


def print_table(console: Console, table: Table) -> None:
    """Print a table followed by a blank line."""
    console.print(table)
    console.print()
