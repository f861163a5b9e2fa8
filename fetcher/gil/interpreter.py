"""What decides whether threads can run Python code in parallel: the build, the GIL, the cores."""

from __future__ import annotations

import os
import platform
import sys
import sysconfig
from collections.abc import Callable
from dataclasses import dataclass


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
