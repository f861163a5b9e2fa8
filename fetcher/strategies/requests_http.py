"""One request with requests, as the sequential, threads and processes strategies make it."""

from __future__ import annotations

import ssl
import warnings
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter

from fetcher.config import FetchConfig
from fetcher.models import FetchResult
from fetcher.policy import retry
from fetcher.policy.classify import BodyTooLargeError
from fetcher.policy.limits import Throttle
from fetcher.policy.tls import client_context
from fetcher.strategies import cpu
from fetcher.strategies.base import Job, clock

CHUNK_BYTES = 64 * 1024


class SharedContextAdapter(HTTPAdapter):
    """An adapter whose connections all use one SSL context, the trusted certificates included.

    Without it urllib3 builds a context for every new connection; and requests, told to verify,
    sets certifi's bundle on each connection, which urllib3 would load into our context again.
    """

    def __init__(self, tls: ssl.SSLContext, pool_size: int) -> None:
        self.tls = tls
        # max_retries=0: our retry policy must be the only one, so attempts count what servers saw.
        super().__init__(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """The pool manager, handing our context to every connection pool it makes."""
        super().init_poolmanager(*args, ssl_context=self.tls, **kwargs)

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        """Leave whom to trust to our context (urllib3 sets its verify mode from cert_reqs)."""
        conn.cert_reqs = "CERT_NONE" if self.tls.verify_mode == ssl.CERT_NONE else "CERT_REQUIRED"
        conn.ca_certs = conn.ca_cert_dir = None


def new_session(
    config: FetchConfig, pool_size: int = 1, tls: ssl.SSLContext | None = None
) -> requests.Session:
    """A Session that keeps `pool_size` connections alive per host and never retries by itself.

    Pass the run's `tls` context when making several sessions: building one costs milliseconds.
    """
    tls = tls or client_context(config.tls)
    session = requests.Session()
    # Proxy settings from the environment are looked up on every request; we do not use them.
    session.trust_env = False
    session.max_redirects = config.max_redirects
    if not config.keepalive:
        session.headers["Connection"] = "close"
    if tls.verify_mode == ssl.CERT_NONE:
        # Asked for (the command line says so once); urllib3 would warn on every request.
        warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)
    adapter = SharedContextAdapter(tls, pool_size)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def fetch_one(
    session: requests.Session, job: Job, config: FetchConfig, throttle: Throttle
) -> FetchResult:
    """GET one URL, retried as the policy says; a failure is returned as a result, never raised."""
    try:
        status, body = retry.call(
            config.retries, lambda: get(session, job.url, config, throttle), job
        )
    except retry.RetryableStatus as answer:  # still "later" on the last try: a result like any
        return job.answered(answer.status, answer.nbytes)
    except Exception as exc:
        return job.failed(exc)
    cpu.work(body, config.cpu_ms)
    return job.answered(status, len(body), body if config.keep_body else None)


def get(
    session: requests.Session, url: str, config: FetchConfig, throttle: Throttle
) -> tuple[int, bytes]:
    """One attempt: (status, body), or RetryableStatus for an answer the policy retries."""
    timeouts = config.timeouts
    with throttle.slot(url):
        # requests has no total timeout: connect and read bound each step, and read_body
        # enforces the total while the body arrives.
        deadline = clock() + timeouts.total_s
        with session.get(
            url, timeout=(timeouts.connect_s, timeouts.read_s), stream=True
        ) as response:
            body = read_body(response, config, deadline)
    retry.check_status(config.retries, response.status_code, len(body), response.headers)
    return response.status_code, body


def read_body(response: requests.Response, config: FetchConfig, deadline: float) -> bytes:
    """The body, refused as soon as it is known to be over the cap or past the deadline."""
    limit = config.max_body_bytes
    declared = response.headers.get("Content-Length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLargeError(limit)
    chunks: list[bytes] = []
    size = 0
    # read1 returns what has arrived, where iter_content would wait for a full chunk, so the
    # deadline is checked as the body trickles in: it trips at most a read timeout late.
    while chunk := response.raw.read1(CHUNK_BYTES, decode_content=True):
        size += len(chunk)
        if size > limit:
            raise BodyTooLargeError(limit)
        if clock() > deadline:
            raise TimeoutError(f"total timeout of {config.timeouts.total_s:g} s exceeded")
        chunks.append(chunk)
    return b"".join(chunks)
