"""Plain sentences that say what a `fetcher gil` run shows, and why."""

from __future__ import annotations

import os

from fetcher.gil.demo import GilRun, ModeResult
from fetcher.gil.interpreter import InterpreterInfo


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
        f"keeping {threads.utilisation:.2f} cores busy."
    )
    if info.threads_run_in_parallel:
        return [
            said,
            f"This is a free-threaded build with the GIL off: the {run.workers} threads could run "
            f"Python on several cores at once, and here they kept {threads.utilisation:.2f} cores "
            f"busy, where under a GIL they would keep about one and take as long as sequential.",
        ]
    interval_ms = info.switch_interval_s * 1000
    why = (
        f"Under the GIL only one thread runs Python code at a time: the {run.workers} threads took "
        f"turns, handing the GIL over every {interval_ms:g} ms, so together they kept about one "
        f"core busy ({threads.utilisation:.2f}) and took about as long as counting one after the "
        "other. A free-threaded build (python3.13t and later) with the GIL off would let them "
        "count on separate cores, as processes do but without the start-up."
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
        f"Processes ran {run.speedup('processes'):.2f}x as fast as sequential, keeping "
        f"{processes.utilisation:.2f} cores busy. Each process has its own interpreter and GIL, "
        f"so the counts ran on up to {cores} core{'s' if cores > 1 else ''} at once; starting the "
        f"processes took {startup_s(processes):.2f} s before the first count began."
    ]
    if cores > 1 and run.speedup("processes") < 0.75 * cores:
        sentences.append(_short_of(processes, cores, info.cpu_count))
    if info.cpu_count < run.workers:
        sentences.append(
            f"This machine has {info.cpu_count} cores, so no more than {info.cpu_count} of the "
            f"{run.workers} counts can run at once."
        )
    return sentences


def _short_of(processes: ModeResult, cores: int, cpu_count: int) -> str:
    """Why processes fell well short of `cores`x: their start-up, or other programs, as the
    run's own figures say."""
    startup = startup_s(processes)
    if startup >= 0.25 * processes.wall_s:
        return (
            f"That is well short of {cores}x: starting the processes took {startup:.2f} s of "
            f"the {processes.wall_s:.2f} s; rerun with a bigger --count, so counting outweighs it."
        )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    busy = f" (load average {load:.1f} on {cpu_count} cores)" if load is not None else ""
    return (
        f"That is well short of {cores}x, and start-up ({startup:.2f} s) does not explain it: the "
        f"processes kept only {processes.utilisation:.2f} cores busy, so other programs held the "
        f"cores{busy}; rerun when the machine is quiet."
    )


def _moral(info: InterpreterInfo) -> str:
    """The rule the demo illustrates."""
    if info.threads_run_in_parallel:
        return "Without the GIL, threads suit CPU-bound Python code as well as waiting."
    return (
        "Threads still help when the work waits (a blocking socket read releases the GIL); for "
        "CPU-bound Python code, use processes."
    )
