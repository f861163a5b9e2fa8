"""The sentences under the comparison table: each appears when the figure that triggers it is
in the run, quotes that figure, and stays out otherwise. Summaries here are fabricated."""

from __future__ import annotations

from typing import Any

from fetcher.compare.explain import explain
from fetcher.compare.machine import Conditions
from fetcher.compare.summary import RunSummary, with_speedups
from tests.conftest import summary

MB = 1024 * 1024


def said(rows: list[RunSummary], **conditions: Any) -> str:
    """Everything explain says about `rows`, as one text; 100 ms latency, 2 cores by default."""
    settings: dict[str, Any] = {
        "latency_s": 0.1,
        "cpu_ms": 0.0,
        "processes": 2,
        "cpu_count": 2,
        "python": "CPython 3.11.7",
    }
    return " ".join(explain(rows, Conditions(**{**settings, **conditions})))


def test_the_overlap_sentence_quotes_the_fastest_and_its_efficiency() -> None:
    """The quickest single-process concurrent run, against sequential and the ideal."""
    rows = with_speedups(
        [
            summary("sequential", 10.0),
            summary("threads", 0.5, workers=100, server_peak_in_flight=100),
            summary("asyncio-aiohttp", 0.2, server_peak_in_flight=100, ideal_s=0.1, efficiency=0.5),
        ]
    )
    text = said(rows)
    assert "asyncio-aiohttp finished in 0.20 s: the server saw 100 requests in flight" in text
    assert "(10.00 s, 50.0x longer)" in text
    assert "its efficiency is 50%: the ideal 0.10 s over its 0.20 s" in text
    assert "finished in" not in said([summary("sequential", 10.0)])


def test_the_machine_sentence_says_where_the_process_count_came_from() -> None:
    """Cores and build always; processes only when a strategy started some, and why that many."""
    rows = [summary("threads", 0.5), summary("processes", 5.0)]
    assert "CPython 3.11.7 with the GIL, 2 CPU cores" in said([summary("threads", 0.5)])
    assert "worker processes" not in said([summary("threads", 0.5)])
    assert "processes started 2 worker processes (one per core, the default)" in said(rows)
    assert "started 4 worker processes (from --processes)" in said(rows, processes=4)
    assert "free-threaded, GIL off" in said(rows, gil=False)


def test_the_machine_sentence_names_the_event_loop_when_an_async_strategy_ran() -> None:
    """uvloop or asyncio's own loop, said only where a strategy ran on one."""
    rows = [summary("asyncio-aiohttp", 0.2)]
    assert "2 CPU cores, event loop uvloop." in said(rows, event_loop="uvloop")
    assert "event loop asyncio's own (uvloop not installed)" in said(rows, event_loop="asyncio")
    assert "event loop uvloop" not in said([summary("threads", 0.5)], event_loop="uvloop")


def test_in_flight_below_workers_says_how_the_pool_ramped() -> None:
    """A pool the server never saw full gets a sentence quoting its peak and when it came."""
    ramped = summary(
        "threads", 0.3, workers=100, server_peak_in_flight=62, client_peak_in_flight=64,
        peak_reached_s=0.11,
    )  # fmt: skip
    text = said([ramped])
    assert "threads reached 62 of its 100 workers at once" in text
    assert "its client peaked at 64, 0.11 s in" in text
    full = summary("threads", 0.3, workers=100, server_peak_in_flight=100)
    assert "In flight below workers" not in said([full])


def test_a_median_over_the_injected_latency_is_put_down_to_queueing_in_the_client() -> None:
    """p50 well above the injected latency quotes the p50 and the CPU per request."""
    slow = summary("asyncio-httpx", 0.4, p50_ms=301.0, cpu_s=0.36, requests=100)
    text = said([slow, summary("asyncio-aiohttp", 0.15, p50_ms=103.0)])
    assert "longer than the 100 ms injected in asyncio-httpx (p50 301 ms, 3.60 ms" in text
    assert "asyncio-aiohttp (p50" not in text
    assert "injected" not in said([slow], latency_s=None)


def test_processes_on_waiting_say_one_request_per_process_and_what_they_cost() -> None:
    """At 0 ms of work: the overlap a process gives, its start-up and its extra memory."""
    rows = [
        summary("threads", 0.3, workers=100, peak_rss_bytes=40 * MB),
        summary("processes", 5.6, workers=2, startup_s=0.3, peak_rss_bytes=110 * MB),
    ]
    text = said(rows)
    assert "processes overlapped only 2 requests at a time" in text
    assert "Starting them cost 0.30 s" in text and "70 MB more memory than threads" in text
    assert "does nothing for waiting" not in said(rows, cpu_ms=20)


def test_cpu_bound_runs_credit_the_cores_when_processes_win() -> None:
    """At 20 ms per response, when a multi-core run wins, the sentences say why: the work."""
    rows = [
        summary("threads", 4.5, requests=200),
        summary("asyncio-aiohttp", 4.3, requests=200),
        summary("processes", 3.0, requests=200, cpu_s=4.4),
        summary("hybrid", 2.6, requests=200, cpu_s=4.4),
    ]
    text = said(rows, latency_s=0.002, cpu_ms=20)
    assert "200 x 20 ms = 4.00 s of CPU" in text
    assert "hybrid won in 2.60 s (processes 3.00 s)" in text
    assert "only more interpreters (processes) make the batch faster" in text
    assert "does nothing for waiting" not in text


def test_cpu_work_that_processes_could_not_beat_says_what_held_them_back() -> None:
    """CPU work, yet a single-GIL run was quicker: start-up and waits outweighed the work."""
    rows = [summary("threads", 1.0), summary("processes", 2.0, startup_s=0.4, cpu_s=2.0)]
    text = said(rows, cpu_ms=1)
    assert "processes can run the work on several cores" in text
    assert "1.0 cores busy on average: its 0.40 s of start-up" in text


def test_hybrid_says_what_it_paid_and_when_it_wins() -> None:
    """Slower and heavier than one loop on waiting, with its start-up and the processes' spread."""
    rows = [
        summary("asyncio-aiohttp", 0.15, peak_rss_bytes=37 * MB),
        summary(
            "hybrid", 0.9, workers=100, server_peak_in_flight=50, startup_s=0.3,
            process_start_spread_s=0.12, peak_rss_bytes=141 * MB,
        ),
    ]  # fmt: skip
    text = said(rows)
    assert "hybrid runs an event loop in each of its processes: 0.30 s to start them" in text
    assert "the server saw 50: its processes began 0.12 s apart" in text
    assert "hybrid was slower (0.90 s against 0.15 s" in text and "(141 against 37 MB)" in text
    assert "try --cpu-ms 20" in text
    alone = said([summary("hybrid", 0.9, workers=100, server_peak_in_flight=100)])
    assert "began" not in alone and "was slower" not in alone


def test_notable_start_ups_are_named_with_what_they_paid_for() -> None:
    """Start-up over a few ms gets its figure and its cause; instant ones are not mentioned."""
    rows = [summary("threads", 0.3, startup_s=0.001), summary("processes", 5.0, startup_s=0.61)]
    text = said(rows)
    assert "processes 0.61 s (spawning interpreters that import their HTTP client)" in text
    assert "threads 0.00 s" not in text
    assert "Start-up" not in said([summary("threads", 0.3, startup_s=0.001)])


def test_httpx_cpu_is_compared_with_aiohttp_only_when_it_costs_more() -> None:
    """A ratio of 1.5 or more is worth a sentence."""
    costly = [
        summary("asyncio-aiohttp", 0.2, cpu_s=0.05),
        summary("asyncio-httpx", 0.4, cpu_s=0.36),
    ]
    assert "0.36 s of CPU against 0.05 s for asyncio-aiohttp (7.2x)" in said(costly)
    close = [summary("asyncio-aiohttp", 0.2, cpu_s=0.1), summary("asyncio-httpx", 0.2, cpu_s=0.12)]
    assert "of CPU against" not in said(close)


def test_failures_are_counted_by_kind() -> None:
    """The strategy with the most failures, with its kinds."""
    failing = summary("threads", 0.3, failed=3, ok=97, errors={"connection_reset": 3})
    assert "threads had 3 failed requests (connection_reset 3)" in said([failing])
    assert "failed requests" not in said([summary("threads", 0.3)])


def test_noise_is_mentioned_on_a_busy_machine_and_repeats_explain_the_range() -> None:
    """A busy machine without repeats suggests --repeat 3; with repeats, the range is explained."""
    rows = [summary("threads", 0.3)]
    assert "load average 1.8 on 2 cores" in said(rows, load_per_core=0.9)
    assert "--repeat 3" in said(rows, load_per_core=0.9)
    assert "--repeat" not in said(rows, load_per_core=0.1)
    assert "Each strategy ran 3 times" in said(rows, repeat=3, load_per_core=0.9)


def test_queued_latency_of_worker_processes_quotes_no_cpu_per_request() -> None:
    """A worker process's CPU includes its start-up: per request, it would mislead."""
    slow = summary("hybrid", 1.0, p50_ms=150.0, cpu_s=0.8, requests=100)
    text = said([slow])
    assert "hybrid (p50 150 ms)" in text and "of CPU per request" not in text


def test_dask_says_what_a_cluster_costs_on_one_machine_and_when_it_wins() -> None:
    """Its start-up, its wall time against hybrid's, and where it pays off; nothing without it."""
    rows = [summary("hybrid", 2.0, startup_s=0.4), summary("dask", 3.0, startup_s=1.25)]
    text = said(rows)
    assert "dask ran the batch in chunks on a LocalCluster: 1.25 s to start" in text
    assert "1.50x hybrid's 2.00 s" in text
    assert "one machine's cores or network are the limit" in text
    assert "dask 1.25 s (starting a LocalCluster" in text
    assert "LocalCluster" not in said([summary("hybrid", 2.0, startup_s=0.4)])
