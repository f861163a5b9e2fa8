"""Worker processes that do not outlive their parent, even one killed by SIGKILL.

A parent killed by SIGKILL runs no cleanup at all, so each worker watches it: a daemon thread
compares `os.getppid()` with the parent's pid twice a second and ends the worker when it changes
(the orphan was re-parented to init or a subreaper). Chosen over Linux's
prctl(PR_SET_PDEATHSIG): that is Linux-only, and it fires when the *thread* that started the
worker ends rather than the process, which a pool that starts workers from its own threads
would trip. The cost is one wake-up every half second per worker.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time

PARENT_POLL_S = 0.5
# What stops a run: Ctrl-C, SIGTERM from CI, systemd, Docker; SIGHUP, a closed terminal. The
# parent decides; its workers never act on them themselves.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def become_worker() -> None:
    """In a multiprocessing child: leave the stop signals to the parent (a terminal's Ctrl-C
    reaches the whole process group), and end when the parent is gone."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
    watch_parent()


def watch_parent() -> None:
    """In a multiprocessing child: end this process soon after its parent is gone."""
    parent = multiprocessing.parent_process()
    if parent is None or parent.pid is None:
        return
    threading.Thread(target=_watch, args=(parent.pid,), name="parent-watch", daemon=True).start()


def _watch(pid: int) -> None:
    while os.getppid() == pid:
        time.sleep(PARENT_POLL_S)
    os._exit(1)  # no parent left to report to: exit now, without waiting on other threads
