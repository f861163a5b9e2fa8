"""The CPU work per response: measured in this thread's CPU time, and really held under the GIL."""

from __future__ import annotations

import threading
import time

from fetcher.strategies import cpu


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
