"""How to fetch: timeouts, concurrency and limits, as frozen values with DEFAULT_* constants."""

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
class FetchConfig:
    """Everything a strategy needs to know besides the URLs."""

    concurrency: int = DEFAULT_CONCURRENCY
    processes: int = field(default_factory=lambda: os.cpu_count() or 1)
    timeouts: Timeouts = field(default_factory=Timeouts)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_redirects: int = DEFAULT_MAX_REDIRECTS
    keep_body: bool = False
    # Pure-Python work done on each response, to turn an I/O-bound batch CPU-bound (fetcher.cpu).
    cpu_ms: float = 0.0

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
    return FetchConfig(**{**data, "timeouts": Timeouts(**data["timeouts"])})
