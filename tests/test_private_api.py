"""The private aiohttp API fetcher bets on: each test fails by name if a release removes it.

What breaks without each is written beside its use (and in docs/production-loop.md); the fault
tests catch the behaviour too (`attempts` must equal the requests the server counted).
"""

from __future__ import annotations

import inspect

import aiohttp


async def test_client_session_still_has_retry_connection() -> None:
    """`ClientSession._retry_connection`: switched off so aiohttp never resends a GET unseen."""
    async with aiohttp.ClientSession() as session:
        assert getattr(session, "_retry_connection", None) is True, (
            "aiohttp.ClientSession._retry_connection is gone: fetcher's asyncio-aiohttp strategy "
            "can no longer stop aiohttp's own silent resend of a GET on a dropped keep-alive"
        )


def test_client_session_still_has_request() -> None:
    """`ClientSession._request`: what `session.get` wraps; `fetcher load` calls it directly."""
    request = getattr(aiohttp.ClientSession, "_request", None)
    assert request is not None and inspect.iscoroutinefunction(request), (
        "aiohttp.ClientSession._request is gone: fetcher load's aiohttp client must call "
        "session.get instead"
    )
    assert list(inspect.signature(request).parameters)[:3] == ["self", "method", "str_or_url"]
