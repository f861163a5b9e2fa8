"""What a fetch produces: one `FetchResult` per input URL, with failures as an `ErrorKind`, handed
to an `OnResult` callback as each completes."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class ErrorKind(str, enum.Enum):
    """Why a request failed, the same for requests, aiohttp and httpx so strategies compare."""

    CONNECT_TIMEOUT = "connect_timeout"
    READ_TIMEOUT = "read_timeout"
    TIMEOUT = "timeout"
    CONNECTION_REFUSED = "connection_refused"
    CONNECTION_RESET = "connection_reset"
    DISCONNECTED = "disconnected"
    DNS = "dns"
    # The server's certificate was refused (unknown CA, wrong host name, expired): a setting
    # to fix (--ca-bundle), not a failure to retry.
    TLS_CERTIFICATE = "tls_certificate"
    # Any other TLS failure, e.g. https:// to a port that speaks plain HTTP.
    TLS_ERROR = "tls_error"
    CONNECTION = "connection"
    HTTP_STATUS = "http_status"
    INVALID_RESPONSE = "invalid_response"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    BODY_TOO_LARGE = "body_too_large"
    CANCELLED = "cancelled"
    WORKER_DIED = "worker_died"
    OTHER = "other"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class FetchResult:
    """The outcome of fetching one URL; times are seconds since the batch started."""

    index: int
    url: str
    status: int | None
    nbytes: int
    started_s: float
    ended_s: float
    worker: str
    error: ErrorKind | None = None
    detail: str | None = None
    attempts: int = 1
    # Kept only with FetchConfig(keep_body=True): a batch of 100,000 must not hold its bodies.
    body: bytes | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        """True when the request got a response below 400."""
        return self.error is None

    @property
    def elapsed_s(self) -> float:
        """How long the request took, retries included."""
        return self.ended_s - self.started_s

    def to_json(self) -> dict[str, Any]:
        """The JSON-lines record `fetcher fetch --out` writes."""
        return {
            "index": self.index,
            "url": self.url,
            "status": self.status,
            "nbytes": self.nbytes,
            "started_ms": round(self.started_s * 1000, 3),
            "elapsed_ms": round(self.elapsed_s * 1000, 3),
            "worker": self.worker,
            "error": None if self.error is None else self.error.value,
            "detail": self.detail,
            "attempts": self.attempts,
        }

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> FetchResult:
        """Read back a record written by `to_json`."""
        started_s = record["started_ms"] / 1000
        error = record.get("error")
        return cls(
            index=record["index"],
            url=record["url"],
            status=record["status"],
            nbytes=record["nbytes"],
            started_s=started_s,
            ended_s=started_s + record["elapsed_ms"] / 1000,
            worker=record["worker"],
            error=None if error is None else ErrorKind(error),
            detail=record.get("detail"),
            attempts=record.get("attempts", 1),
        )


# What receives each result as it completes (`fetch_all(on_result=...)`, every strategy's `run`).
OnResult = Callable[[FetchResult], None]
