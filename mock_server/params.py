"""The mock server's parameters: parsers for every flag and query value, and the caps on them.

One parser per kind of value, shared by the command line (`mock-server --latency 100ms`) and the
query parameters that override it per request (`/items/7?latency=20ms`); a bad value is a
`ParamError` that says how to write a good one. Standard library only, so the `fetcher` command
line can parse the same durations without importing the server.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable
from typing import TypeVar

# The faults a request can be given (`faults=reset=0.1`): see `mock_server.behaviour`.
FAULT_KINDS = ("reset", "empty", "hang", "slow", "malformed")

# Caps on what a client may ask for: a mock server must not be talked into exhausting itself.
MAX_DELAY_MS = 60_000.0
MAX_BYTES = 10 * 1024 * 1024
MAX_RATE_LIMIT = 1_000_000.0

T = TypeVar("T")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s)?\s*$", re.ASCII)
_COUNT = re.compile(r"^\d+$", re.ASCII)


class ParamError(ValueError):
    """A setting or a request parameter that cannot be used; the message says how to fix it."""


class CapExceeded(ParamError):
    """A size or a duration over what the server allows; carries the cap and its unit."""

    def __init__(self, message: str, *, cap: float, unit: str) -> None:
        super().__init__(message)
        self.cap = cap
        self.unit = unit


def parse_duration_ms(text: str, *, name: str = "duration", cap_ms: float = MAX_DELAY_MS) -> float:
    """Read `100ms`, `1.5s` or a bare number of milliseconds, up to `cap_ms`."""
    match = _DURATION.match(text)
    if match is None:
        raise ParamError(f"bad {name} {text!r}: write 100ms, 1.5s or a number of milliseconds")
    value_ms = float(match.group(1)) * (1000.0 if match.group(2) == "s" else 1.0)
    if value_ms > cap_ms:
        raise CapExceeded(
            f"{name} {text!r} is over the cap of {cap_ms:g} ms", cap=cap_ms, unit="ms"
        )
    return value_ms


def parse_count(text: str, *, name: str, cap: int, unit: str) -> int:
    """Read a whole number from 0 up to `cap`."""
    if _COUNT.match(text) is None:
        raise ParamError(f"bad {name} {text!r}: write a whole number from 0 to {cap}")
    # Compare lengths first: int() of a thousand-digit string is slow, and never under a cap.
    if len(text.lstrip("0")) > len(str(cap)) or int(text) > cap:
        message = f"{name} {text} is over the cap of {cap} {unit}".rstrip()
        raise CapExceeded(message, cap=cap, unit=unit)
    return int(text)


def parse_seed(text: str) -> int:
    """Read a seed: any whole number."""
    try:
        return int(text)
    except ValueError:
        raise ParamError(f"bad seed {text!r}: use a whole number") from None


def parse_fraction(text: str, *, name: str) -> float:
    """Read a probability between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        raise ParamError(f"bad {name} {text!r}: write a number between 0 and 1") from None
    if not 0.0 <= value <= 1.0:
        raise ParamError(f"bad {name} {text!r}: it must be between 0 and 1")
    return value


def parse_rate_limit(text: str) -> float:
    """Read a requests-per-second limit; 0 means no limit."""
    try:
        value = float(text)
    except ValueError:
        raise ParamError(f"bad rate-limit {text!r}: write requests per second, e.g. 200") from None
    if not 0.0 <= value < math.inf:
        raise ParamError(f"bad rate-limit {text!r}: write requests per second, e.g. 200")
    if value > MAX_RATE_LIMIT:
        message = f"rate-limit {text} is over the cap of {MAX_RATE_LIMIT:g} requests/s"
        raise CapExceeded(message, cap=MAX_RATE_LIMIT, unit="requests/s")
    return value


def parse_faults(text: str) -> tuple[tuple[str, float], ...]:
    """Read `reset=0.01,hang=0.02` into (kind, rate) pairs whose rates add up to at most 1."""
    pairs: list[tuple[str, float]] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        kind, sep, rate = part.partition("=")
        if not sep or kind not in FAULT_KINDS:
            raise ParamError(
                f"bad fault {part!r}: write KIND=RATE with KIND one of {', '.join(FAULT_KINDS)}"
            )
        pairs.append((kind, parse_fraction(rate, name=f"rate of fault {kind!r}")))
    if sum(rate for _, rate in pairs) > 1.0 + 1e-9:
        raise ParamError(f"fault rates in {text!r} add up to more than 1")
    return tuple(pairs)


def parse_weighted_codes(text: str) -> tuple[tuple[int, float], ...]:
    """Read `200:0.9,503:0.1` (or `200,404`, equal weights) into (status, weight) pairs."""
    pairs: list[tuple[int, float]] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        code, sep, weight = part.partition(":")
        try:
            pair = (int(code), float(weight) if sep else 1.0)
        except ValueError:
            raise ParamError(
                f"bad status {part!r}: write CODE or CODE:WEIGHT, e.g. 503:0.1"
            ) from None
        # 1xx codes are not final answers: a client would wait for the real one forever.
        if not 200 <= pair[0] <= 599 or not 0.0 <= pair[1] < math.inf:
            raise ParamError(f"bad status {part!r}: codes run 200-599 and weights are >= 0")
        pairs.append(pair)
    if not pairs or sum(weight for _, weight in pairs) <= 0:
        raise ParamError(f"bad status list {text!r}: give at least one code with a positive weight")
    return tuple(pairs)


def arg_type(parse: Callable[[str], T]) -> Callable[[str], T]:
    """One of these parsers as an argparse type, so a bad flag is a one-line usage error."""

    def convert(text: str) -> T:
        try:
            return parse(text)
        except ParamError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return convert
