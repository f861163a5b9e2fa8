"""The GIL made visible: the same pure-Python counts run in turn, in threads, and in processes.

Each count is CPU work that never waits, so under the GIL threads take turns on one core while
processes, each with an interpreter and a GIL of its own, run on as many cores as there are.
Only the standard library is used, so worker processes start as fast as Python allows.

    demo          the counts, the three ways to run them, and what each measured
    interpreter   whether this build has a GIL, and whether it is on
    explain       sentences drawn from a run
"""

from __future__ import annotations

from fetcher.gil.demo import (
    DEFAULT_COUNT,
    DEFAULT_WORKERS,
    MAX_WORKERS,
    MODES,
    CountSpan,
    GilRun,
    ModeResult,
    count_to,
    measure,
    narrate,
    run_all,
)
from fetcher.gil.explain import explain, startup_s
from fetcher.gil.interpreter import (
    InterpreterInfo,
    interpreter_info,
    is_free_threaded_build,
    is_gil_enabled,
)

__all__ = [
    "DEFAULT_COUNT",
    "DEFAULT_WORKERS",
    "MAX_WORKERS",
    "MODES",
    "CountSpan",
    "GilRun",
    "InterpreterInfo",
    "ModeResult",
    "count_to",
    "explain",
    "interpreter_info",
    "is_free_threaded_build",
    "is_gil_enabled",
    "measure",
    "narrate",
    "run_all",
    "startup_s",
]
