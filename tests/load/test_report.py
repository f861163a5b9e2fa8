"""The load report's data for charts: the latency spectrum and throughput over time."""

from __future__ import annotations

import pytest

from fetcher.load import LoadConfig, run_load, throughput
from fetcher.load.report import spectrum_ms, to_json
from fetcher.load.results import new_histogram
from fetcher.load.throughput import INTERVAL_S, MAX_SAMPLES, Sampler, Throughput
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


def test_throughput_over_time_adds_up_to_the_run(server: MockServer) -> None:
    """The per-interval counts of a real run sum to its requests and its errors, in order."""
    urls = (server.url_for("/status/200:0.5,503:0.5"),)
    for processes in (1, 2):
        result = run_load(LoadConfig(urls=urls, concurrency=2, duration_s=0.5, processes=processes))
        series = to_json(result)["throughput"]
        assert sum(series["requests"]) == result.requests > 0
        assert sum(series["errors"]) == result.status.get(503, 0) > 0
        assert series["t_s"] == sorted(series["t_s"])
        assert series["t_s"][-1] == pytest.approx(result.duration_s, abs=0.01)
        assert len(series["t_s"]) >= 0.5 / INTERVAL_S - 1


def test_a_long_run_keeps_a_bounded_number_of_samples() -> None:
    """Past MAX_SAMPLES the interval doubles; the totals still end where the run did."""
    sampler = Sampler()
    run_s = 3 * MAX_SAMPLES * INTERVAL_S
    while sampler.next_s <= run_s:
        t_s = sampler.next_s
        sampler.take(t_s, requests=round(100 * t_s), errors=round(10 * t_s))
    sampled = sampler.sampled()
    assert MAX_SAMPLES // 2 <= len(sampled.t_s) <= MAX_SAMPLES
    assert sampler.interval_s == 4 * INTERVAL_S
    assert sampled.t_s[-1] == pytest.approx(run_s, abs=sampler.interval_s)
    assert sampled.requests[-1] == round(100 * sampled.t_s[-1])


def test_parts_merge_on_the_coarsest_times() -> None:
    """A fine part and a coarse part: totals add at the coarse part's times and at the end."""
    fine = Throughput((0.1, 0.2, 0.3, 0.4, 0.45), (1, 2, 3, 4, 5), (0, 0, 0, 1, 1))
    coarse = Throughput((0.2, 0.4), (10, 20), (1, 2))
    merged = throughput.merge([fine, coarse, Throughput()])
    assert merged == Throughput((0.2, 0.4, 0.45), (12, 24, 25), (1, 3, 3))


def test_the_last_sample_is_the_end_of_the_run() -> None:
    """A final total a sliver after the last sample replaces it rather than reading as a spike."""
    sampler = Sampler()
    sampler.take(0.1, 5, 0)
    sampler.finish(0.12, 7, 1)
    assert sampler.sampled() == Throughput((0.12,), (7,), (1,))
    sampler.finish(0.3, 9, 1)
    assert sampler.sampled().t_s == (0.12, 0.3)
