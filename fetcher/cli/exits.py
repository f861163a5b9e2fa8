"""The exit statuses of every `fetcher` command, in one place, and the signals that stop a run.

`HELP` is the table shown at the end of `fetcher --help` and each command's `--help`; the README
repeats it.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType

HELP = """exit status:
  0    the run ended, and (fetcher fetch) every URL got a successful response
  1    fetcher fetch: some URL failed after its retries (every result is still written), or
       writing the results failed mid-run (the message names the file and how many results
       were written); fetcher load: no request got any response
  2    a bad flag, or input or output that cannot be used: refused before any request
  129  stopped by SIGHUP (a closed terminal)      each after writing every finished result,
  130  stopped by SIGINT (Ctrl-C)                 stopping every worker process and printing
  143  stopped by SIGTERM (CI, systemd, Docker)   the summary
  141  the reader of stdout went away (fetcher fetch ... | head -1): stopped quietly"""

OK = 0
FAILED = 1
USAGE = 2
INTERRUPTED = 128 + signal.SIGINT
BROKEN_PIPE = 128 + signal.SIGPIPE
# SIGTERM and SIGHUP give 128 + their number too (`interrupted`): 143 and 129.


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where Ctrl-C's KeyboardInterrupt would be, so the same cleanup
    runs; `signum` says which signal it was."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _on_stop_signal(signum: int, frame: FrameType | None) -> None:
    """Raise `Stopped` where Ctrl-C would raise KeyboardInterrupt.

    On a running event loop it is raised from a callback, between tasks: raised into whichever
    task happened to be running, it would end only that task. Raised from a callback, it ends
    the loop, and `asyncio.run` cancels every task, just as for Ctrl-C.
    """
    asyncio = sys.modules.get("asyncio")  # not imported just for this
    loop = asyncio._get_running_loop() if asyncio is not None else None
    if loop is None:
        raise Stopped(signum)
    loop.call_soon_threadsafe(_raise_stopped, signum)


def _raise_stopped(signum: int) -> None:
    raise Stopped(signum)


def stop_on_signals() -> None:
    """Make SIGTERM and SIGHUP raise `Stopped`, as SIGINT raises KeyboardInterrupt."""
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _on_stop_signal)


def interrupted(stop: BaseException | int) -> int:
    """The exit status for a run stopped by `stop` (an exception, or a signal's number)."""
    if isinstance(stop, int):
        return 128 + stop
    return 128 + (stop.signum if isinstance(stop, Stopped) else signal.SIGINT)
