"""The GIL made visible: the same pure-Python counts run in turn, in threads, and in processes.

Each count is CPU work that never waits, so under the GIL threads take turns on one core while
processes, each with an interpreter and a GIL of its own, run on as many cores as there are.
Only the standard library is used, so worker processes start as fast as Python allows.
"""

from __future__ import annotations

import multiprocessing
import os
import platform
import signal
import string
import sys
import sysconfig
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


@dataclass(frozen=True)
class InterpreterInfo:
    """What decides whether threads can run Python code in parallel here."""

    implementation: str
    version: str
    free_threaded_build: bool
    gil_enabled: bool
    switch_interval_s: float
    cpu_count: int

    @property
    def threads_run_in_parallel(self) -> bool:
        """True on a free-threaded build with the GIL disabled."""
        return self.free_threaded_build and not self.gil_enabled


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


def is_free_threaded_build() -> bool:
    """True if this interpreter was built without the GIL (python3.13t and later)."""
    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def is_gil_enabled() -> bool:
    """True if the GIL is on now: always before 3.13; a free-threaded build can turn it back on."""
    check: Callable[[], bool] | None = getattr(sys, "_is_gil_enabled", None)
    return True if check is None else bool(check())


def interpreter_info() -> InterpreterInfo:
    """Describe the running interpreter."""
    return InterpreterInfo(
        implementation=platform.python_implementation(),
        version=platform.python_version(),
        free_threaded_build=is_free_threaded_build(),
        gil_enabled=is_gil_enabled(),
        switch_interval_s=sys.getswitchinterval(),
        cpu_count=os.cpu_count() or 1,
    )


def startup_s(result: ModeResult) -> float:
    """Time from the start of the mode to the start of its first count (process start-up)."""
    return max(0.0, min(span.started_at for span in result.spans) - result.started_at)


def explain(run: GilRun, info: InterpreterInfo) -> list[str]:
    """Plain sentences that say what the measured numbers show, and why."""
    return [*_explain_threads(run, info), *_explain_processes(run, info), _moral(info)]


def _explain_threads(run: GilRun, info: InterpreterInfo) -> list[str]:
    """What threads did, and what the GIL had to do with it."""
    threads = run.result("threads")
    said = (
        f"Threads ran {run.speedup('threads'):.2f}x as fast as sequential, "
        f"using {threads.utilisation:.0%} CPU."
    )
    if info.threads_run_in_parallel:
        return [
            said,
            "This is a free-threaded build with the GIL disabled: threads can run Python code on "
            "several cores at once, so threads should speed up here, much as processes do.",
        ]
    interval_ms = info.switch_interval_s * 1000
    why = (
        f"Under the GIL only one thread runs Python code at a time: the {run.workers} threads took "
        f"turns, handing the GIL over every {interval_ms:g} ms, so together they kept about one "
        "core busy and took about as long as counting one after the other."
    )
    if info.free_threaded_build:
        why = (
            "This is a free-threaded build, but the GIL is enabled (PYTHON_GIL=1, -X gil=1, or an "
            "extension module that needs it). " + why
        )
    if run.workers > 1 and run.speedup("threads") >= 1.3:
        why += " This run beat that by more than noise usually does; rerun it on a quiet machine."
    return [said, why]


def _explain_processes(run: GilRun, info: InterpreterInfo) -> list[str]:
    """What processes did, and what they cost to start."""
    processes = run.result("processes")
    cores = min(run.workers, info.cpu_count)
    sentences = [
        f"Processes ran {run.speedup('processes'):.2f}x as fast as sequential, using "
        f"{processes.utilisation:.0%} CPU. Each process has its own interpreter and its own GIL, "
        f"so the counts ran on up to {cores} core{'s' if cores > 1 else ''} at once; starting the "
        f"processes took {startup_s(processes):.2f} s before the first count began."
    ]
    if cores > 1 and run.speedup("processes") < 0.75 * cores:
        sentences.append(
            f"That is well short of {cores}x: with a small count start-up dominates, and on a busy "
            "machine other programs take the cores; rerun with a bigger count or when it is quiet."
        )
    if info.cpu_count < run.workers:
        sentences.append(
            f"This machine has {info.cpu_count} cores, so no more than {info.cpu_count} of the "
            f"{run.workers} counts can run at once."
        )
    return sentences


def _moral(info: InterpreterInfo) -> str:
    """The rule the demo illustrates."""
    if info.threads_run_in_parallel:
        return "Without the GIL, threads suit CPU-bound Python code as well as waiting."
    return (
        "Threads still help when the work waits (a blocking socket read releases the GIL); for "
        "CPU-bound Python code, use processes."
    )
