"""What `fetcher load` is asked to do: LoadConfig and its DEFAULT_* values."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from fetcher.config import TLS

CLIENTS = ("fast", "aiohttp", "httpx")
DEFAULT_DURATION_S = 10.0
DEFAULT_CONCURRENCY = 64
# The open model's cap on requests in flight: generous, so a stalled server does not stop arrivals.
DEFAULT_OPEN_CONCURRENCY = 2_000
DEFAULT_TIMEOUT_S = 30.0
# After the duration, requests in flight get this long to finish before they are cancelled.
DEFAULT_DRAIN_S = 2.0
# A start this much after its due time is late: above the 1 ms granularity of the event loop's
# timers and the few ms of scheduling jitter of a busy machine, so only a generator that fell
# behind (every worker busy, or its CPU saturated) counts. The full start-lag histogram is kept.
LATE_START_MS = 5.0


@dataclass(frozen=True)
class LoadConfig:
    """What to load and how: the model follows from `rate` (None: closed, else open)."""

    urls: tuple[str, ...]
    rate: float | None = None
    concurrency: int = DEFAULT_CONCURRENCY
    duration_s: float | None = None
    requests: int | None = None
    client: str = "fast"
    # Requests written on one connection before the first answers (fast client only; 1: none).
    pipeline: int = 1
    processes: int = 1
    timeout_s: float = DEFAULT_TIMEOUT_S
    drain_s: float = DEFAULT_DRAIN_S
    csv_path: str | None = None
    use_uvloop: bool = True
    # Whom to trust over HTTPS; each generator process builds its one SSL context from it.
    tls: TLS = field(default_factory=TLS)
    # One generator per worker of a Dask cluster (fetcher.load.on_dask): the scheduler given,
    # else $DASK_SCHEDULER_ADDRESS, else a LocalCluster of `processes` workers.
    dask: bool = False
    scheduler: str | None = None

    def __post_init__(self) -> None:
        if not self.urls:
            raise ValueError("give at least one URL")
        if self.rate is not None and not self.rate > 0:
            raise ValueError(f"rate must be > 0 requests/s, got {self.rate}")
        if self.concurrency < 1 or self.processes < 1:
            raise ValueError("concurrency and processes must be at least 1")
        if self.client not in CLIENTS:
            raise ValueError(f"client must be one of {', '.join(CLIENTS)}, got {self.client!r}")
        if self.pipeline < 1:
            raise ValueError(f"pipeline must be at least 1, got {self.pipeline}")
        if self.pipeline > 1 and self.client != "fast":
            raise ValueError("--pipeline needs the fast client (--client fast)")
        if self.requests is not None and self.requests < 1:
            raise ValueError(f"requests must be at least 1, got {self.requests}")
        if self.duration_s is not None and not self.duration_s > 0:
            raise ValueError(f"duration must be > 0 s, got {self.duration_s}")
        if not self.timeout_s > 0:
            raise ValueError(f"timeout must be > 0 s, got {self.timeout_s}")

    @property
    def model(self) -> str:
        """`closed` or `open`."""
        return "closed" if self.rate is None else "open"

    @property
    def connections(self) -> int:
        """The connections that carry `concurrency` requests in flight, `pipeline` on each:
        each generator's for its share, since each opens its own."""
        if self.processes > 1:
            return sum(self.share(index).connections for index in range(self.processes))
        return -(-self.concurrency // self.pipeline)

    def share(self, index: int) -> LoadConfig:
        """The part of the load that generator `index` of `processes` produces."""
        n = self.processes
        rate = None if self.rate is None else self.rate / n
        requests = None if self.requests is None else _split(self.requests, n, index)
        concurrency = max(1, _split(self.concurrency, n, index))
        return replace(self, rate=rate, requests=requests, concurrency=concurrency, processes=1)

    @property
    def bounded(self) -> LoadConfig:
        """This config with the default duration when neither a duration nor a count is given."""
        if self.duration_s is None and self.requests is None:
            return replace(self, duration_s=DEFAULT_DURATION_S)
        return self


def _split(total: int, n: int, index: int) -> int:
    """Part `index` of `total` shared as evenly as can be among `n`."""
    return total // n + (index < total % n)
