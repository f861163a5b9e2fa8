"""The load report's data for charts: the latency spectrum."""

from __future__ import annotations

import pytest

from fetcher.load import LoadConfig, run_load
from fetcher.load.report import spectrum_ms, to_json
from fetcher.load.results import new_histogram
from mock_server import MockServer
from tests.load.test_load import items


def test_spectrum_reads_percentiles_in_nines_up_to_the_maximum() -> None:
    """1..1000 ms once each: 90% is 900 ms, 99% is 990 ms, and the last point is the max."""
    hist = new_histogram()
    for ms in range(1, 1001):
        hist.record_value(ms * 1000)
    points = spectrum_ms(hist)
    by_nines = {point["nines"]: point for point in points}
    assert by_nines[1.0]["percentile"] == 90.0
    assert by_nines[1.0]["ms"] == pytest.approx(900, rel=0.002)
    assert by_nines[2.0]["ms"] == pytest.approx(990, rel=0.002)
    assert points[0]["ms"] == pytest.approx(1, rel=0.002)
    assert points[-1] == {"percentile": 100.0, "nines": 3.0, "ms": pytest.approx(1000, rel=0.002)}
    assert [p["ms"] for p in points] == sorted(p["ms"] for p in points)
    assert spectrum_ms(new_histogram()) == []


def test_open_model_reports_both_spectra(server: MockServer) -> None:
    """Corrected and uncorrected spectra in the open model, one in the closed model."""
    opened = to_json(run_load(LoadConfig(urls=items(server), rate=200, requests=20)))
    closed = to_json(run_load(LoadConfig(urls=items(server), requests=20)))
    assert opened["latency_spectrum_ms"][-1]["ms"] == opened["latency_ms"]["max"]
    assert (
        opened["latency_uncorrected_spectrum_ms"][-1]["ms"]
        == (opened["latency_uncorrected_ms"]["max"])
    )
    assert closed["latency_spectrum_ms"] and "latency_uncorrected_spectrum_ms" not in closed


def test_a_recorder_fills_its_histogram_as_hdrh_itself_would() -> None:
    """The recorder's inline bucket arithmetic gives hdrh's own counts, totals and extremes,
    from 0 through values past the histogram's top."""
    import random

    from fetcher.load.results import HIST_MAX_US, Recorder, new_histogram

    rng = random.Random(7)
    values = [int(rng.lognormvariate(mu, 1.5)) for mu in (3, 7, 12) for _ in range(3000)]
    values += [0, 1, 2047, 2048, 4095, 4096, HIST_MAX_US, HIST_MAX_US * 10]
    recorder = Recorder()
    recorder.values.extend(values)
    ours = recorder.flushed()
    theirs = new_histogram()
    for value in values:
        theirs.record_value(min(value, HIST_MAX_US))
    assert list(ours.counts) == list(theirs.counts)
    assert (ours.total_count, ours.min_value, ours.max_value) == (
        theirs.total_count,
        theirs.min_value,
        theirs.max_value,
    )
    assert recorder.count == len(values) and recorder.total_us == sum(values)


@pytest.mark.parametrize(
    ("low", "high"),
    [(0, 2047), (150_000, 160_000), (2048, 4095), (4000, 5000)],
    ids=["first bucket", "one bucket far up", "second bucket", "across a boundary"],
)
def test_a_recorder_counts_batches_in_one_bucket_as_hdrh_would(low: int, high: int) -> None:
    """A batch whose values share a bucket (counted with one offset and one shift, as a batch
    of a generator behind its schedule mostly is) lands in hdrh's own cells, in batches."""
    import random

    from fetcher.load.results import Recorder

    rng = random.Random(low)
    recorder = Recorder()
    theirs = new_histogram()
    for _ in range(4):
        batch = [rng.randint(low, high) for _ in range(256)] + [low, high]
        recorder.values.extend(batch)
        recorder.absorb()
        for value in batch:
            theirs.record_value(value)
    assert list(recorder.flushed().counts) == list(theirs.counts)
