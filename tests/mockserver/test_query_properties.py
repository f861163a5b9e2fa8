"""The mock server on generated query parameters and path values: an answer (a 4xx for what it
cannot use), never a 500 of its own making."""

from __future__ import annotations

from urllib.parse import quote

import requests
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mock_server import MockServer
from mock_server.inject import CONNECTION_FAULTS
from mock_server.params import ParamError, parse_duration_ms, parse_faults

PARAMS = ["latency", "jitter", "distribution", "error-rate", "error_rate", "rate-limit"]
PARAMS += ["faults", "seed", "numbytes", "duration", "chunks", "bogus"]
PATHS = ["/items/{}", "/status/{}", "/bytes/{}", "/delay/{}", "/drip", "/redirect/{}"]
VALUES = st.one_of(
    st.from_regex(r"\A-?[0-9.e]{0,6}(ms|s)?\Z"),
    st.sampled_from(["nan", "inf", "-1", "1e309", "hang=0", "reset=1", "500:1", "0.5", "uniform"]),
    st.text(max_size=16),
)
# How long a request may take: generated values that ask for long waits are left out.
TIMEOUT_S = 10.0
SLOW_MS = 200.0


def quick(value: str) -> bool:
    """False for a value the server would honour by waiting (long latency, hang or slow)."""
    try:
        if parse_duration_ms(value) > SLOW_MS:
            return False
    except ParamError:
        pass
    try:
        return not any(kind in ("hang", "slow") and rate > 0 for kind, rate in parse_faults(value))
    except ParamError:
        return True


def cuts_connection(value: str) -> bool:
    """True for a faults value that asks the server to drop or garble some answers."""
    try:
        return any(kind in CONNECTION_FAULTS and rate > 0 for kind, rate in parse_faults(value))
    except ParamError:
        return False


def made_by_the_server(response: requests.Response) -> bool:
    """True for an answer the server chose (JSON, as every handler and injection answers), false
    for aiohttp's plain-text page for an exception that escaped a handler."""
    return response.headers.get("Content-Type", "").startswith("application/json")


@settings(max_examples=300, deadline=None)
@given(
    path=st.sampled_from(PATHS),
    segment=VALUES,
    query=st.dictionaries(st.sampled_from(PARAMS), VALUES, max_size=3),
)
def test_any_query_gets_an_answer_not_a_crash(
    server: MockServer, path: str, segment: str, query: dict[str, str]
) -> None:
    """Whatever the parameters, the server answers; a 5xx is only ever one it injected."""
    assume(all(quick(value) for value in [segment, *query.values()]))
    url = server.url_for(path.format(quote(segment, safe="") or "1"))
    try:
        response = requests.get(url, params=query, timeout=TIMEOUT_S, allow_redirects=False)
    except requests.Timeout:
        raise
    except requests.RequestException:
        # No answer at all is the server's choice only where the query injected a fault that
        # cuts the connection (reset, empty, malformed).
        assert cuts_connection(query.get("faults", "")), query
        return
    assert response.status_code < 500 or made_by_the_server(response), response.text[:300]
    assert "Traceback" not in response.text
