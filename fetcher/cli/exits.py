"""The exit statuses of every `fetcher` command, in one place, and the signals that stop a run.

0    OK: the run ended (failed requests are results, written like any other)
1    FAILED: `fetcher load` got no response at all, or writing the results failed mid-run
     (the error names the file and how many results were written)
2    USAGE: a bad flag or unusable input or output, refused before any request
129  SIGHUP, 130 SIGINT (Ctrl-C), 143 SIGTERM: stopped by that signal, after writing every
     finished result, reaping every worker and printing the summary (128 + the signal's
     number, as shells report it)
141  the reader of stdout went away (`fetcher fetch ... | head -1`): quietly, as Unix tools do
"""

from __future__ import annotations

import signal
from types import FrameType

OK = 0
FAILED = 1
USAGE = 2
INTERRUPTED = 128 + signal.SIGINT
HANGUP = 128 + signal.SIGHUP
TERMINATED = 128 + signal.SIGTERM
BROKEN_PIPE = 128 + signal.SIGPIPE

# What CI runners, systemd, Docker and Kubernetes send to stop a job, or a closed terminal:
# each stops a run exactly as Ctrl-C does.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where Ctrl-C's KeyboardInterrupt would be, so the same cleanup
    runs; `signum` says which signal it was."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_stopped(signum: int, frame: FrameType | None) -> None:
    raise Stopped(signum)


def stop_on_signals() -> None:
    """Make SIGTERM and SIGHUP raise `Stopped`, as SIGINT raises KeyboardInterrupt."""
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_stopped)


def interrupted(stop: BaseException | int) -> int:
    """The exit status for a run stopped by `stop` (an exception, or a signal's number)."""
    signum = stop if isinstance(stop, int) else getattr(stop, "signum", signal.SIGINT)
    return 128 + int(signum)
