"""The event loop every async part of fetcher runs on: uvloop's when it is installed, else
asyncio's own (uvloop costs about a third less CPU per request); and undoing a watchdog's
cancel, which both the fetch loop and the load generator turn into a timeout."""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def loop_name() -> str:
    """The event loop `run_loop` runs on: `uvloop` when it is installed, else `asyncio`."""
    return "uvloop" if importlib.util.find_spec("uvloop") is not None else "asyncio"


def run_loop(coro: Coroutine[Any, Any, T], use_uvloop: bool = True) -> T:
    """Run `coro` on a new event loop: uvloop's when it is installed and wanted, else asyncio's."""
    if use_uvloop:
        try:
            import uvloop
        except ImportError:
            pass
        else:
            return uvloop.run(coro)
    return asyncio.run(coro)


def uncancel(task: asyncio.Task[Any] | None) -> int:
    """Undo one cancel of `task` (a watchdog's, turned into a timeout); the cancels still
    pending on it, others' (Ctrl-C). Python 3.10 does not count cancels: there it returns 0."""
    undo = getattr(task, "uncancel", None)  # Python 3.11+
    return 0 if undo is None else int(undo())
