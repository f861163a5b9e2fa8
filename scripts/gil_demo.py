"""The GIL demo on its own: two counts in turn, in two threads, in two processes.

Standard library only; run it with `python3 scripts/gil_demo.py [COUNT] [WORKERS]`.
`fetcher gil` is the same demo with a richer report.
"""

from __future__ import annotations

import multiprocessing
import signal
import sys
import sysconfig
import threading
import time
from collections.abc import Callable

Span = tuple[str, float, float]  # label, started at, finished at (epoch seconds)
Runner = Callable[[int, list[str]], list[Span]]
COUNT = 25_000_000
WORKERS = 2


def count_to(n: int) -> int:
    """Count to `n` one step at a time: pure-Python work that holds the GIL throughout."""
    count = 0
    while count < n:
        count += 1
    return count


def timed_count(label: str, n: int) -> Span:
    """Count to `n`; return the label and when (epoch seconds) the count started and finished."""
    started_at = time.time()
    count_to(n)
    return label, started_at, time.time()


def in_turn(n: int, labels: list[str]) -> list[Span]:
    """The counts one after the other."""
    return [timed_count(label, n) for label in labels]


def in_threads(n: int, labels: list[str]) -> list[Span]:
    """One thread per count."""
    spans: list[Span] = []

    def work(label: str) -> None:
        spans.append(timed_count(label, n))  # list.append is atomic, so no lock is needed

    threads = [threading.Thread(target=work, args=(label,), daemon=True) for label in labels]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return spans


def ignore_sigint() -> None:
    """Leave Ctrl-C to the parent, which then stops the workers."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def in_processes(n: int, labels: list[str]) -> list[Span]:
    """One spawned process per count; the parent prints, so the lines never interleave."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(len(labels), initializer=ignore_sigint) as pool:
        spans = pool.starmap(timed_count, [(label, n) for label in labels])
        pool.close()
        pool.join()
    return spans


def cpu_s() -> float:
    """CPU time of this process and of its ended children (children are unknown on Windows)."""
    total = time.process_time()
    if sys.platform != "win32":
        import resource

        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        total += usage.ru_utime + usage.ru_stime
    return total


def demo(noun: str, run: Runner, n: int, workers: int) -> tuple[float, float]:
    """Run one mode, print it the classic way, and return (wall seconds, CPU seconds)."""
    labels = [chr(ord("A") + i) for i in range(workers)]
    cpu_start, wall_start = cpu_s(), time.perf_counter()
    spans = run(n, labels)
    wall, cpu = time.perf_counter() - wall_start, cpu_s() - cpu_start
    events = sorted(
        [(start, 0, f"{noun} {label}: Starting to count.") for label, start, _ in spans]
        + [(end, 1, f"{noun} {label}: Finished counting.") for label, _, end in spans]
    )
    for _, _, line in events:
        print(line)
    print(f"Total execution time: {wall:.4f} seconds\n", flush=True)
    return wall, cpu


MODES: list[tuple[str, str, Runner]] = [
    ("sequential", "Count", in_turn),
    ("threads", "Thread", in_threads),
    ("processes", "Process", in_processes),
]
USAGE = "usage: gil_demo.py [COUNT >= 1] [WORKERS from 1 to 26]"


def parse_args(argv: list[str]) -> tuple[int, int]:
    """COUNT and WORKERS from the command line, or exit with the usage line."""
    try:
        n = int(argv[0]) if argv else COUNT
        workers = int(argv[1]) if len(argv) > 1 else WORKERS
    except ValueError:
        sys.exit(USAGE)
    if n < 1 or not 1 <= workers <= 26:
        sys.exit(USAGE)
    return n, workers


def report_interpreter() -> None:
    """Print whether this interpreter has a GIL, and what that means for the threads."""
    gil_check = getattr(sys, "_is_gil_enabled", None)
    gil_enabled = True if gil_check is None else gil_check()
    free_threaded = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    print(f"\nPython {sys.version.split()[0]}, free-threaded build: {free_threaded}, ", end="")
    print(f"GIL enabled: {gil_enabled}, switch interval: {sys.getswitchinterval() * 1000:g} ms")
    if free_threaded and not gil_enabled:
        print("No GIL here: threads can run Python code in parallel, so they should speed up.")
    else:
        print("Under the GIL only one thread runs Python code at a time: threads take turns;")
        print("processes each have their own GIL, so they count on several cores at once.")


def main() -> None:
    """Run the three modes, compare them, and say why they differ."""
    n, workers = parse_args(sys.argv[1:])
    timings = {name: demo(noun, run, n, workers) for name, noun, run in MODES}
    print(f"{'mode':<12}{'wall s':>9}{'CPU s':>9}{'CPU use':>9}{'speedup':>9}")
    for name, (wall, cpu) in timings.items():
        speedup = timings["sequential"][0] / wall
        print(f"{name:<12}{wall:>9.4f}{cpu:>9.4f}{cpu / wall:>9.0%}{speedup:>8.2f}x")
    report_interpreter()


if __name__ == "__main__":
    main()
