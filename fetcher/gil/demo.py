"""The counts, the three ways to run them (in turn, in threads, in processes), and what each took.

Only the standard library is used, so worker processes start as fast as Python allows.
"""

from __future__ import annotations

import multiprocessing
import signal
import string
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

if sys.platform != "win32":
    import resource

DEFAULT_COUNT = 25_000_000
DEFAULT_WORKERS = 2
MAX_WORKERS = 64
MODES = ("sequential", "threads", "processes")
WORKER_NOUNS = {"sequential": "Count", "threads": "Thread", "processes": "Process"}


@dataclass(frozen=True)
class CountSpan:
    """One count: who ran it, what it reached, when (epoch seconds) and the CPU its thread used."""

    label: str
    total: int
    started_at: float
    finished_at: float
    cpu_s: float


@dataclass(frozen=True)
class ModeResult:
    """One mode's counts, with the wall and CPU time (this process and its children) they took."""

    mode: str
    spans: tuple[CountSpan, ...]
    started_at: float
    wall_s: float
    cpu_s: float

    @property
    def utilisation(self) -> float:
        """CPU time over wall time: 1.0 is one core kept busy, 2.0 two cores."""
        return self.cpu_s / self.wall_s if self.wall_s > 0 else 0.0


@dataclass(frozen=True)
class GilRun:
    """All modes run on the same work: `workers` counts, each to `count`."""

    count: int
    workers: int
    results: tuple[ModeResult, ...]

    def result(self, mode: str) -> ModeResult:
        """The result of one mode; KeyError if it was not run."""
        for result in self.results:
            if result.mode == mode:
                return result
        raise KeyError(mode)

    def speedup(self, mode: str) -> float:
        """How many times faster than sequential `mode` was, by wall time."""
        wall_s = self.result(mode).wall_s
        return self.result("sequential").wall_s / wall_s if wall_s > 0 else 0.0


def count_to(n: int) -> int:
    """Count from 0 to `n` one step at a time: pure-Python work that holds the GIL throughout."""
    count = 0
    while count < n:
        count += 1
    return count


def timed_count(label: str, n: int) -> CountSpan:
    """Count to `n`, noting when the count started and finished and the CPU this thread used."""
    started_at, cpu_start_s = time.time(), time.thread_time()
    total = count_to(n)
    return CountSpan(label, total, started_at, time.time(), time.thread_time() - cpu_start_s)


def worker_label(index: int) -> str:
    """A, B, C ... for the first 26 workers, then numbers."""
    return string.ascii_uppercase[index] if index < 26 else str(index + 1)


def check_work(count: int, workers: int) -> None:
    """Raise ValueError unless `count` and `workers` describe work that can be run."""
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    if not 1 <= workers <= MAX_WORKERS:
        raise ValueError(f"workers must be between 1 and {MAX_WORKERS}, got {workers}")


def run_sequential(count: int, workers: int) -> list[CountSpan]:
    """The counts one after the other in the calling thread."""
    return [timed_count(worker_label(i), count) for i in range(workers)]


def run_threads(count: int, workers: int) -> list[CountSpan]:
    """The counts in one thread each, all started together."""
    spans: list[CountSpan | None] = [None] * workers

    def work(index: int) -> None:
        spans[index] = timed_count(worker_label(index), count)

    # Daemon threads, so Ctrl-C during a long count ends the program instead of waiting for it.
    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if any(span is None for span in spans):
        raise RuntimeError("a counting thread failed")
    return [span for span in spans if span is not None]


def _ignore_sigint() -> None:
    """Leave Ctrl-C to the parent, which stops the workers, instead of a traceback from each."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_processes(count: int, workers: int) -> list[CountSpan]:
    """The counts in one spawned process each; start-up and shutdown are part of the cost."""
    context = multiprocessing.get_context("spawn")  # the same on Linux, macOS and Windows
    with context.Pool(workers, initializer=_ignore_sigint) as pool:
        # Leaving the block any other way (Ctrl-C, an error) terminates the workers.
        spans = pool.starmap(timed_count, [(worker_label(i), count) for i in range(workers)])
        pool.close()
        pool.join()  # reaped children are what RUSAGE_CHILDREN counts
    return spans


RUNNERS: dict[str, Callable[[int, int], list[CountSpan]]] = {
    "sequential": run_sequential,
    "threads": run_threads,
    "processes": run_processes,
}


def _children_cpu_s() -> float | None:
    """CPU time of this process's children that have ended, or None where the OS cannot say."""
    if sys.platform == "win32":
        return None
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(mode: str, count: int, workers: int) -> ModeResult:
    """Run the counts the way `mode` says and measure wall time and CPU time, children included."""
    check_work(count, workers)
    runner = RUNNERS[mode]
    children_start_s, own_start_s = _children_cpu_s(), time.process_time()
    started_at, wall_start_s = time.time(), time.perf_counter()
    spans = runner(count, workers)
    wall_s = time.perf_counter() - wall_start_s
    cpu_s = time.process_time() - own_start_s
    children_end_s = _children_cpu_s()
    if children_start_s is not None and children_end_s is not None:
        cpu_s += children_end_s - children_start_s
    elif mode == "processes":
        cpu_s += sum(span.cpu_s for span in spans)  # the counts only: start-up CPU is unknown
    return ModeResult(mode, tuple(spans), started_at, wall_s, cpu_s)


def run_all(count: int = DEFAULT_COUNT, workers: int = DEFAULT_WORKERS) -> GilRun:
    """Measure every mode, in order, on the same work."""
    results = tuple(measure(mode, count, workers) for mode in MODES)
    return GilRun(count, workers, results)


def narrate(result: ModeResult) -> list[str]:
    """The run told the way the classic demo prints it, in the order things happened."""
    noun = WORKER_NOUNS[result.mode]
    events = []
    for span in result.spans:
        events.append((span.started_at, 0, f"{noun} {span.label}: Starting to count."))
        events.append((span.finished_at, 1, f"{noun} {span.label}: Finished counting."))
    lines = [line for _, _, line in sorted(events)]
    return [*lines, f"Total execution time: {result.wall_s:.4f} seconds"]
