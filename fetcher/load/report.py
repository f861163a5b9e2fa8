"""What a `fetcher load` run measured, as the report's data: what `--json` writes and the
renderer (`fetcher.render.load`) draws."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fetcher.load.config import LATE_START_MS
from fetcher.load.generator import FLUSH_INTERVAL_S
from fetcher.load.verdict import verdict

if TYPE_CHECKING:
    from hdrh.histogram import HdrHistogram

    from fetcher.load.results import LoadResult

PERCENTILES: tuple[tuple[str, float], ...] = (
    ("p50", 50.0),
    ("p90", 90.0),
    ("p95", 95.0),
    ("p99", 99.0),
    ("p99.9", 99.9),
    ("p99.99", 99.99),
)
HISTOGRAM_BUCKETS = 12
# The latency spectrum's percentiles are evenly spaced in "nines", as wrk2 and HdrHistogram plot
# them (90% is one nine, 99% two, 99.9% three): this many points per nine.
SPECTRUM_POINTS_PER_NINE = 10


def latency_summary_ms(hist: HdrHistogram) -> dict[str, float]:
    """min, mean, the percentiles and max of a microsecond histogram, in milliseconds."""
    if hist.get_total_count() == 0:
        return {key: 0.0 for key in ("min", "mean", *dict(PERCENTILES), "max")}
    summary = {"min": hist.get_min_value() / 1000, "mean": hist.get_mean_value() / 1000}
    for name, percentile in PERCENTILES:
        summary[name] = hist.get_value_at_percentile(percentile) / 1000
    summary["max"] = hist.get_max_value() / 1000
    return {key: round(value, 3) for key, value in summary.items()}


def spectrum_ms(hist: HdrHistogram) -> list[dict[str, float]]:
    """Latency at percentiles evenly spaced in nines, as far as the count tells them apart.

    Past 1 - 1/count every percentile is the maximum, which comes last, at log10(count) nines.
    """
    count = hist.get_total_count()
    if count == 0:
        return []
    top_nines = math.log10(count)
    points = []
    for step in range(math.floor(top_nines * SPECTRUM_POINTS_PER_NINE)):
        nines = step / SPECTRUM_POINTS_PER_NINE
        percentile = 100 * (1 - 10**-nines)
        ms = hist.get_value_at_percentile(percentile) / 1000
        points.append({"percentile": round(percentile, 6), "nines": nines, "ms": round(ms, 3)})
    maximum = round(hist.get_max_value() / 1000, 3)
    points.append({"percentile": 100.0, "nines": round(top_nines, 3), "ms": maximum})
    return points


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
        # Requests written on a connection before the first answers (1: no pipelining).
        "pipeline": config.pipeline,
        "loop": result.loop_name,
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
        "responses": result.responses,
        "latency_ms": latency_summary_ms(result.latency),
        "histogram": histogram_rows(result.latency),
        # Corrected in the open model (from when each request was due), as latency_ms is.
        "latency_spectrum_ms": spectrum_ms(result.latency),
        "status": {str(code): count for code, count in result.status.items()},
        "errors": dict(result.errors),
        "per_process_requests": list(result.per_process),
        # Requests started, and the window they were started in; the rest of duration_s was
        # spent draining the requests still in flight when sending stopped.
        "sent": result.sent,
        "sending_s": round(result.sending_s, 4),
        "sent_per_s": round(result.sent / result.sending_s, 2) if result.sending_s > 0 else 0.0,
        "drain_s": round(max(0.0, result.duration_s - result.sending_s), 4),
        "generator_cpu": round(result.generator_cpu, 3),
        # How busy the machine's cores were during the run, all programs together (null: too
        # short to tell).
        "machine_busy": None if result.machine_busy is None else round(result.machine_busy, 3),
        "peak_in_flight": result.peak_in_flight,
        "series_interval_s": FLUSH_INTERVAL_S,
        "series": [
            {"responses": count, "mean_ms": round(total / count / 1000, 3) if count else None}
            for count, total in result.series
        ],
    }
    if result.hosts:
        data["dask"] = {
            "workers": len(result.hosts),
            "hosts": len(set(result.hosts)),
            "per_worker": [
                {
                    "host": host,
                    "requests": requests,
                    "requests_per_s": round(requests / elapsed_s, 2) if elapsed_s > 0 else 0.0,
                }
                for host, requests, elapsed_s in zip(
                    result.hosts, result.per_process, result.per_process_s, strict=True
                )
            ],
        }
    judged = verdict(result, FLUSH_INTERVAL_S)
    data["limited_by"] = judged.limited_by
    data["verdict"] = judged.text
    if config.rate is None:
        # The connections that carried it: -c over --pipeline, rounded up in each process.
        data["connections"] = config.connections
    else:
        data["target_reached"] = judged.target_reached
        data["target_rate"] = config.rate
        data["late_starts"] = result.late_starts
        data["late_start_threshold_ms"] = LATE_START_MS
        data["latency_uncorrected_ms"] = latency_summary_ms(result.uncorrected)
        data["latency_uncorrected_spectrum_ms"] = spectrum_ms(result.uncorrected)
        data["start_lag_ms"] = latency_summary_ms(result.start_lag)
    if server_stats is not None:
        data["server"] = server_stats
    return data


def write_json(data: dict[str, Any], path: str) -> None:
    """Write the report's data to `path`."""
    Path(path).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
