"""How to fetch: timeouts, retries, concurrency, limits and TLS, as frozen values with DEFAULT_*."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Any

DEFAULT_CONCURRENCY = 100
DEFAULT_CONNECT_TIMEOUT_S = 5.0
DEFAULT_READ_TIMEOUT_S = 30.0
DEFAULT_TOTAL_TIMEOUT_S = 60.0
DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_REDIRECTS = 10
DEFAULT_ATTEMPTS = 3
DEFAULT_BACKOFF_INITIAL_S = 0.1
DEFAULT_BACKOFF_MAX_S = 5.0
DEFAULT_RETRY_TOTAL_S = 120.0
DEFAULT_RETRY_STATUSES = (429, 502, 503, 504)
DEFAULT_RETRY_AFTER_MAX_S = 30.0


def default_processes() -> int:
    """Worker processes when none are asked for: one per CPU core of this machine."""
    return os.cpu_count() or 1


@dataclass(frozen=True)
class Timeouts:
    """Limits on one attempt: to connect, between two reads, and in all. Never unbounded."""

    connect_s: float = DEFAULT_CONNECT_TIMEOUT_S
    read_s: float = DEFAULT_READ_TIMEOUT_S
    total_s: float = DEFAULT_TOTAL_TIMEOUT_S

    def __post_init__(self) -> None:
        for name in ("connect_s", "read_s", "total_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"timeout {name} must be > 0, got {getattr(self, name)!r}")


@dataclass(frozen=True)
class Retries:
    """When to try a URL again: how often, how long between tries, and for which answers.

    Only connection errors, timeouts and the `statuses` are retried, and only for GET, the one
    method fetcher sends. `attempts=1` turns retrying off.
    """

    attempts: int = DEFAULT_ATTEMPTS
    backoff_initial_s: float = DEFAULT_BACKOFF_INITIAL_S
    backoff_max_s: float = DEFAULT_BACKOFF_MAX_S
    # All attempts of one URL, waits included; no new attempt starts after this.
    total_s: float = DEFAULT_RETRY_TOTAL_S
    statuses: tuple[int, ...] = DEFAULT_RETRY_STATUSES
    # A server's Retry-After is honoured up to this long; a larger one is cut to it.
    retry_after_max_s: float = DEFAULT_RETRY_AFTER_MAX_S
    # Full jitter: wait a random time up to the backoff, so clients do not retry in lockstep.
    jitter: bool = True

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be at least 1, got {self.attempts}")
        for name in ("backoff_initial_s", "backoff_max_s", "total_s", "retry_after_max_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        object.__setattr__(self, "statuses", tuple(self.statuses))


@dataclass(frozen=True)
class Limits:
    """How hard to press on servers: requests per second in all, connections per host.

    None means no limit. Both hold for the whole run: threads and tasks share one limiter, and
    each of P processes gets rate/P and its part of the per-host connections.
    """

    rate_per_s: float | None = None
    per_host: int | None = None

    def __post_init__(self) -> None:
        if self.rate_per_s is not None and not self.rate_per_s > 0:
            raise ValueError(f"rate_per_s must be > 0, got {self.rate_per_s!r}")
        if self.per_host is not None and self.per_host < 1:
            raise ValueError(f"per_host must be at least 1, got {self.per_host!r}")


@dataclass(frozen=True)
class TLS:
    """Which server certificates to trust: those a CA bundle vouches for, or (verify=False) any.

    With no `ca_bundle`, the bundle is $SSL_CERT_FILE (or $SSL_CERT_DIR) when set, else certifi's
    (see fetcher.policy.tls). `verify=False` lets anyone on the path read and change the
    traffic: for a test server only.
    """

    ca_bundle: str | None = None
    verify: bool = True

    def __post_init__(self) -> None:
        if self.ca_bundle is not None and not self.verify:
            raise ValueError(
                "a CA bundle with verify=False would be ignored: give one or the other"
            )


@dataclass(frozen=True)
class FetchConfig:
    """Everything a strategy needs to know besides the URLs."""

    concurrency: int = DEFAULT_CONCURRENCY
    processes: int = field(default_factory=default_processes)
    timeouts: Timeouts = field(default_factory=Timeouts)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_redirects: int = DEFAULT_MAX_REDIRECTS
    retries: Retries = field(default_factory=Retries)
    limits: Limits = field(default_factory=Limits)
    keep_body: bool = False
    # Pure-Python work on each response, to turn an I/O-bound batch CPU-bound (strategies.cpu).
    cpu_ms: float = 0.0
    tls: TLS = field(default_factory=TLS)
    # False: a new connection, and TLS handshake, for every request (to show what that costs).
    keepalive: bool = True
    # The dask strategy's scheduler, tcp://HOST:PORT; None: $DASK_SCHEDULER_ADDRESS or a
    # LocalCluster (fetcher.cluster).
    scheduler: str | None = None

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {self.concurrency}")
        if self.processes < 1:
            raise ValueError(f"processes must be at least 1, got {self.processes}")
        if self.max_body_bytes < 0:
            raise ValueError(f"max_body_bytes must be >= 0, got {self.max_body_bytes}")


def config_to_dict(config: FetchConfig) -> dict[str, Any]:
    """The config as JSON-ready data, e.g. to hand it to a child process."""
    return asdict(config)


def config_from_dict(data: dict[str, Any]) -> FetchConfig:
    """The inverse of `config_to_dict`."""
    nested = {
        "timeouts": Timeouts(**data["timeouts"]),
        "retries": Retries(**data.get("retries", {})),
        "limits": Limits(**data.get("limits", {})),
        "tls": TLS(**data.get("tls", {})),
    }
    return FetchConfig(**{**data, **nested})
