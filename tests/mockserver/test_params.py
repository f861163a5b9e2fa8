"""The mock server's parsers: every flag and query value, read or refused with a reason."""

from __future__ import annotations

import pytest

from mock_server.params import (
    MAX_DELAY_MS,
    CapExceeded,
    ParamError,
    parse_count,
    parse_duration_ms,
    parse_faults,
    parse_fraction,
    parse_rate_limit,
    parse_weighted_codes,
)


@pytest.mark.parametrize(
    ("text", "expected_ms"),
    [("100ms", 100.0), ("1.5s", 1500.0), ("250", 250.0), (" 20 ms ", 20.0), (".5s", 500.0)],
)
def test_durations_read_ms_seconds_and_bare_numbers(text: str, expected_ms: float) -> None:
    """Durations are written 100ms, 1.5s or a bare number of milliseconds."""
    assert parse_duration_ms(text) == expected_ms


@pytest.mark.parametrize("text", ["", "abc", "-5ms", "10m", "1h", "1e3", "nan", "٣ms"])
def test_malformed_durations_say_how_to_write_one(text: str) -> None:
    """A duration that is not a plain number with ms or s is refused with an example."""
    with pytest.raises(ParamError, match=r"write 100ms, 1\.5s"):
        parse_duration_ms(text, name="latency")


def test_a_duration_over_the_cap_names_the_cap() -> None:
    """An hour of latency is refused, and the error carries the cap and its unit."""
    with pytest.raises(CapExceeded, match=f"cap of {MAX_DELAY_MS:g} ms") as caught:
        parse_duration_ms("3600s", name="latency")
    assert (caught.value.cap, caught.value.unit) == (MAX_DELAY_MS, "ms")


def test_counts_are_whole_ascii_numbers_up_to_their_cap() -> None:
    """Counts accept 0..cap and refuse signs, other digits, and anything longer than the cap."""
    assert parse_count("0", name="n", cap=10, unit="x") == 0
    assert parse_count("010", name="n", cap=10, unit="x") == 10
    for bad in ("-1", "1.0", "²", "٣", "", "ten"):
        with pytest.raises(ParamError, match="whole number"):
            parse_count(bad, name="n", cap=10, unit="x")
    for over in ("11", "9" * 5000):
        with pytest.raises(CapExceeded, match="over the cap of 10 x"):
            parse_count(over, name="n", cap=10, unit="x")


def test_fractions_must_lie_between_0_and_1() -> None:
    """Rates are probabilities: 0..1, and nan or words are refused."""
    assert parse_fraction("0.05", name="error-rate") == 0.05
    for bad in ("1.5", "-0.1", "nan", "lots"):
        with pytest.raises(ParamError, match="error-rate"):
            parse_fraction(bad, name="error-rate")


def test_rate_limits_are_non_negative_and_capped() -> None:
    """Rate limits are requests per second: 0 means none, negatives refused, huge ones capped."""
    assert parse_rate_limit("200") == 200.0
    assert parse_rate_limit("0") == 0.0
    for bad in ("-1", "inf", "fast"):
        with pytest.raises(ParamError, match="rate-limit"):
            parse_rate_limit(bad)
    with pytest.raises(CapExceeded, match="cap"):
        parse_rate_limit("1e9")


def test_faults_parse_into_kind_rate_pairs() -> None:
    """`reset=0.01,hang=0.02` becomes pairs; blanks between commas are ignored."""
    assert parse_faults("reset=0.01, hang=0.02,") == (("reset", 0.01), ("hang", 0.02))
    assert parse_faults("") == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("boom=0.1", "KIND one of reset, empty, hang, slow, malformed"),
        ("reset", "write KIND=RATE"),
        ("reset=2", "between 0 and 1"),
        ("reset=0.6,hang=0.6", "add up to more than 1"),
    ],
)
def test_malformed_faults_are_refused_with_a_reason(text: str, message: str) -> None:
    """Unknown kinds, missing rates, rates over 1 and totals over 1 are each explained."""
    with pytest.raises(ParamError, match=message):
        parse_faults(text)


def test_weighted_codes_parse_with_default_weights() -> None:
    """`200:0.9,503:0.1` keeps its weights; bare codes weigh 1."""
    assert parse_weighted_codes("200:0.9,503:0.1") == ((200, 0.9), (503, 0.1))
    assert parse_weighted_codes("200,404") == ((200, 1.0), (404, 1.0))


@pytest.mark.parametrize("text", ["abc", "99", "600", "100", "200:-1", "200:nan", "200:0", ""])
def test_malformed_weighted_codes_are_refused(text: str) -> None:
    """Codes outside 200-599, negative or nan weights, and all-zero weights are refused."""
    with pytest.raises(ParamError, match="status"):
        parse_weighted_codes(text)
