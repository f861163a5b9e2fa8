"""Argument types shared by the commands: each turns bad input into a one-line usage error."""

from __future__ import annotations

import argparse
import os

from fetcher.config import FetchConfig, Timeouts
from fetcher.strategies import STRATEGIES
from mock_server.faults import ParamError, parse_duration_ms


def positive_int(text: str) -> int:
    """A whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def duration_s(text: str) -> float:
    """`100ms`, `1.5s` or a bare number of milliseconds, in seconds."""
    try:
        return parse_duration_ms(text, cap_ms=float("inf")) / 1000
    except ParamError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def strategy_list(text: str) -> list[str]:
    """A comma-separated list of known strategy names."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in STRATEGIES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown strategy {unknown[0] if unknown else text!r}: choose from "
            + ", ".join(STRATEGIES)
        )
    return names


def add_fetch_options(parser: argparse.ArgumentParser) -> None:
    """Concurrency and timeout flags, shared by compare and fetch."""
    parser.add_argument(
        "--concurrency",
        type=positive_int,
        default=100,
        help="threads or asyncio tasks (default 100)",
    )
    parser.add_argument(
        "--processes",
        type=positive_int,
        default=os.cpu_count() or 1,
        help="worker processes for the processes strategy (default: CPUs)",
    )
    parser.add_argument(
        "--connect-timeout",
        type=duration_s,
        default=5.0,
        metavar="DURATION",
        help="per attempt, to connect (default 5s)",
    )
    parser.add_argument(
        "--read-timeout",
        type=duration_s,
        default=30.0,
        metavar="DURATION",
        help="per attempt, between two reads (default 30s)",
    )
    parser.add_argument(
        "--total-timeout",
        type=duration_s,
        default=60.0,
        metavar="DURATION",
        help="per attempt, in all (default 60s)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def config_from_args(args: argparse.Namespace) -> FetchConfig:
    """The FetchConfig the fetch options ask for."""
    timeouts = Timeouts(
        connect_s=args.connect_timeout, read_s=args.read_timeout, total_s=args.total_timeout
    )
    return FetchConfig(concurrency=args.concurrency, processes=args.processes, timeouts=timeouts)
