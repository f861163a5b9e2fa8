"""Injected behaviour: latency distributions, faults, rate limits and their parsers, all seeded.

A `Behaviour` is what the server does to a request before answering it. The server holds one,
built from its flags; a request may override any field with a query parameter of the same name
(`/items/7?latency=20ms&faults=reset=0.5`).
"""

from __future__ import annotations

import math
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

DISTRIBUTIONS = ("fixed", "uniform", "normal", "lognormal", "exponential")
# Uniform with no jitter is fixed; with `--jitter` alone it spreads draws +/- the jitter.
DEFAULT_DISTRIBUTION = "uniform"
FAULT_KINDS = ("reset", "empty", "hang", "slow", "malformed")
ERROR_STATUSES = (500, 502, 503)

# Caps on what a client may ask for: a mock server must not be talked into exhausting itself.
MAX_DELAY_MS = 60_000.0
MAX_BYTES = 10 * 1024 * 1024
MAX_RATE_LIMIT = 1_000_000.0
# A hung request waits this long at most, or until the client goes away.
HANG_MS = 300_000.0
# A slow body trickles out in this many chunks over this long.
SLOW_BODY_MS = 2_000.0
SLOW_BODY_CHUNKS = 10

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


@dataclass(frozen=True)
class Behaviour:
    """What the server does to each request before it answers."""

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    distribution: str = DEFAULT_DISTRIBUTION
    error_rate: float = 0.0
    rate_limit: float = 0.0
    faults: tuple[tuple[str, float], ...] = ()
    # True when there is nothing to inject: the server's fast path.
    inert: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.distribution not in DISTRIBUTIONS:
            raise ParamError(
                f"bad distribution {self.distribution!r}: use one of {', '.join(DISTRIBUTIONS)}"
            )
        if self.error_rate + sum(rate for _, rate in self.faults) > 1.0 + 1e-9:
            raise ParamError("error-rate and fault rates add up to more than 1")
        inert = not (self.latency_ms or self.jitter_ms or self.error_rate or self.rate_limit)
        object.__setattr__(self, "inert", inert and not any(rate for _, rate in self.faults))

    def with_query(self, query: Mapping[str, str]) -> Behaviour:
        """This behaviour with the overrides a request's query parameters ask for."""
        changes: dict[str, object] = {}
        for key, value in query.items():
            parse = _OVERRIDES.get(key.replace("_", "-"))
            if parse is not None:
                field_name, parser = parse
                changes[field_name] = parser(value)
        return replace(self, **changes) if changes else self  # type: ignore[arg-type]


_OVERRIDES: dict[str, tuple[str, Callable[[str], object]]] = {
    "latency": ("latency_ms", lambda v: parse_duration_ms(v, name="latency")),
    "jitter": ("jitter_ms", lambda v: parse_duration_ms(v, name="jitter")),
    "distribution": ("distribution", str),
    "error-rate": ("error_rate", lambda v: parse_fraction(v, name="error-rate")),
    "rate-limit": ("rate_limit", parse_rate_limit),
    "faults": ("faults", parse_faults),
}


def sample_latency_ms(rng: random.Random, behaviour: Behaviour) -> float:
    """Draw one latency: mean `latency_ms`, spread `jitter_ms`, never below 0 or over the cap.

    The spread is +/- for uniform and the standard deviation for normal and lognormal; fixed
    ignores it, and exponential has its own (its standard deviation is its mean).
    """
    mean, spread = behaviour.latency_ms, behaviour.jitter_ms
    if mean <= 0.0 and spread <= 0.0:
        return 0.0
    kind = behaviour.distribution
    if kind == "fixed" or (spread <= 0.0 and kind != "exponential"):
        value = mean
    elif kind == "uniform":
        value = rng.uniform(mean - spread, mean + spread)
    elif kind == "normal":
        value = rng.gauss(mean, spread)
    elif kind == "lognormal":
        # Parameters chosen so the draws have mean `mean` and standard deviation `spread`.
        sigma2 = math.log1p((spread / mean) ** 2) if mean > 0 else 0.0
        value = rng.lognormvariate(math.log(max(mean, 1e-9)) - sigma2 / 2, math.sqrt(sigma2))
    else:
        value = rng.expovariate(1.0 / mean) if mean > 0 else 0.0
    return min(max(value, 0.0), MAX_DELAY_MS)


def choose_fault(rng: random.Random, behaviour: Behaviour) -> str | None:
    """Pick `error`, one of FAULT_KINDS, or None (answer normally), by the configured rates."""
    if behaviour.error_rate <= 0.0 and not behaviour.faults:
        return None
    draw = rng.random()
    for kind, rate in (("error", behaviour.error_rate), *behaviour.faults):
        if draw < rate:
            return kind
        draw -= rate
    return None


class TokenBucket:
    """A requests-per-second limit with a burst of one second's worth."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        # At least one token, or a limit under 1/s would never let a request through.
        self.capacity = max(rate, 1.0)
        self.tokens = self.capacity
        self.clock = clock
        self.updated = clock()

    def take(self) -> float:
        """Take a token: 0.0 when allowed, else the seconds until the next one is due."""
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate
