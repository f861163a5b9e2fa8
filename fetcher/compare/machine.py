"""What a comparison ran under: the batch, and what the machine decided (cores, processes, the
Python build), and whether other programs were competing for the CPU when it started."""

from __future__ import annotations

import os
from dataclasses import dataclass

from fetcher.gil.interpreter import interpreter_info

# A 1-minute load average above this share of the cores means other programs were running.
BUSY_LOAD_PER_CORE = 0.5


@dataclass(frozen=True)
class Conditions:
    """The batch's injected latency and CPU work, and the machine the comparison ran on."""

    latency_s: float | None
    cpu_ms: float
    processes: int
    repeat: int = 1
    cpu_count: int = 1
    python: str = ""
    gil: bool = True
    # The 1-minute load average per core before the runs started, where the OS keeps one.
    load_per_core: float | None = None
    # The event loop the async strategies run on: uvloop where it is installed, else asyncio.
    event_loop: str = "asyncio"

    @property
    def busy(self) -> bool:
        """True when other programs were already keeping the cores busy."""
        return self.load_per_core is not None and self.load_per_core >= BUSY_LOAD_PER_CORE


def conditions(latency_s: float | None, cpu_ms: float, processes: int, repeat: int) -> Conditions:
    """The conditions of a comparison about to run on this machine."""
    from fetcher.loop import loop_name

    info = interpreter_info()
    load = os.getloadavg()[0] / info.cpu_count if hasattr(os, "getloadavg") else None
    return Conditions(
        latency_s=latency_s,
        cpu_ms=cpu_ms,
        processes=processes,
        repeat=repeat,
        cpu_count=info.cpu_count,
        python=f"{info.implementation} {info.version}",
        gil=not info.threads_run_in_parallel,
        load_per_core=load,
        event_loop=loop_name(),
    )
