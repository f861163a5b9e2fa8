"""What `fetcher load` shows and writes: the live line, the final report, JSON and CSV.

The live display goes to stderr and only when stderr is a terminal; the report goes to stdout.
Rich is imported inside the functions that draw, so importing this module stays cheap.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from hdrh.histogram import HdrHistogram
    from rich.console import Console, RenderableType
    from rich.live import Live

    from fetcher.load import LoadResult, Progress

PERCENTILES: tuple[tuple[str, float], ...] = (
    ("p50", 50.0),
    ("p90", 90.0),
    ("p95", 95.0),
    ("p99", 99.0),
    ("p99.9", 99.9),
    ("p99.99", 99.99),
)
CSV_HEADER = (
    "index",
    "url",
    "due_ms",
    "sent_ms",
    "latency_ms",
    "latency_corrected_ms",
    "status",
    "nbytes",
    "error",
)
HISTOGRAM_BUCKETS = 12
BAR_WIDTH = 40


class RequestCsv:
    """Per-request rows written as they come, so a long run never holds them all."""

    def __init__(self, path: str) -> None:
        self.file: TextIO = open(path, "w", newline="", encoding="utf-8")  # noqa: SIM115
        self.writer = csv.writer(self.file)

    def write_rows(self, rows: Iterable[tuple[object, ...]]) -> None:
        """Append rows in CSV_HEADER's order."""
        self.writer.writerows(rows)

    def close(self) -> None:
        """Flush and close the file."""
        self.file.close()


def write_csv(parts: Iterable[str], path: str) -> None:
    """Join the generators' row files into one CSV with a header, and remove the parts."""
    with open(path, "w", newline="", encoding="utf-8") as out:
        csv.writer(out).writerow(CSV_HEADER)
        for part in parts:
            if os.path.exists(part):
                with open(part, encoding="utf-8") as rows:
                    shutil.copyfileobj(rows, out)
                os.remove(part)


def latency_summary_ms(hist: HdrHistogram) -> dict[str, float]:
    """min, mean, the percentiles and max of a microsecond histogram, in milliseconds."""
    if hist.get_total_count() == 0:
        return {key: 0.0 for key in ("min", "mean", *dict(PERCENTILES), "max")}
    summary = {"min": hist.get_min_value() / 1000, "mean": hist.get_mean_value() / 1000}
    for name, percentile in PERCENTILES:
        summary[name] = hist.get_value_at_percentile(percentile) / 1000
    summary["max"] = hist.get_max_value() / 1000
    return {key: round(value, 3) for key, value in summary.items()}


def histogram_rows(hist: HdrHistogram, buckets: int = HISTOGRAM_BUCKETS) -> list[dict[str, Any]]:
    """Counts in buckets from min to max: linear, or logarithmic when the range is wide."""
    low, high = max(hist.get_min_value(), 1), hist.get_max_value()
    if hist.get_total_count() == 0 or high <= low:
        return [{"to_ms": high / 1000, "count": hist.get_total_count()}]
    edges = _edges(low, high, buckets)
    counts = [0] * len(edges)
    position = 0
    for item in hist.get_recorded_iterator():
        value = item.value_iterated_to
        while position < len(edges) - 1 and value > edges[position]:
            position += 1
        counts[position] += item.count_added_in_this_iter_step
    return [{"to_ms": round(e / 1000, 3), "count": c} for e, c in zip(edges, counts, strict=True)]


def _edges(low: int, high: int, buckets: int) -> list[float]:
    """Upper bucket edges in microseconds."""
    if high / low > 100:
        ratio = (high / low) ** (1 / buckets)
        return [low * ratio ** (i + 1) for i in range(buckets)]
    step = (high - low) / buckets
    return [low + step * (i + 1) for i in range(buckets)]


def to_json(result: LoadResult, server_stats: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything the report shows, as JSON-ready data."""
    config = result.config
    data: dict[str, Any] = {
        "model": config.model,
        "client": config.client,
        "processes": config.processes,
        "concurrency": config.concurrency,
        "targets": list(config.urls[:10]),
        "target_count": len(config.urls),
        "interrupted": result.interrupted,
        "requests": result.requests,
        "unfinished": result.unfinished,
        "duration_s": round(result.duration_s, 4),
        "requests_per_s": round(result.requests_per_s, 2),
        "bytes": result.nbytes,
        # Requests that got an HTTP answer (any status): the ones the latency figures describe.
        "responses": sum(result.status.values()),
        "latency_ms": latency_summary_ms(result.latency),
        "histogram": histogram_rows(result.latency),
        "status": {str(code): count for code, count in result.status.items()},
        "errors": dict(result.errors),
        "per_process_requests": list(result.per_process),
    }
    if config.rate is not None:
        data["target_rate"] = config.rate
        data["late_starts"] = result.late_starts
        data["late_start_threshold_ms"] = _late_threshold_ms()
        data["latency_uncorrected_ms"] = latency_summary_ms(result.uncorrected)
        data["start_lag_ms"] = latency_summary_ms(result.start_lag)
    if server_stats is not None:
        data["server"] = server_stats
    return data


def _late_threshold_ms() -> float:
    from fetcher.load import LATE_START_MS

    return LATE_START_MS


def write_json(data: dict[str, Any], path: str) -> None:
    """Write the report's data to `path`."""
    Path(path).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


@contextmanager
def live_display(enabled: bool | None = None) -> Iterator[LiveLine]:
    """A live line on stderr while the run goes; silent when stderr is not a terminal."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield LiveLine(None)
        return
    from rich.console import Console
    from rich.live import Live

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
    from rich.console import Console

    console = console or Console()
    for part in _sections(data):
        console.print(part)


def _sections(data: dict[str, Any]) -> Iterator[RenderableType]:
    """The report, section by section."""
    yield _summary(data)
    if data["responses"]:
        yield _latency_table(data)
        yield _histogram_text(data["histogram"])
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
        f"[bold]{data['model']} model[/], {data['client']}, {data['processes']} process(es), "
        f"concurrency {data['concurrency']}"
        + (" [red](interrupted)[/]" if data["interrupted"] else ""),
        f"requests   {data['requests']:,} in {data['duration_s']:.2f} s "
        f"= [bold]{data['requests_per_s']:,.1f}/s[/]"
        + (f" (target {data['target_rate']:,.1f}/s)" if "target_rate" in data else ""),
        f"responses  {data['responses']:,} ({_share(data['responses'], data['requests'])}), "
        f"bytes {data['bytes']:,}, unfinished {data['unfinished']:,}",
    ]
    if "late_starts" in data:
        threshold_ms = data["late_start_threshold_ms"]
        lines.append(f"late starts {data['late_starts']:,} (> {threshold_ms:g} ms after due)")
    return "\n".join(lines)


def _share(part: int, whole: int) -> str:
    """`part` as a percentage of `whole`, as oha shows its success rate."""
    return f"{100 * part / whole:.2f}%" if whole else "-"


def _latency_table(data: dict[str, Any]) -> RenderableType:
    """Latency percentiles; in the open model corrected and uncorrected side by side."""
    from rich.table import Table

    table = Table(title="latency (ms)", title_justify="left")
    table.add_column("")
    columns = [("corrected" if "latency_uncorrected_ms" in data else "latency", data["latency_ms"])]
    if "latency_uncorrected_ms" in data:
        columns.append(("uncorrected", data["latency_uncorrected_ms"]))
    for name, _ in columns:
        table.add_column(name, justify="right")
    for key in data["latency_ms"]:
        table.add_row(key, *(f"{values[key]:,.3f}" for _, values in columns))
    return table


def _histogram_text(rows: list[dict[str, Any]]) -> str:
    """A bar per bucket, scaled to the fullest one."""
    most = max((row["count"] for row in rows), default=0) or 1
    lines = ["latency histogram (ms, upper edge)"]
    for row in rows:
        bar = "■" * round(BAR_WIDTH * row["count"] / most)
        lines.append(f"{row['to_ms']:>12,.3f} [{row['count']:>9,}] |{bar}")
    return "\n".join(lines)


def _counts_table(title: str, counts: dict[str, int]) -> RenderableType:
    """A two-column table of counts."""
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    table.add_column("code" if title == "status" else "kind")
    table.add_column("count", justify="right")
    for key, count in counts.items():
        table.add_row(str(key), f"{count:,}")
    return table


def _server_table(stats: dict[str, Any]) -> RenderableType:
    """The bundled server's own view of the run."""
    from rich.table import Table

    table = Table(title="server's view (/stats)", title_justify="left")
    table.add_column("")
    table.add_column("value", justify="right")
    table.add_row("requests", f"{stats.get('requests', 0):,}")
    table.add_row("peak in flight", f"{stats.get('peak_in_flight', 0):,}")
    for code, count in sorted(stats.get("by_status", {}).items()):
        table.add_row(f"status {code}", f"{count:,}")
    for fault, count in sorted(stats.get("faults", {}).items()):
        table.add_row(f"fault {fault}", f"{count:,}")
    return table
