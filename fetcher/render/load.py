"""`fetcher load` drawn: the live line on stderr while it runs, and the final report on stdout.

The live display goes to stderr and only when stderr is a terminal. Both read the report's data
(`fetcher.load.report.to_json`), so what is printed and what `--json` writes cannot disagree.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import RenderableType
from rich.live import Live
from rich.table import Table

from fetcher.load.results import Progress
from fetcher.render.console import Console

BAR_WIDTH = 40


@contextmanager
def live_display(enabled: bool | None = None) -> Iterator[LiveLine]:
    """A live line on stderr while the run goes; silent when stderr is not a terminal."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield LiveLine(None)
        return
    # Refreshed only when progress arrives, so no drawing thread competes with the client.
    with Live(console=Console(stderr=True), auto_refresh=False, transient=True) as live:
        yield LiveLine(live)


class LiveLine:
    """Updates the live display with a progress snapshot."""

    def __init__(self, live: Live | None) -> None:
        self.live = live

    def __call__(self, progress: Progress) -> None:
        """Show `progress`."""
        if self.live is None:
            return
        rate = progress.requests / progress.elapsed_s if progress.elapsed_s > 0 else 0.0
        self.live.update(
            f"[bold]{progress.elapsed_s:6.1f} s[/]  {progress.requests:>9,} requests  "
            f"{rate:>9,.0f}/s  errors {progress.errors:,}  "
            f"p50 {progress.p50_ms:.2f} ms  p99 {progress.p99_ms:.2f} ms",
            refresh=True,
        )


def render(data: dict[str, Any], console: Console | None = None) -> None:
    """Print the final report from `to_json`'s data."""
    console = console or Console()
    for part in _sections(data):
        # A pipe gets whole lines: the verdict is a sentence, not a column of fragments.
        console.print(part, soft_wrap=not console.is_terminal)


def _sections(data: dict[str, Any]) -> Iterator[RenderableType]:
    """The report, section by section."""
    yield _summary(data)
    if data["responses"]:
        yield _latency_table(data)
        yield _histogram_text(data["histogram"], "corrected " if data["model"] == "open" else "")
        yield _counts_table("status", data["status"])
    else:
        # A table of zeros would read as a measurement; there is none.
        yield "[bold red]no request got a response[/]: there is no latency to show"
    if data["errors"]:
        yield _counts_table("errors", data["errors"])
    if "server" in data:
        yield _server_table(data["server"])


def _summary(data: dict[str, Any]) -> str:
    """Totals, the achieved rate and what was asked."""
    lines = [
        f"[bold]{data['model']} model[/], {data['client']} client"
        + (f" (pipelined x{data['pipeline']})" if data.get("pipeline", 1) > 1 else "")
        + f" on {data.get('loop', 'asyncio')}, {data['processes']} "
        + ("process, " if data["processes"] == 1 else "processes, ")
        + (
            f"at most {data['concurrency']:,} in flight (-c)"
            if data["model"] == "open"
            else _connections(data)
        )
        + (f" [red](interrupted{_by(data)})[/]" if data["interrupted"] else ""),
        f"sent       {data['sent']:,} in {data['sending_s']:.3f} s "
        f"= [bold]{data['sent_per_s']:,.1f}/s[/]"
        + (f" (target {data['target_rate']:,.1f}/s)" if "target_rate" in data else ""),
        f"requests   {data['requests']:,} done in {data['duration_s']:.3f} s "
        f"= {data['requests_per_s']:,.1f}/s"
        + (
            f" ({data['drain_s']:.3f} s of it draining the last in flight)"
            if data["drain_s"] >= 0.001
            else ""
        ),
        f"responses  {data['responses']:,} ({_share(data['responses'], data['sent'])} of sent), "
        f"bytes {data['bytes']:,}, unfinished {data['unfinished']:,}",
    ]
    if "dask" in data:
        dask = data["dask"]
        rates = ", ".join(f"{w['requests_per_s']:,.1f}/s" for w in dask["per_worker"])
        lines.append(
            f"dask       {dask['workers']} workers on {dask['hosts']} host(s), per worker: {rates}"
        )
    if "late_starts" in data:
        threshold_ms = data["late_start_threshold_ms"]
        lag = data["start_lag_ms"]
        lines.append(
            f"late starts {data['late_starts']:,} (> {threshold_ms:g} ms after due); start lag "
            f"p50 {lag['p50']:,.3f} ms, p99 {lag['p99']:,.3f} ms (from a request's due time to "
            "its sending: the corrected latency includes it; the generator's timer wakes about "
            "every millisecond)"
        )
    lines.append(f"verdict    {data['verdict']}")
    return "\n".join(lines)


def _share(part: int, whole: int) -> str:
    """`part` as a percentage of `whole`, as oha shows its success rate."""
    return f"{100 * part / whole:.2f}%" if whole else "-"


def _latency_table(data: dict[str, Any]) -> RenderableType:
    """Latency percentiles; in the open model corrected and uncorrected side by side, with
    what each counts from."""
    open_model = data["model"] == "open"
    caption = (
        "corrected: from when each request was due (coordinated omission corrected, as wrk2 "
        "does: a late start counts); uncorrected: from when it was sent"
        if open_model
        else None
    )
    table = Table(
        title="latency (ms)", title_justify="left", caption=caption, caption_justify="left"
    )
    table.add_column("")
    columns = [("corrected" if open_model else "latency", data["latency_ms"])]
    if open_model:
        columns.append(("uncorrected", data["latency_uncorrected_ms"]))
    for name, _ in columns:
        table.add_column(name, justify="right")
    for key in data["latency_ms"]:
        table.add_row(key, *(f"{values[key]:,.3f}" for _, values in columns))
    return table


def _histogram_text(rows: list[dict[str, Any]], which: str = "") -> str:
    """A bar per bucket, scaled to the fullest one; `which` latency it is, if there are two."""
    most = max((row["count"] for row in rows), default=0) or 1
    lines = [f"{which}latency histogram (ms, upper edge)"]
    for row in rows:
        bar = "■" * round(BAR_WIDTH * row["count"] / most)
        lines.append(f"{row['to_ms']:>12,.3f} [{row['count']:>9,}] |{bar}")
    return "\n".join(lines)


def _counts_table(title: str, counts: dict[str, int]) -> RenderableType:
    """A two-column table of counts."""
    table = Table(title=title, title_justify="left")
    table.add_column("code" if title == "status" else "kind")
    table.add_column("count", justify="right")
    for key, count in counts.items():
        table.add_row(str(key), f"{count:,}")
    return table


# What the server's peak counts, beside the client's connections: without --latency its
# handler answers at once, so it shows 1 while the client keeps 64 requests in flight.
SERVER_IN_FLIGHT = (
    "peak in its handlers: the most requests its handlers held at the same time; one still "
    "waiting in its socket or event loop is not counted, so when the handler answers at once "
    "(no --latency, --jitter or slow faults) it is 1"
)


def _connections(data: dict[str, Any]) -> str:
    """'64 connections', or pipelined '16 connections (64 in flight, -c)'."""
    connections = data.get("connections", data["concurrency"])
    pipelined = f" ({data['concurrency']:,} in flight, -c)" if data.get("pipeline", 1) > 1 else ""
    return f"{connections:,} connections{pipelined}"


def _by(data: dict[str, Any]) -> str:
    """' by SIGTERM': the signal that stopped the run, when the report knows it."""
    return f" by {data['stopped_by']}" if data.get("stopped_by") else ""


def _server_table(stats: dict[str, Any]) -> RenderableType:
    """The bundled server's own view of the run."""
    table = Table(
        title="server's view (/stats)",
        title_justify="left",
        caption=SERVER_IN_FLIGHT,
        caption_justify="left",
    )
    table.add_column("")
    table.add_column("value", justify="right")
    table.add_row("requests", f"{stats.get('requests', 0):,}")
    table.add_row("connections used", f"{stats.get('connections', 0):,}")
    table.add_row("peak in its handlers", f"{stats.get('peak_in_flight', 0):,}")
    for code, count in sorted(stats.get("by_status", {}).items()):
        table.add_row(f"status {code}", f"{count:,}")
    for fault, count in sorted(stats.get("faults", {}).items()):
        table.add_row(f"fault {fault}", f"{count:,}")
    return table
