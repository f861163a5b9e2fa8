"""Benchmark `fetcher load` side by side with locust (FastHttpUser) and hey, in one run.

    flock /tmp/fetcher-bench.lock .venv/bin/python scripts/bench_load.py [--quick]

1. Throughput: the bundled server (0 ms latency) pinned to core 0, each client pinned to core 1,
   64 connections: fetcher load vs one locust process vs hey, best of 2 rounds of 6 s with the
   tools taking turns (the machine is shared and noisy). Goals: >= 1.5x locust, >= 0.6x hey.
2. Open model: --rate 1000 for 20 s against 50 ms latency. Goals: achieved rate within 2%,
   corrected p99 within 60 ms.
3. Memory: 60 s at the highest rate the open model sustains (probed for 3 s at falling fractions
   of the closed model's rate); peak RSS growth from 10 s to the end < 50 MB.

Every child is stopped however the script ends, Ctrl-C included.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _bench import LOCUSTFILE, exit_on_sigterm, stop_all

from mock_server import MockServer, launch

SERVER_CORE, CLIENT_CORE = "0", "1"
# Fractions of the closed model's requests/s tried, highest first, for the memory run's rate.
PROBE_FRACTIONS = (0.45, 0.35, 0.25)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Durations of each phase; --quick shortens them all for a smoke run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="each throughput run")
    parser.add_argument("--rounds", type=int, default=2, help="throughput runs of each tool")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--rate-seconds", type=float, default=20.0)
    parser.add_argument("--memory-seconds", type=float, default=60.0, help="at least 15")
    parser.add_argument("--quick", action="store_true", help="3 s, 5 s and 15 s phases")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.rate_seconds, args.memory_seconds, args.rounds = 3.0, 5.0, 15.0, 1
    args.memory_seconds = max(args.memory_seconds, 15.0)
    return args


class Children:
    """Every process the benchmark starts, stopped at exit however it ends."""

    def __init__(self) -> None:
        self.processes: list[subprocess.Popen[str]] = []

    def run(self, argv: list[str], timeout_s: float) -> str:
        """Run `argv` pinned to the client core; its stdout, or raise with its stderr."""
        process = self.start(argv)
        stdout, stderr = process.communicate(timeout=timeout_s)
        if process.returncode != 0:
            raise RuntimeError(f"{argv[0]} exited {process.returncode}: {stderr[-2000:]}")
        return stdout

    def start(self, argv: list[str]) -> subprocess.Popen[str]:
        """Start `argv` pinned to the client core."""
        command = ["taskset", "-c", CLIENT_CORE, *argv]
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        """Terminate, then kill, whatever is still running."""
        stop_all(self.processes)


@contextmanager
def pinned_server(**settings: Any) -> Iterator[MockServer]:
    """The bundled server on uvloop, every thread pinned to the server core."""
    with launch(uvloop=True, **settings) as server:
        subprocess.run(
            ["taskset", "-a", "-c", "-p", SERVER_CORE, str(server.pid)],
            check=True,
            capture_output=True,
        )
        yield server


def fetcher_load(
    children: Children, workdir: Path, *flags: str, timeout_s: float
) -> dict[str, Any]:
    """Run `fetcher load` with `flags`; its JSON report."""
    report = workdir / "fetcher.json"
    argv = [sys.executable, "-m", "fetcher", "load", *flags, "--json", str(report)]
    children.run(argv, timeout_s)
    return json.loads(report.read_text())  # type: ignore[no-any-return]


def locust_rps(children: Children, workdir: Path, url: str, args: argparse.Namespace) -> float:
    """Requests/s of one headless locust process with FastHttpUser."""
    locustfile = workdir / "locustfile.py"
    locustfile.write_text(LOCUSTFILE)
    n = str(args.connections)
    argv = [str(Path(sys.executable).with_name("locust")), "-f", str(locustfile), "--headless"]
    argv += ["-u", n, "-r", n, "-t", f"{args.seconds:g}s", "--host", url, "--only-summary"]
    argv += ["--csv", str(workdir / "locust"), "--loglevel", "WARNING"]
    children.run(argv, args.seconds + 60)
    with open(workdir / "locust_stats.csv", encoding="utf-8") as stats:
        row = next(r for r in csv.DictReader(stats) if r["Name"] == "Aggregated")
    return float(row["Requests/s"])


def hey_rps(children: Children, url: str, args: argparse.Namespace) -> float:
    """Requests/s of hey."""
    argv = ["hey", "-z", f"{args.seconds:g}s", "-c", str(args.connections), url]
    match = re.search(r"Requests/sec:\s+([\d.]+)", children.run(argv, args.seconds + 60))
    if match is None:
        raise RuntimeError("could not read hey's Requests/sec")
    return float(match.group(1))


def throughput(
    children: Children, workdir: Path, args: argparse.Namespace
) -> dict[str, list[float]]:
    """Requests/s of each tool on the same server and cores, the tools taking turns each round
    so that a burst of noise from the shared machine does not fall on one tool only."""
    rps: dict[str, list[float]] = {}
    with pinned_server() as server:
        for _ in range(args.rounds):
            for tool, value in _one_round(children, workdir, server, args).items():
                rps.setdefault(tool, []).append(value)
    return rps


def _one_round(
    children: Children, workdir: Path, server: MockServer, args: argparse.Namespace
) -> dict[str, float]:
    """Each tool once."""
    url = server.url_for("/items/1")
    flags = ("-c", str(args.connections), "-z", f"{args.seconds:g}s", url)
    report = fetcher_load(children, workdir, *flags, timeout_s=args.seconds + 60)
    rps = {"fetcher load": float(report["requests_per_s"])}
    if Path(sys.executable).with_name("locust").exists():
        rps["locust FastHttpUser"] = locust_rps(children, workdir, server.url, args)
    if shutil.which("hey"):
        rps["hey"] = hey_rps(children, url, args)
    return rps


def open_model(children: Children, workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    """--rate against 50 ms latency: achieved rate and corrected/uncorrected p99."""
    with pinned_server(latency="50ms") as server:
        flags = (
            "--rate",
            f"{args.rate:g}",
            "-z",
            f"{args.rate_seconds:g}s",
            server.url_for("/items/1"),
        )
        return fetcher_load(children, workdir, *flags, timeout_s=args.rate_seconds + 60)


def sustainable_rate(
    children: Children, workdir: Path, server: MockServer, closed_rps: float
) -> float:
    """The highest of a few fractions of the closed model's rate that the open model keeps up
    with for 3 s: achieved within 2%, and under 1% of requests started late."""
    for fraction in PROBE_FRACTIONS:
        rate = max(100.0, round(fraction * closed_rps, -2))
        flags = ("--rate", f"{rate:g}", "-z", "3s", server.url_for("/items/1"))
        data = fetcher_load(children, workdir, *flags, timeout_s=60)
        achieved, late = data["requests_per_s"], data["late_starts"]
        kept_up = achieved >= 0.98 * rate and late <= data["requests"] / 100
        verdict = "sustained" if kept_up else "not sustained"
        print(f"   probe --rate {rate:g}: achieved {achieved:,.0f}/s, {late:,} late: {verdict}")
        if kept_up:
            return rate
    return max(100.0, round(PROBE_FRACTIONS[-1] * closed_rps, -2))


def memory(
    children: Children, workdir: Path, closed_rps: float, seconds: float
) -> dict[str, float]:
    """Peak RSS of `fetcher load --rate` at 10 s and at the end, at the highest sustained rate."""
    print("\n3. memory at the highest rate the open model sustains")
    with pinned_server() as server:
        rate = sustainable_rate(children, workdir, server, closed_rps)
        report = workdir / "memory.json"
        argv = [sys.executable, "-m", "fetcher", "load", "--rate", f"{rate:g}"]
        argv += ["-z", f"{seconds:g}s", "--json", str(report), server.url_for("/items/1")]
        process = children.start(argv)
        at_10s, end = _watch_peak_rss(process, seconds)
        data = json.loads(report.read_text())
    return {
        "rate": rate,
        "achieved": data["requests_per_s"],
        "p99_ms": data["latency_ms"]["p99"],
        "at_10s_mb": at_10s,
        "end_mb": end,
    }


def _watch_peak_rss(process: subprocess.Popen[str], seconds: float) -> tuple[float, float]:
    """The process's peak RSS (MB) when 10 s have passed and when it ends."""
    started = time.monotonic()
    at_10s = last = 0.0
    while process.poll() is None and time.monotonic() - started < seconds + 60:
        last = _peak_rss_mb(process.pid) or last
        if time.monotonic() - started < 10:
            at_10s = last
        time.sleep(0.25)
    process.communicate(timeout=30)
    return at_10s, last


def _peak_rss_mb(pid: int) -> float:
    """The kernel's high-water mark of the process's resident memory (VmHWM), in MB."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else 0.0


def show_throughput(runs: dict[str, list[float]]) -> dict[str, float]:
    """The three tools side by side, best of the rounds, with the ratios the issue asks for."""
    print(
        f"\n1. throughput, 0 ms latency, server on core {SERVER_CORE}, client on core {CLIENT_CORE}"
    )
    rps = {tool: max(values) for tool, values in runs.items()}
    for tool, values in runs.items():
        each = ", ".join(f"{value:,.0f}" for value in values)
        print(f"   {tool:<22} best {rps[tool]:>8,.0f} requests/s   (rounds: {each})")
    ours = rps["fetcher load"]
    for tool, goal in (("locust FastHttpUser", 1.5), ("hey", 0.6)):
        if tool in rps:
            ratio = ours / rps[tool]
            verdict = _verdict(ratio >= goal)
            print(f"   fetcher / {tool:<20} {ratio:5.2f}x  (goal >= {goal}x: {verdict})")
        else:
            print(f"   {tool}: not installed, skipped")
    return rps


def show_open(data: dict[str, Any], target: float) -> None:
    """Achieved rate and the corrected p99 against the goals."""
    achieved = data["requests_per_s"]
    p99 = data["latency_ms"]["p99"]
    off = abs(achieved - target) / target
    print(f"\n2. open model, --rate {target:g} for {data['duration_s']:.1f} s at 50 ms latency")
    print(f"   achieved {achieved:,.1f}/s ({off:.2%} off; goal <= 2%: {_verdict(off <= 0.02)})")
    print(
        f"   p99 corrected {p99:.2f} ms (goal <= 60 ms: {_verdict(p99 <= 60)}), "
        f"uncorrected {data['latency_uncorrected_ms']['p99']:.2f} ms"
    )
    print(
        f"   late starts {data['late_starts']:,} of {data['requests']:,}, "
        f"errors {sum(data['errors'].values()):,}, max corrected {data['latency_ms']['max']:.1f} ms"
    )


def show_memory(figures: dict[str, float], seconds: float) -> None:
    """Peak RSS growth after the first 10 s."""
    growth = figures["end_mb"] - figures["at_10s_mb"]
    print(
        f"   --rate {figures['rate']:.0f} for {seconds:g} s: achieved {figures['achieved']:,.0f}/s,"
        f" corrected p99 {figures['p99_ms']:.1f} ms"
    )
    print(
        f"   peak RSS {figures['at_10s_mb']:.1f} MB at 10 s, {figures['end_mb']:.1f} MB at the end:"
        f" growth {growth:.1f} MB (goal < 50 MB: {_verdict(growth < 50)})"
    )


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the three phases and print their figures."""
    exit_on_sigterm()
    args = parse_args(argv)
    children = Children()
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        stack.callback(children.stop_all)
        workdir = Path(tmp)
        try:
            rps = show_throughput(throughput(children, workdir, args))
            show_open(open_model(children, workdir, args), args.rate)
            figures = memory(children, workdir, rps["fetcher load"], args.memory_seconds)
            show_memory(figures, args.memory_seconds)
        except KeyboardInterrupt:
            print("\ninterrupted: stopping every child", file=sys.stderr)
            return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
