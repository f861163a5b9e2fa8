"""Run one strategy in a process of its own: `python -m fetcher.compare.runner` (used by compare).

A fresh process per strategy keeps their costs apart: the memory one strategy allocated and the
modules it imported are not charged to the next. The job comes as JSON on stdin; each result
goes to stdout as a JSON line as soon as it completes, and a last line reports the CPU and memory
the run used, measured around the strategy alone (interpreter start-up excluded).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from typing import Any

from fetcher.config import config_from_dict
from fetcher.models import FetchResult
from fetcher.strategies import get_strategy
from fetcher.strategies.base import clock
from fetcher.urls import read_urls

USAGE_KEY = "usage"
# Results are flushed at least this often, so the parent's progress bar moves smoothly without
# a system call per result.
FLUSH_EVERY_S = 0.05
# ru_maxrss is in KiB on Linux and in bytes on macOS.
MAXRSS_UNIT = 1 if sys.platform == "darwin" else 1024


def cpu_s() -> float:
    """CPU time (user + system) of this process and of its waited-for children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def peak_rss_bytes() -> int:
    """This process's peak resident memory since it started running this program.

    On Linux ru_maxrss survives exec: a child started by a 500 MB parent reports at least 500 MB.
    VmHWM belongs to the new program's address space, so it counts this program alone.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * MAXRSS_UNIT


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """Run the strategy over the URL file, writing results to stdout; return the usage."""
    urls = read_urls(job["urls_path"])
    config = config_from_dict(job["config"])
    strategy = get_strategy(job["strategy"])
    out = sys.stdout
    last_flush = clock()

    def emit(result: FetchResult) -> None:
        nonlocal last_flush
        out.write(json.dumps(result.to_json(), separators=(",", ":")) + "\n")
        if clock() - last_flush > FLUSH_EVERY_S:
            out.flush()
            last_flush = clock()

    cpu_before = cpu_s()
    t0 = clock()
    # The wall-clock time of t0, so what a server recorded can be put on this run's time axis.
    started_at = time.time()
    strategy.run(urls, config, emit, t0)
    wall_s = clock() - t0
    return {
        "started_at": started_at,
        "wall_s": wall_s,
        "cpu_s": cpu_s() - cpu_before,
        "maxrss_bytes": peak_rss_bytes(),
    }


def main() -> int:
    """Read the job, run it, and end with the usage line."""
    usage = run_job(json.load(sys.stdin))
    print(json.dumps({USAGE_KEY: usage}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
