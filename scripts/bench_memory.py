"""Peak memory of `fetcher fetch` as the batch grows: 10,000, 100,000 and 1,000,000 URLs.

    flock /tmp/fetcher-bench.lock .venv/bin/python scripts/bench_memory.py [--sizes 10000,100000]

The URL file is streamed and the command keeps counts, not results, so its peak RSS should not
grow with the batch: the goal is every size within 10% of the smallest, and under 100 MB at
1,000,000. The server is nginx answering `200 ok` from memory when it is installed (fast enough
that 1,000,000 requests take minutes, not hours), else the bundled mock server. Results go to
/dev/null, so the disk's speed does not count; the writer still formats and writes every line.
Peak RSS is the kernel's own figure for the finished process (wait4's ru_maxrss).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from _bench import exit_on_sigterm, free_port

SIZES = (10_000, 100_000, 1_000_000)
GOAL_MB = 100.0
SPREAD = 0.10
NGINX_CONF = """daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{port};
        location / {{ return 200 "ok"; }}
    }}
}}
"""


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout_s: float = 20) -> None:
    """Wait until something accepts connections on the port, or fail."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"bench_memory: the server exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    sys.exit("bench_memory: the server did not start listening")


@contextlib.contextmanager
def fast_server(workdir: Path) -> Iterator[tuple[str, str]]:
    """(name, base URL) of a running server on loopback; it is stopped on the way out."""
    port = free_port()
    nginx = shutil.which("nginx")
    if nginx:
        (workdir / "nginx.conf").write_text(NGINX_CONF.format(dir=workdir, port=port))
        argv = [nginx, "-p", str(workdir), "-c", str(workdir / "nginx.conf")]
        name = "nginx"
    else:
        argv = [sys.executable, "-m", "mock_server", "--port", str(port)]
        name = "mock-server"
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, process)
        yield name, f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def write_urls(path: Path, base: str, count: int) -> None:
    """A URL file of `count` distinct URLs."""
    with open(path, "w") as file:
        for i in range(count):
            file.write(f"{base}/items/{i}\n")


def peak_rss_mb(argv: list[str]) -> tuple[float, float, int]:
    """Run a command to its end: (peak RSS in MB, wall seconds, exit status)."""
    t0 = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    try:
        _, status, usage = os.wait4(process.pid, 0)
    except BaseException:
        process.kill()
        process.wait()
        raise
    process.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_maxrss / 1024, time.perf_counter() - t0, process.returncode


def main() -> int:
    """Measure each size once, smallest first, and judge the spread."""
    exit_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="comma-separated")
    parser.add_argument("--strategy", default="asyncio-aiohttp")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    peaks: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as tmp, fast_server(Path(tmp)) as (name, base):
        print(f"server: {name} at {base}; strategy {args.strategy}; results to /dev/null")
        for count in sizes:
            urls = Path(tmp) / f"urls-{count}.txt"
            write_urls(urls, base, count)
            argv = [sys.executable, "-m", "fetcher", "fetch", str(urls), "--quiet"]
            argv += ["--strategy", args.strategy, "--out", os.devnull]
            peak_mb, wall_s, code = peak_rss_mb(argv)
            urls.unlink()
            print(f"{count:>9,} URLs: peak RSS {peak_mb:6.1f} MB in {wall_s:6.1f} s (exit {code})")
            peaks[count] = peak_mb
    smallest = peaks[min(peaks)]
    spread = max(peaks.values()) / smallest - 1
    print(f"largest peak vs smallest: +{spread:.1%} (goal: within {SPREAD:.0%})")
    biggest = max(peaks)
    print(f"peak at {biggest:,} URLs: {peaks[biggest]:.1f} MB (goal: under {GOAL_MB:.0f} MB)")
    return 0 if spread <= SPREAD and peaks[biggest] < GOAL_MB else 1


if __name__ == "__main__":
    sys.exit(main())
