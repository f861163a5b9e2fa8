"""One request with requests, as the sequential, threads and processes strategies make it."""

from __future__ import annotations

import requests
from requests.adapters import HTTPAdapter

from fetcher import cpu
from fetcher.classify import BodyTooLargeError
from fetcher.config import FetchConfig
from fetcher.models import FetchResult
from fetcher.strategies.base import clock, failed, succeeded

CHUNK_BYTES = 64 * 1024


def new_session(config: FetchConfig, pool_size: int = 1) -> requests.Session:
    """A Session that keeps `pool_size` connections alive per host and never retries by itself."""
    session = requests.Session()
    # Proxy settings from the environment are looked up on every request; we do not use them.
    session.trust_env = False
    session.max_redirects = config.max_redirects
    adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def fetch_one(
    session: requests.Session, index: int, url: str, config: FetchConfig, t0: float, worker: str
) -> FetchResult:
    """GET one URL; a failure is returned as a result, never raised."""
    started_s = clock() - t0
    timeouts = config.timeouts
    try:
        # requests has no total timeout: connect and read bound each step, and read_body
        # enforces the total while the body arrives.
        with session.get(
            url, timeout=(timeouts.connect_s, timeouts.read_s), stream=True
        ) as response:
            body = read_body(response, config, deadline=t0 + started_s + timeouts.total_s)
        cpu.work(body, config.cpu_ms)
        return succeeded(
            index,
            url,
            worker,
            started_s,
            response.status_code,
            len(body),
            t0,
            body if config.keep_body else None,
        )
    except Exception as exc:
        return failed(index, url, worker, started_s, exc, t0)


def read_body(response: requests.Response, config: FetchConfig, deadline: float) -> bytes:
    """The body, refused as soon as it is known to be over the cap or past the deadline."""
    limit = config.max_body_bytes
    declared = response.headers.get("Content-Length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLargeError(limit)
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(CHUNK_BYTES):
        size += len(chunk)
        if size > limit:
            raise BodyTooLargeError(limit)
        if clock() > deadline:
            raise TimeoutError(f"total timeout of {config.timeouts.total_s:g} s exceeded")
        chunks.append(chunk)
    return b"".join(chunks)
