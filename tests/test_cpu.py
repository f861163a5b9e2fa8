"""The CPU work per response: measured in this thread's CPU time, and really held under the GIL."""

from __future__ import annotations

import argparse
import threading
import time

import pytest

from fetcher import cpu
from fetcher.commands._batch import cpu_ms
from fetcher.compare import RunSummary
from fetcher.explain import explain


def test_no_work_for_zero_or_less() -> None:
    """0 ms (the default) and negative values do nothing at all."""
    started = time.thread_time()
    assert cpu.work(b"body", 0) == 0
    assert cpu.work(b"body", -5) == 0
    assert time.thread_time() - started < 0.005


def test_work_uses_at_least_the_cpu_asked_for() -> None:
    """20 ms asked means at least 20 ms of this thread's CPU, and not wildly more."""
    started = time.thread_time()
    cpu.work(b"x" * 1000, 20)
    used_s = time.thread_time() - started
    assert 0.020 <= used_s < 0.5


def test_work_depends_on_the_body() -> None:
    """Different bodies mix to different numbers, so the work cannot be skipped or cached."""
    assert cpu.work(b"a", 1) != cpu.work(b"b", 1) or cpu.work(b"a", 1) != cpu.work(b"c", 1)


def test_threads_do_not_overlap_the_work() -> None:
    """Two threads of 50 ms each take about 100 ms of wall time: the GIL serialises them."""
    threads = [threading.Thread(target=cpu.work, args=(b"x", 50)) for _ in range(2)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    # Generous: on a free-threaded build this would be near 0.05 s; under the GIL at least 0.1 s.
    assert time.perf_counter() - started >= 0.095


def summary(strategy: str, wall_s: float, cpu_s: float = 1.0) -> RunSummary:
    """A summary with the strategy, wall and CPU time that the explanations use."""
    return RunSummary(strategy, 200, 200, 0, wall_s, 1.0, 1, 1, 1, cpu_s, 1, 2, 0.5, 2, None, None)


def test_explanations_in_the_cpu_bound_regime_credit_the_cores() -> None:
    """At 20 ms per response, when processes win, the sentences say why: the work, not the wait."""
    runs = [
        summary("threads", 4.5),
        summary("asyncio-aiohttp", 4.3),
        summary("processes", 3.0, cpu_s=4.4),
        summary("hybrid", 2.6, cpu_s=4.4),
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


def test_cpu_ms_flag_accepts_milliseconds_and_refuses_the_rest() -> None:
    """--cpu-ms takes 0 or more milliseconds, with a one-line usage error otherwise."""
    assert cpu_ms("20") == 20.0
    assert cpu_ms("0") == 0.0
    for bad in ("-1", "lots", "100000"):
        with pytest.raises(argparse.ArgumentTypeError):
            cpu_ms(bad)
