"""The asyncio-httpx strategy's handling of httpx's own exceptions, driven through respx.

These failures (a connect timeout, a pool timeout) cannot be provoked reliably over loopback,
so respx stands in for the network: the test is about how we use the httpx client itself.
"""

from __future__ import annotations

import httpx
import pytest
import respx

from fetcher import ErrorKind, FetchConfig, FetchResult
from fetcher.strategies import asyncio_httpx

URL = "http://api.test/items/1"


async def fetch(config: FetchConfig | None = None) -> FetchResult:
    """One request through the strategy, on its own client."""
    results: list[FetchResult] = []
    await asyncio_httpx.run_async([URL], config or FetchConfig(concurrency=1), results.append)
    assert len(results) == 1
    return results[0]


@pytest.mark.parametrize(
    ("exception", "kind"),
    [
        (httpx.ConnectTimeout("connect timed out"), ErrorKind.CONNECT_TIMEOUT),
        (httpx.ReadTimeout("read timed out"), ErrorKind.READ_TIMEOUT),
        (httpx.PoolTimeout("no connection free"), ErrorKind.TIMEOUT),
        (httpx.ConnectError("connection failed"), ErrorKind.CONNECTION),
        (httpx.RemoteProtocolError("illegal chunk header"), ErrorKind.INVALID_RESPONSE),
    ],
)
async def test_httpx_exceptions_become_error_kinds(exception: Exception, kind: ErrorKind) -> None:
    """Each httpx failure becomes the shared ErrorKind, with the exception in the detail."""
    with respx.mock:
        respx.get(URL).mock(side_effect=exception)
        result = await fetch()
    assert result.error is kind
    assert result.detail is not None and type(exception).__name__ in result.detail


async def test_a_declared_body_over_the_cap_is_refused_unread() -> None:
    """A Content-Length over max_body_bytes fails before the body is read."""
    with respx.mock:
        respx.get(URL).mock(return_value=httpx.Response(200, content=b"x" * 2048))
        result = await fetch(FetchConfig(concurrency=1, max_body_bytes=1024))
    assert result.error is ErrorKind.BODY_TOO_LARGE


async def test_the_client_pool_is_sized_to_the_concurrency() -> None:
    """httpx's default of 20 kept-alive connections is raised to the concurrency."""
    async with asyncio_httpx.open_client(FetchConfig(concurrency=250)) as client:
        pool = client._transport._pool  # type: ignore[attr-defined]
        assert pool._max_connections == 250
        assert pool._max_keepalive_connections == 250
