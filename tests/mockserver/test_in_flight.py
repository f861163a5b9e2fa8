"""The server's in-flight series: a peak per interval, gaps held, bounded by coarsening."""

from __future__ import annotations

from fetcher import FetchConfig
from mock_server import MockServer
from mock_server.in_flight import INTERVAL_S, MAX_INTERVALS, InFlightSeries
from tests.conftest import fetch


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now_s = 0.0

    def __call__(self) -> float:
        return self.now_s


def test_each_interval_keeps_its_peak_and_quiet_ones_hold_the_count() -> None:
    """Up to 3 and back to 1 within one interval reads 3; the silent intervals after read 1."""
    clock = Clock()
    series = InFlightSeries(clock=clock)
    for in_flight in (1, 2, 3, 2, 1):
        series.note(in_flight)
    clock.now_s = 3.5 * INTERVAL_S
    series.note(0)
    assert series.to_json() == {"interval_s": INTERVAL_S, "peaks": [3, 1, 1, 1]}


def test_a_long_series_doubles_its_interval_and_keeps_the_peaks() -> None:
    """Past MAX_INTERVALS neighbours merge: the interval doubles and a lone spike survives."""
    clock = Clock()
    series = InFlightSeries(clock=clock)
    series.note(1)
    clock.now_s = 10 * INTERVAL_S
    series.note(50)
    series.note(1)
    clock.now_s = (MAX_INTERVALS + 5) * INTERVAL_S
    series.note(0)
    seen = series.to_json()
    assert seen["interval_s"] == 2 * INTERVAL_S
    assert len(seen["peaks"]) <= MAX_INTERVALS
    assert seen["peaks"][5] == 50 and max(seen["peaks"][6:]) == 1


def test_stats_show_requests_in_flight_over_time(fresh_server: MockServer) -> None:
    """Eight threads at 200 ms each: the series peaks at eight, for about 200 ms."""
    urls = [fresh_server.url_for(f"/items/{i}?latency=200ms") for i in range(8)]
    fetch("threads", urls, FetchConfig(concurrency=8))
    seen = fresh_server.stats()
    peaks = seen["in_flight_series"]["peaks"]
    assert max(peaks) == seen["peak_in_flight"] == 8
    # Eight requests of 200 ms overlapped: at least 150 ms of intervals saw all eight.
    assert peaks.count(8) * seen["in_flight_series"]["interval_s"] >= 0.15
