"""HTTPS with every strategy against the TLS mock server: verified against the run's CA bundle,
refused without it, and one handshake per connection the strategy should open."""

from __future__ import annotations

import warnings
from collections import Counter

import pytest
import urllib3

from fetcher import ErrorKind, FetchConfig
from fetcher.config import TLS, Retries
from fetcher.strategies import STRATEGIES
from mock_server import MockServer
from tests.conftest import ALL_STRATEGIES, assert_one_per_url, fetch

NO_RETRIES = Retries(attempts=1)
# One strategy per HTTP client, for what depends on the client alone.
BY_CLIENT = {traits.client: traits.name for traits in reversed(STRATEGIES.values())}


def https(server: MockServer, tls: TLS, **settings: object) -> FetchConfig:
    """A config for the TLS server: no retries, small pools, and the given trust."""
    values = {"retries": NO_RETRIES, "concurrency": 4, "processes": 2, "tls": tls, **settings}
    return FetchConfig(**values)  # type: ignore[arg-type]


def handshakes(server: MockServer, strategy: str, urls: list[str], config: FetchConfig) -> int:
    """Fetch `urls` (all must succeed) and return the full handshakes the server counted."""
    server.reset_stats()
    results = fetch(strategy, urls, config)
    assert_one_per_url(results, urls)
    assert [r.error for r in results] == [None] * len(urls)
    stats = server.stats()
    assert stats["tls_handshakes"] == stats["connections"]
    return int(stats["tls_handshakes"])


@pytest.mark.parametrize("strategy", ALL_STRATEGIES)
def test_each_worker_opens_one_connection_and_pays_one_handshake(
    tls_server: MockServer, strategy: str
) -> None:
    """With every worker busy at once, the server counts one handshake per request the traits
    allow in flight, one per worker seen in the results: asyncio-aiohttp with C tasks opens C
    connections and reuses them, not one per request."""
    config = https(tls_server, TLS(ca_bundle=tls_server.ca_path))
    in_flight = STRATEGIES[strategy].in_flight(config)
    urls = [tls_server.url_for(f"/items/{i}?latency=100ms") for i in range(2 * in_flight)]
    tls_server.reset_stats()
    results = fetch(strategy, urls, config)
    assert Counter(r.error for r in results) == {None: len(urls)}
    stats = tls_server.stats()
    assert stats["tls_handshakes"] == stats["connections"] == in_flight
    assert len({r.worker for r in results}) == in_flight


@pytest.mark.parametrize("strategy", ALL_STRATEGIES)
def test_without_keepalive_every_request_pays_a_handshake(
    tls_server: MockServer, strategy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """keepalive=False opens a connection per request: the naive pattern whose cost compare shows.
    The CA bundle comes from SSL_CERT_FILE here, which every strategy's processes honour."""
    assert tls_server.ca_path is not None
    monkeypatch.setenv("SSL_CERT_FILE", tls_server.ca_path)
    urls = [tls_server.url_for(f"/items/{i}") for i in range(8)]
    assert handshakes(tls_server, strategy, urls, https(tls_server, TLS(), keepalive=False)) == 8


@pytest.mark.parametrize("strategy", ALL_STRATEGIES)
def test_without_the_ca_bundle_every_url_is_a_tls_certificate_error(
    tls_server: MockServer, strategy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Trusting certifi's bundle only, no strategy accepts the test CA's certificate: each URL is
    one `tls_certificate` result with a one-line reason, tried once, and no request got through."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    urls = [tls_server.url_for(f"/items/{i}") for i in range(6)]
    config = https(tls_server, TLS(), retries=Retries(attempts=3, backoff_initial_s=0))
    tls_server.reset_stats()
    results = fetch(strategy, urls, config)
    assert_one_per_url(results, urls)
    assert {r.error for r in results} == {ErrorKind.TLS_CERTIFICATE}
    assert {r.attempts for r in results} == {1}  # a certificate does not change on a second try
    assert {r.detail for r in results} == {
        "TLS: certificate verify failed: unable to get local issuer certificate"
    }
    assert tls_server.stats()["requests"] == 0


@pytest.mark.parametrize("strategy", sorted(BY_CLIENT.values()))
def test_insecure_accepts_any_certificate_without_a_warning_per_request(
    tls_server: MockServer, strategy: str
) -> None:
    """verify=False fetches from a server nobody vouches for, and urllib3's warning on every
    request stays quiet (the command line prints its own, once)."""
    urls = [tls_server.url_for(f"/items/{i}") for i in range(3)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = fetch(strategy, urls, https(tls_server, TLS(verify=False)))
    assert [r.error for r in results] == [None] * 3
    assert not [w for w in caught if issubclass(w.category, urllib3.exceptions.HTTPWarning)]


@pytest.mark.parametrize("strategy", sorted(BY_CLIENT.values()))
def test_https_to_a_plain_port_is_a_tls_error(server: MockServer, strategy: str) -> None:
    """Speaking TLS to a server that answers plain HTTP fails as `tls_error`, in one line."""
    url = server.url_for("/items/1").replace("http://", "https://")
    results = fetch(strategy, [url], FetchConfig(retries=NO_RETRIES, concurrency=1, processes=1))
    assert [(r.error, r.detail) for r in results] == [
        (ErrorKind.TLS_ERROR, "TLS: wrong version number")
    ]


@pytest.mark.parametrize("strategy", sorted(BY_CLIENT.values()))
def test_a_connection_dropped_over_tls_is_not_a_tls_fault(
    tls_server: MockServer, strategy: str
) -> None:
    """An injected reset over TLS stays a dropped connection, which the policy retries: an
    ssl error in the chain (anyio leaves one there) does not make it a TLS failure."""
    urls = [tls_server.url_for(f"/items/{i}?faults=reset=1") for i in range(2)]
    results = fetch(strategy, urls, https(tls_server, TLS(ca_bundle=tls_server.ca_path)))
    # requests reads a reset under TLS as the end of the stream (ssl's ragged-EOF rule).
    assert {r.error for r in results} <= {ErrorKind.CONNECTION_RESET, ErrorKind.DISCONNECTED}
