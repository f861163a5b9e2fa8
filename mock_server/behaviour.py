"""Injected behaviour: what the server does to a request before it answers, drawn from a seed.

A `Behaviour` is the latency distribution, the error rate, the rate limit and the faults. The
server holds one, built from its flags; a request may override any field with a query parameter
of the same name (`/items/7?latency=20ms&faults=reset=0.5`).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from mock_server.params import (
    MAX_DELAY_MS,
    ParamError,
    parse_duration_ms,
    parse_faults,
    parse_fraction,
    parse_rate_limit,
)

DISTRIBUTIONS = ("fixed", "uniform", "normal", "lognormal", "exponential")
# Uniform with no jitter is fixed; with `--jitter` alone it spreads draws +/- the jitter.
DEFAULT_DISTRIBUTION = "uniform"
ERROR_STATUSES = (500, 502, 503)
# A hung request waits this long at most, or until the client goes away.
HANG_MS = 300_000.0
# A slow body trickles out in this many chunks over this long.
SLOW_BODY_MS = 2_000.0
SLOW_BODY_CHUNKS = 10


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
