"""`fetcher gil` drawn: a heading before each mode, then the table of modes and the interpreter."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from fetcher.gil import GilRun, InterpreterInfo

HEADINGS = {
    "sequential": "Sequential: {workers} count(s) to {count:,}, one after the other, in one thread",
    "threads": "Threads: {workers} thread(s), each counting to {count:,}",
    "processes": "Processes: {workers} process(es), each counting to {count:,}",
}


CAPTION = (
    "cores busy: CPU time over the Total execution time above (1.00 is one core kept busy); "
    "speedup: sequential's time over the mode's"
)


def heading(mode: str, count: int, workers: int) -> str:
    """What one mode is about to do, in a line."""
    return HEADINGS[mode].format(count=count, workers=workers)


def modes_table(measured: GilRun) -> Table:
    """CPU time, cores kept busy and speedup of every mode; the wall times are the narrative's
    `Total execution time` lines above it, so they are not printed twice."""
    title = f"{measured.workers} worker(s), each counting to {measured.count:,}"
    table = Table(title=title, caption=CAPTION, caption_justify="left")
    table.add_column("mode")
    for name in ("workers", "CPU time", "cores busy", "speedup"):
        table.add_column(name, justify="right")
    for result in measured.results:
        table.add_row(
            result.mode,
            workers_cell(result.mode, measured.workers),
            f"{result.cpu_s:.4f} s",
            f"{result.utilisation:.2f}",
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
    table = Table(title="interpreter", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("Python", f"{info.implementation} {info.version}")
    table.add_row("free-threaded build", _free_threaded(info))
    table.add_row("GIL enabled", "yes" if info.gil_enabled else "no")
    table.add_row("switch interval", f"{info.switch_interval_s * 1000:g} ms")
    table.add_row("CPU cores", str(info.cpu_count))
    return table


def _free_threaded(info: InterpreterInfo) -> str:
    """Whether this is a free-threaded build, and what one would change."""
    if info.free_threaded_build:
        return "yes: threads can run Python on several cores when the GIL is off"
    return "no (python3.13t and later are: with the GIL off, threads would count in parallel)"


def print_table(console: Console, table: Table) -> None:
    """Print a table followed by a blank line."""
    console.print(table)
    console.print()
