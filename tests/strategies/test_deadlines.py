"""asyncio-aiohttp's Deadlines watchdog on real tasks: what a library may do to its cancel."""

from __future__ import annotations

import asyncio

from fetcher.strategies.asyncio_aiohttp import Deadlines


async def test_a_swallowed_watchdog_cancel_does_not_end_the_timeouts() -> None:
    """A library that swallows the watchdog's cancel ends that attempt its own way; the task's
    next attempt must still be timed out (it was skipped for good while the cancel stayed
    noted)."""
    deadlines = Deadlines(total_s=0.05, read_s=10.0)
    swallowed = asyncio.Event()

    async def two_attempts() -> BaseException | None:
        task = asyncio.current_task()
        assert task is not None
        deadlines.start(task)
        try:
            await asyncio.sleep(5)  # the watchdog cancels this...
        except asyncio.CancelledError:
            swallowed.set()  # ...and the "library" swallows it
        finally:
            deadlines.end(task)
        deadlines.start(task)
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            return deadlines.expired(task)
        finally:
            deadlines.end(task)
        return None

    async with deadlines.watching():
        error = await asyncio.wait_for(two_attempts(), 3)
    assert swallowed.is_set()
    assert isinstance(error, asyncio.TimeoutError)
    assert not deadlines.due and not deadlines.cancelled
