"""The sentences under the comparison table: drawn from the measured figures, never canned."""

from __future__ import annotations

from fetcher.compare.explain import explain
from fetcher.compare.summary import with_speedups
from tests.conftest import summary


def test_explanations_quote_the_measured_numbers() -> None:
    """The sentences under the table are drawn from the summaries, not canned."""
    runs = with_speedups(
        [
            summary("sequential", 10.0),
            summary("threads", 0.5, workers=100),
            summary("processes", 5.0, workers=1),
        ]
    )
    text = " ".join(explain(runs, latency_s=0.1))
    assert "0.50 s" in text and "10.00 s" in text and "20.0x longer" in text
    assert "processes overlapped only 1 requests" in text
    assert "GIL" in text


def test_explanations_in_the_cpu_bound_regime_credit_the_cores() -> None:
    """At 20 ms per response, when processes win, the sentences say why: the work, not the wait."""
    runs = [
        summary("threads", 4.5, requests=200),
        summary("asyncio-aiohttp", 4.3, requests=200),
        summary("processes", 3.0, requests=200, cpu_s=4.4),
        summary("hybrid", 2.6, requests=200, cpu_s=4.4),
    ]
    text = " ".join(explain(runs, latency_s=0.002, cpu_ms=20))
    assert "200 x 20 ms = 4.00 s of CPU" in text
    assert "hybrid won in 2.60 s (processes 3.00 s)" in text
    assert "does nothing for waiting" not in text


def test_explanations_without_cpu_work_stay_about_waiting() -> None:
    """At 0 ms the processes sentence is the waiting one, whatever won."""
    runs = [summary("asyncio-aiohttp", 0.1), summary("processes", 1.2)]
    text = " ".join(explain(runs, latency_s=0.002))
    assert "does nothing for waiting" in text
    assert "of CPU in all" not in text
