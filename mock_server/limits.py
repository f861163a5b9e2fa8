"""The rate limit: a token bucket per requests-per-second limit asked for."""

from __future__ import annotations

import time
from collections.abc import Callable


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
