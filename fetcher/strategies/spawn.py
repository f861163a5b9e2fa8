"""Start worker processes that never see the terminal's Ctrl-C (or SIGTERM, SIGHUP), and that
do not outlive their parent.

Ctrl-C in a terminal sends SIGINT to the whole foreground process group, children included. A
spawned child still importing fetcher would die of it with a KeyboardInterrupt traceback of its
own, while the parent alone should decide what stops and report it. So SIGINT is blocked while
children are started: they inherit the blocked mask across fork and exec and never receive it
(processes' workers then ignore it for good, hybrid's keep it blocked), and in the parent a
Ctrl-C that came meanwhile waits, pending, and is raised once the block is over, with every
child known to the parent.
Ignoring SIGINT instead would be inherited too, but would lose a Ctrl-C that came meanwhile.
SIGTERM and SIGHUP are held the same way: systemd, for one, sends SIGTERM to every process of
the service, and a worker dying of it would turn every URL it still owed into a failure; the
parent stops its workers itself, with SIGKILL, once its own handler has run.
A parent killed by SIGKILL cannot stop them: they watch it (`fetcher.orphans.watch_parent`).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing import resource_tracker

from fetcher.orphans import STOP_SIGNALS


@contextmanager
def sigint_held() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP back from this thread, and from processes it starts,
    while the block runs.

    Does nothing where signal masks do not exist (Windows has no process-group SIGINT either)
    or off the main thread, which Python never runs signal handlers in.
    """
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not (
        threading.main_thread()
    ):
        yield
        return
    # multiprocessing's resource tracker blocks and then unblocks SIGINT itself when it starts,
    # which would undo this mask half-way: start it first.
    resource_tracker.ensure_running()
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
