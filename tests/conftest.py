"""Shared fixtures: a real mock server in a child process, on 127.0.0.1 and a free port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mock_server import MockServer, launch


@pytest.fixture(scope="session")
def server() -> Iterator[MockServer]:
    """One mock server for the whole session, with no injected behaviour.

    Tests that need latency or faults ask for them per request (`?latency=50ms`); tests that read
    `/stats` use `fresh_server`, since other tests share this one's counters.
    """
    with launch(seed=1) as running:
        yield running


@pytest.fixture
def fresh_server() -> Iterator[MockServer]:
    """A mock server of this test's own, so its `/stats` count only this test's requests."""
    with launch(seed=1) as running:
        yield running
