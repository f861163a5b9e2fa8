"""Throughput over time: how many requests had finished (and failed) at moments of the run.

A generator samples its running totals every INTERVAL_S. A long run keeps at most MAX_SAMPLES:
past that every other sample goes, so the interval doubles and memory stays bounded (totals,
unlike rates, lose nothing but resolution when samples are dropped). Parts from several
processes merge by reading each one's totals at the times of the coarsest.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

INTERVAL_S = 0.1
MAX_SAMPLES = 1024


@dataclass(frozen=True)
class Throughput:
    """Running totals of finished requests and of errors, at `t_s` seconds into the run."""

    t_s: tuple[float, ...] = ()
    requests: tuple[int, ...] = ()
    errors: tuple[int, ...] = ()

    def total_at(self, t_s: float) -> tuple[int, int]:
        """The totals at `t_s`: those of the last sample taken by then."""
        k = bisect.bisect_right(self.t_s, t_s + 1e-9) - 1
        return (0, 0) if k < 0 else (self.requests[k], self.errors[k])

    def per_interval(self) -> dict[str, list[float] | list[int]]:
        """What finished in each interval, keyed by the time the interval ended."""
        return {
            "t_s": [round(t, 3) for t in self.t_s],
            "requests": _differences(self.requests),
            "errors": _differences(self.errors),
        }


def _differences(totals: Sequence[int]) -> list[int]:
    return [now - before for before, now in zip((0, *totals[:-1]), totals, strict=True)]


class Sampler:
    """Takes a generator's running totals every interval; `sampled` is what it saw."""

    def __init__(self) -> None:
        self.interval_s = INTERVAL_S
        self.t_s: list[float] = []
        self.requests: list[int] = []
        self.errors: list[int] = []

    @property
    def next_s(self) -> float:
        """When the next sample is due, in seconds into the run."""
        return (len(self.t_s) + 1) * self.interval_s

    def take(self, t_s: float, requests: int, errors: int) -> None:
        """Record the totals at `t_s`; halve the resolution when there are too many."""
        self.t_s.append(t_s)
        self.requests.append(requests)
        self.errors.append(errors)
        if len(self.t_s) > MAX_SAMPLES:
            # Keep the samples at even multiples of the interval: the interval doubles.
            self.t_s, self.requests, self.errors = (
                self.t_s[1::2],
                self.requests[1::2],
                self.errors[1::2],
            )
            self.interval_s *= 2

    def finish(self, t_s: float, requests: int, errors: int) -> None:
        """The final totals, at the end of the run: a sample of their own unless the last
        one is under half an interval old, which they replace (a sliver of an interval would
        read as a spike)."""
        if self.t_s and t_s - self.t_s[-1] < self.interval_s / 2:
            self.t_s[-1], self.requests[-1], self.errors[-1] = t_s, requests, errors
        else:
            self.take(t_s, requests, errors)

    def sampled(self) -> Throughput:
        """The samples taken so far."""
        return Throughput(tuple(self.t_s), tuple(self.requests), tuple(self.errors))


def merge(parts: Sequence[Throughput]) -> Throughput:
    """Several generators' samples as one run's: totals added at the coarsest part's times."""
    timed = [part for part in parts if part.t_s]
    if not timed:
        return Throughput()
    coarsest = min(timed, key=lambda part: len(part.t_s) / part.t_s[-1])
    end_s = max(part.t_s[-1] for part in timed)
    times = [*coarsest.t_s, *((end_s,) if end_s > coarsest.t_s[-1] else ())]
    totals = [[part.total_at(t) for part in timed] for t in times]
    return Throughput(
        tuple(times),
        tuple(sum(requests for requests, _ in at) for at in totals),
        tuple(sum(errors for _, errors in at) for at in totals),
    )
