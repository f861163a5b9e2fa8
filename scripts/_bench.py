"""Pieces the benchmark scripts share: a free port, stopping what they started (on SIGTERM
too), and locust's user (imported by scripts/bench_*.py, which run with this folder on
sys.path)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from collections.abc import Iterable

# One locust user class: FastHttpUser, no wait, one item over and over.
LOCUSTFILE = """\
from locust import FastHttpUser, constant, task


class Items(FastHttpUser):
    wait_time = constant(0)

    @task
    def item(self):
        self.client.get("/items/1")
"""


def free_port() -> int:
    """A port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_all(processes: Iterable[subprocess.Popen[str]]) -> None:
    """Terminate, then kill, whatever of `processes` is still running."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
            try:
                process.communicate(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()


def exit_on_sigterm() -> None:
    """Make SIGTERM unwind like Ctrl-C does, so the script's `with` blocks and finally clauses
    stop the servers and clients it started (Python's default SIGTERM ends it on the spot)."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
