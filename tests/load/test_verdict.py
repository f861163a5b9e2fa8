"""The load verdict: each limit is named when its trace is in the run, with the figure behind it.
Results here are fabricated; tests/load/test_load.py checks the verdict of real runs."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fetcher.load.config import LoadConfig
from fetcher.load.results import LoadResult, new_histogram
from fetcher.load.verdict import latency_trend_ms, verdict

INTERVAL_S = 0.25
STEADY = ((1000, 1000 * 2000),) * 12  # 1,000 responses per interval at 2 ms each


def run(rate: float | None = 1000.0, concurrency: int = 100, **figures: Any) -> LoadResult:
    """A 3 s run that sent what it was asked, on a steady target, unless `figures` say else."""
    config = LoadConfig(urls=("http://127.0.0.1:1/",), rate=rate, concurrency=concurrency)
    values: dict[str, Any] = {
        "config": config,
        "requests": 3000,
        "unfinished": 0,
        "duration_s": 3.0,
        "nbytes": 0,
        "late_starts": 0,
        "status": {200: 3000},
        "errors": {},
        "latency": new_histogram(),
        "uncorrected": new_histogram(),
        "start_lag": new_histogram(),
        "interrupted": False,
        "per_process": (3000,),
        "sent": 3000,
        "sending_s": 3.0,
        "generator_cpu": 0.3,
        "peak_in_flight": 5,
        "series": STEADY,
    }
    return LoadResult(**{**values, **figures})


def test_a_rate_kept_with_few_late_starts_is_reached() -> None:
    """3,000 sent in 3 s at 1,000/s asked, no late starts: reached, limited by nothing."""
    judged = verdict(run(), INTERVAL_S)
    assert (judged.target_reached, judged.limited_by) == (True, "none")
    assert "1,000/s of the 1,000/s asked, 0.00% of starts late" in judged.text


def test_a_busy_generator_is_named_with_its_cpu() -> None:
    """A generator at 97% of a core fell behind by itself: add processes. A run not reached
    says what reached would have been."""
    judged = verdict(run(sent=2100, late_starts=900, generator_cpu=0.97), INTERVAL_S)
    assert (judged.target_reached, judged.limited_by) == (False, "generator_cpu")
    assert "700/s of the 1,000/s asked" in judged.text and "97% of a core" in judged.text
    assert "reached means at least 98% of it sent, under 1% of starts late" in judged.text
    assert "--processes" in judged.text


def test_the_closed_model_waiting_on_the_target_says_how_to_tell_saturation() -> None:
    """Connections waiting 2 ms each, 1,000 answers a second, the generator at 30%: raise -c,
    and if the rate stays flat while latency grows, the target is saturated at that rate."""
    judged = verdict(run(rate=None), INTERVAL_S)
    assert (judged.target_reached, judged.limited_by) == (None, "target")
    assert "100 connections were each waiting" in judged.text
    assert "(2.0 ms each on average; it answered 1,000/s)" in judged.text
    assert "saturated at about 1,000/s" in judged.text


def test_the_closed_model_pipelined_counts_its_connections_not_its_requests() -> None:
    """-c 64 --pipeline 4: 16 connections were waiting, 4 requests on each, not 64."""
    pipelined = run(rate=None, concurrency=64)
    config = replace(pipelined.config, pipeline=4)
    judged = verdict(replace(pipelined, config=config), INTERVAL_S)
    assert "its 16 connections (up to 4 pipelined on each) were each waiting" in judged.text


def test_a_full_in_flight_cap_with_steady_latency_says_raise_c() -> None:
    """Every slot busy while the target's latency held: the cap is too small for rate x latency."""
    slow = ((100, 100 * 200_000),) * 12  # 200 ms each, steady
    figures = {"sent": 1500, "late_starts": 1400, "peak_in_flight": 100, "series": slow}
    judged = verdict(run(concurrency=100, **figures), INTERVAL_S)
    assert judged.limited_by == "in_flight_cap"
    assert "all 100 were waiting on answers (200.0 ms each" in judged.text
    assert "needs about 200 in flight); raise -c" in judged.text


def test_a_target_whose_latency_rose_is_named() -> None:
    """Latency climbing from 2 ms to 400 ms while requests piled up: the target is the limit."""
    rising = ((500, 500 * 2000),) * 3 + ((300, 300 * 100_000),) * 6 + ((100, 100 * 400_000),) * 3
    figures = {"sent": 2000, "late_starts": 800, "peak_in_flight": 100, "series": rising}
    judged = verdict(run(concurrency=100, **figures), INTERVAL_S)
    assert judged.limited_by == "target"
    assert "latency went from 2.0 ms in the first quarter of the run to 400.0 ms in the last" in (
        judged.text
    )
    assert "lower --rate" in judged.text


def test_a_full_open_model_pool_under_the_cap_is_named_with_its_size() -> None:
    """The pool stopped at 64 connections, far under -c 2000, all busy as latency rose: it is
    named, not the target alone; with a connection free the target is."""
    rising = ((500, 500 * 2000),) * 3 + ((300, 300 * 100_000),) * 6 + ((100, 100 * 400_000),) * 3
    figures = {"sent": 2000, "late_starts": 800, "series": rising, "pool": 64}
    judged = verdict(run(concurrency=2000, peak_in_flight=64, **figures), INTERVAL_S)
    assert judged.limited_by == "pool"
    assert "the open model's pool was full, all 64 requests it holds in flight" in judged.text
    assert "from 2.0 ms to 400.0 ms" in judged.text and "lower --rate" in judged.text
    free = verdict(run(concurrency=2000, peak_in_flight=63, **figures), INTERVAL_S)
    assert free.limited_by == "target"


def test_a_full_pool_that_could_carry_the_rate_blames_the_schedule_not_the_pool() -> None:
    """64 connections all busy once, but at the target's steady 2 ms they carry 32,000/s, far
    over the 1,000/s asked: a backlog filled them (a pause of the generator), so the schedule
    is named, not the pool ("latency went from 2.0 ms to 2.0 ms" said nothing)."""
    figures = {"sent": 2990, "late_starts": 120, "pool": 64, "peak_in_flight": 64}
    judged = verdict(run(concurrency=2000, **figures), INTERVAL_S)
    assert judged.limited_by == "schedule"
    assert "the target kept up" in judged.text and "pool" not in judged.text
    # At the edge: 1,000/s at a steady 60 ms needs 60 in flight, at 70 ms 70, past the 64.
    for latency_us, limit in ((60_000, "schedule"), (70_000, "pool")):
        steady = ((1000, 1000 * latency_us),) * 12
        edge = verdict(run(concurrency=2000, series=steady, **figures), INTERVAL_S)
        assert edge.limited_by == limit


def test_a_target_that_fell_silent_is_named_not_the_schedule() -> None:
    """Answers for three quarters of the run, none in the last, 1,000 requests unfinished: the
    target stopped answering. Its latency cannot have 'risen', and the schedule did not slip."""
    silent = ((1000, 1000 * 2000),) * 9 + ((0, 0),) * 3
    figures = {"sent": 3000, "requests": 2000, "unfinished": 1000, "late_starts": 900}
    judged = verdict(
        run(series=silent, pool=64, peak_in_flight=64, errors={"timeout": 5}, **figures),
        INTERVAL_S,
    )
    assert judged.limited_by == "target"
    assert "it answered nothing in the last quarter of the run (mean latency 2.0 ms" in judged.text
    assert "and 1,000 unfinished: every request still in flight waited on an answer" in judged.text


def test_late_starts_with_every_core_busy_point_at_the_machine() -> None:
    """Steady target, idle generator, free slots, yet late while the machine's cores were 97%
    busy: it waited for a core. With half of them idle, the schedule is named instead (a load
    average counted the generator itself and the minute before the run)."""
    figures = {"sent": 2990, "late_starts": 120}
    judged = verdict(run(machine_busy=0.97, **figures), INTERVAL_S)
    assert judged.limited_by == "machine"
    assert "this machine's cores were 97% busy during the run" in judged.text
    quiet = verdict(run(machine_busy=0.5, **figures), INTERVAL_S)
    assert quiet.limited_by == "schedule"
    unknown = verdict(run(machine_busy=None, **figures), INTERVAL_S)  # on a Dask cluster
    assert unknown.limited_by == "schedule"


def test_late_starts_on_a_steady_target_blame_the_schedule_not_the_target() -> None:
    """The rate sent, 4% of starts late, the target's latency steady at 2 ms, nothing busy:
    the generator's schedule slipped; the target is not blamed, nor a lower rate's need hidden."""
    lags = new_histogram()
    for lag_us in [300] * 95 + [20_000] * 5:
        lags.record_value(lag_us)
    judged = verdict(run(late_starts=120, start_lag=lags, generator_cpu=0.85), INTERVAL_S)
    assert (judged.target_reached, judged.limited_by) == (False, "schedule")
    assert "the target kept up (mean latency 2.0 ms in the first quarter, 2.0 ms in the last" in (
        judged.text
    )
    assert "1% of starts lagged over 20.0 ms" in judged.text
    assert "at 85% of a core it had little room to catch up" in judged.text
    assert "piled up" not in judged.text


def test_a_target_that_answered_nothing_is_named_not_the_generator() -> None:
    """Every connect refused, the generator busy retrying: the verdict names the target's
    silence with the errors, not the generator's CPU."""
    for rate in (None, 1000.0):
        judged = verdict(
            run(rate=rate, status={}, errors={"connection_refused": 3000}, generator_cpu=1.0),
            INTERVAL_S,
        )
        assert judged.limited_by == "target"
        assert judged.target_reached is (None if rate is None else False)
        assert "answered none of the 3,000 requests (3,000 connection_refused)" in judged.text


def test_the_closed_model_says_whether_the_generator_or_the_target_set_the_pace() -> None:
    """No rate asked, so no target to reach; the limit is still named."""
    busy = verdict(run(rate=None, generator_cpu=0.95), INTERVAL_S)
    assert (busy.target_reached, busy.limited_by) == (None, "generator_cpu")
    idle = verdict(run(rate=None, concurrency=64), INTERVAL_S)
    assert idle.limited_by == "target" and "its 64 connections were each waiting" in idle.text


def test_a_closed_run_whose_connections_all_hung_is_not_called_saturated() -> None:
    """Answers for three quarters, then none: every connection hung on a request (a hang
    fault). The verdict says so, not 'saturated at' an average over a stalled run."""
    hung = ((1000, 1000 * 2000),) * 9 + ((0, 0),) * 3
    judged = verdict(run(rate=None, series=hung, unfinished=64, peak_in_flight=64), INTERVAL_S)
    assert judged.limited_by == "target" and "saturated" not in judged.text
    assert "it answered nothing in the last quarter of the run" in judged.text
    assert "every request still in flight waited on an answer that did not come" in judged.text


def test_a_target_that_went_down_is_silent_without_hanging_and_its_errors_named_once() -> None:
    """Answers, then only refused connects (nothing left in flight): silent, but no request
    'waited', and the refusals are named once, after the verdict."""
    down = ((1000, 1000 * 2000),) * 9 + ((0, 0),) * 3
    figures = {"status": {200: 9000}, "errors": {"connection_refused": 51_000}, "requests": 60_000}
    judged = verdict(run(rate=None, series=down, **figures), INTERVAL_S)
    assert "it answered nothing in the last quarter of the run" in judged.text
    assert "waited" not in judged.text
    assert judged.text.count("51,000 connection_refused") == 1


def test_answers_slower_than_a_quarter_of_the_run_are_not_a_rise() -> None:
    """4 connections at a steady 600 ms in a 2 s run: the first quarter holds no answer, so
    there is no rise from '0.0 ms' and no saturation; more connections would press harder."""
    slow = ((0, 0),) * 2 + ((7, 7 * 600_000),) * 6
    judged = verdict(run(rate=None, concurrency=4, series=slow, sending_s=2.0), INTERVAL_S)
    assert "saturated:" not in judged.text and "Raise -c to press harder" in judged.text


def test_a_closed_run_whose_latency_rose_calls_the_target_saturated() -> None:
    """Latency from 2 ms to 25 ms while 512 connections kept the target busy: more connections
    would only wait longer, so 'raise -c' is not the advice."""
    rising = ((1000, 1000 * 2000),) * 3 + ((900, 900 * 10_000),) * 6 + ((800, 800 * 25_000),) * 3
    judged = verdict(run(rate=None, concurrency=512, series=rising), INTERVAL_S)
    assert "limited by the target, which is saturated: its mean latency rose from 2.0 ms" in (
        judged.text
    )
    assert "while 512 connections kept it busy" in judged.text and "Raise -c" not in judged.text


def test_failed_requests_are_named_whatever_limited_the_run() -> None:
    """A tenth of the requests reset: the verdict says so, and 'answered' counts answers only
    (2,700 in 3 s), not the failures the rates include."""
    figures = {"status": {200: 2700}, "errors": {"connection_reset": 300}}
    for rate in (None, 1000.0):
        judged = verdict(run(rate=rate, **figures), INTERVAL_S)
        assert "Of the 3,000 requests done, 10.0% failed (300 connection_reset); the achieved " in (
            judged.text
        )
    closed = verdict(run(rate=None, **figures), INTERVAL_S)
    assert "it answered 900/s" in closed.text
    rising = ((500, 500 * 2000),) * 3 + ((300, 300 * 100_000),) * 6 + ((100, 100 * 400_000),) * 3
    behind = {"sent": 2000, "late_starts": 800, "peak_in_flight": 100, "series": rising}
    opened = verdict(run(concurrency=100, **behind, **figures), INTERVAL_S)
    assert opened.limited_by == "target" and "it answered 900/s" in opened.text
    few = verdict(run(rate=None, status={200: 2990}, errors={"timeout": 10}), INTERVAL_S)
    assert "failed" not in few.text  # under 1%: the counts are in the report


def test_the_verdict_speaks_of_one_connection_and_of_several_generators() -> None:
    """'its 1 connection was waiting'; with 2 processes the CPU is the busiest generator's."""
    one = verdict(run(rate=None, concurrency=1), INTERVAL_S)
    assert "so its 1 connection was waiting on the target's answers" in one.text
    config = LoadConfig(urls=("http://127.0.0.1:1/",), concurrency=64, processes=2)
    two = verdict(run(rate=None, config=config, generator_cpu=0.26), INTERVAL_S)
    assert "the busiest of its 2 generators used 26% of a core" in two.text


def test_the_latency_trend_reads_the_sending_window_only() -> None:
    """Intervals after sending stopped (the drain) do not count as the last quarter."""
    series = ((10, 10 * 1000),) * 8 + ((1, 1 * 900_000),) * 4
    assert latency_trend_ms(series, sending_s=2.0, interval_s=INTERVAL_S) == (1.0, 1.0)
