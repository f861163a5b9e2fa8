"""What every handler shares: the server's behaviour, its seeded generator, stats and limits."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from aiohttp import web

from mock_server.behaviour import Behaviour
from mock_server.limits import TokenBucket
from mock_server.params import parse_seed
from mock_server.stats import ServerStats

# Requests may ask for their own rate limits; keep only this many buckets so memory stays bounded.
MAX_BUCKETS = 64


@dataclass
class ServerState:
    """The default behaviour, the seeded generator, the stats and the rate-limit buckets."""

    behaviour: Behaviour
    rng: random.Random
    seed: int | None = None
    stats: ServerStats = field(default_factory=ServerStats)
    buckets: dict[float, TokenBucket] = field(default_factory=dict)

    def bucket(self, rate: float) -> TokenBucket:
        """The token bucket for one rate limit."""
        bucket = self.buckets.get(rate)
        if bucket is None:
            if len(self.buckets) >= MAX_BUCKETS:
                self.buckets.clear()
            bucket = self.buckets[rate] = TokenBucket(rate)
        return bucket

    def rng_for(self, request: web.Request) -> random.Random:
        """A generator of the request's own when it asks for `?seed=N`, else the server's."""
        if request.query_string and "seed" in request.query:
            return random.Random(parse_seed(request.query["seed"]))
        return self.rng


STATE = web.AppKey("state", ServerState)
