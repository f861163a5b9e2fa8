"""Unit tests for mock_server.faults: the parsers, the seeded distributions, faults and limits."""

from __future__ import annotations

import random
import statistics

import pytest

from mock_server.faults import (
    ERROR_STATUSES,
    MAX_BYTES,
    MAX_DELAY_MS,
    Behaviour,
    CapExceeded,
    ParamError,
    TokenBucket,
    choose_fault,
    parse_count,
    parse_duration_ms,
    parse_faults,
    parse_fraction,
    parse_rate_limit,
    parse_weighted_codes,
    sample_latency_ms,
)

DRAWS = 4_000


def draws(behaviour: Behaviour, seed: int = 7, n: int = DRAWS) -> list[float]:
    """`n` latencies drawn with a generator seeded with `seed`."""
    rng = random.Random(seed)
    return [sample_latency_ms(rng, behaviour) for _ in range(n)]


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


def test_behaviour_refuses_an_unknown_distribution_and_rates_over_1() -> None:
    """A Behaviour is valid or not made at all."""
    with pytest.raises(ParamError, match="use one of fixed, uniform"):
        Behaviour(distribution="zipf")
    with pytest.raises(ParamError, match="add up to more than 1"):
        Behaviour(error_rate=0.6, faults=(("reset", 0.6),))


def test_behaviour_is_inert_only_with_nothing_to_inject() -> None:
    """The fast path is taken only when there is no latency, jitter, error, limit or fault."""
    assert Behaviour().inert
    assert Behaviour(faults=(("reset", 0.0),)).inert
    for busy in (
        Behaviour(latency_ms=1),
        Behaviour(jitter_ms=1),
        Behaviour(error_rate=0.1),
        Behaviour(rate_limit=5),
        Behaviour(faults=(("hang", 0.1),)),
    ):
        assert not busy.inert


def test_query_parameters_override_their_namesakes() -> None:
    """`?latency=20ms&error_rate=0.5` overrides those two fields and leaves the rest."""
    base = Behaviour(latency_ms=100, jitter_ms=5, distribution="normal")
    changed = base.with_query({"latency": "20ms", "error_rate": "0.5", "other": "x"})
    assert changed == Behaviour(latency_ms=20, jitter_ms=5, distribution="normal", error_rate=0.5)
    assert base.with_query({"unrelated": "1"}) is base


def test_a_malformed_query_override_raises_param_error() -> None:
    """A bad override is a ParamError (the server's 400), not some other exception."""
    for query in ({"distribution": "zipf"}, {"faults": "reset=1"}, {"jitter": "lots"}):
        with pytest.raises(ParamError):
            Behaviour(error_rate=0.5).with_query(query)


@pytest.mark.parametrize("distribution", ["fixed", "uniform", "normal", "lognormal", "exponential"])
def test_seeded_draws_are_reproducible(distribution: str) -> None:
    """The same seed gives the same latencies, another seed other ones (except fixed)."""
    behaviour = Behaviour(latency_ms=100, jitter_ms=20, distribution=distribution)
    assert draws(behaviour, seed=3, n=50) == draws(behaviour, seed=3, n=50)
    if distribution != "fixed":
        assert draws(behaviour, seed=3, n=50) != draws(behaviour, seed=4, n=50)


@pytest.mark.parametrize(
    ("distribution", "expected_sd"),
    [("uniform", 20 / 3**0.5), ("normal", 20.0), ("lognormal", 20.0), ("exponential", 100.0)],
)
def test_draws_have_the_asked_mean_and_spread(distribution: str, expected_sd: float) -> None:
    """Mean 100 ms with jitter 20 ms: the draws' mean and spread match, within generous bounds."""
    values = draws(Behaviour(latency_ms=100, jitter_ms=20, distribution=distribution))
    assert statistics.fmean(values) == pytest.approx(100, rel=0.08)
    assert statistics.stdev(values) == pytest.approx(expected_sd, rel=0.15)


def test_uniform_draws_stay_within_plus_or_minus_the_jitter() -> None:
    """Uniform jitter is +/-: no draw falls outside [latency - jitter, latency + jitter]."""
    values = draws(Behaviour(latency_ms=100, jitter_ms=20, distribution="uniform"))
    assert 80 <= min(values) < 85 and 115 < max(values) <= 120


def test_fixed_ignores_jitter_and_draws_never_go_below_zero_or_over_the_cap() -> None:
    """Fixed is exact; a wide normal is clipped at 0; a huge mean is clipped at the cap."""
    assert set(draws(Behaviour(latency_ms=50, jitter_ms=30, distribution="fixed"), n=20)) == {50}
    wide = draws(Behaviour(latency_ms=10, jitter_ms=100, distribution="normal"))
    assert min(wide) == 0.0 and max(wide) > 0
    huge = draws(Behaviour(latency_ms=MAX_DELAY_MS, distribution="exponential"))
    assert max(huge) == MAX_DELAY_MS


def test_no_latency_draws_zero_without_touching_the_generator() -> None:
    """With nothing asked for, the draw is 0 and the seeded sequence is not consumed."""
    rng = random.Random(1)
    assert sample_latency_ms(rng, Behaviour()) == 0.0
    assert rng.random() == random.Random(1).random()


def test_faults_are_chosen_at_their_rates() -> None:
    """Over many seeded draws, each fault and the error come up about as often as asked."""
    behaviour = Behaviour(error_rate=0.1, faults=(("reset", 0.2), ("slow", 0.3)))
    rng = random.Random(5)
    picks = [choose_fault(rng, behaviour) for _ in range(DRAWS)]
    for kind, rate in (("error", 0.1), ("reset", 0.2), ("slow", 0.3), (None, 0.4)):
        assert picks.count(kind) / DRAWS == pytest.approx(rate, abs=0.04)


def test_token_bucket_allows_a_burst_then_says_when_to_come_back() -> None:
    """Rate 2/s: two requests pass at once, the third waits about half a second."""
    now = [0.0]
    bucket = TokenBucket(2, clock=lambda: now[0])
    assert [bucket.take(), bucket.take()] == [0.0, 0.0]
    assert bucket.take() == pytest.approx(0.5)
    now[0] = 0.5
    assert bucket.take() == 0.0


def test_token_bucket_under_one_per_second_still_lets_requests_through() -> None:
    """A limit of 0.5/s allows one request, then one every two seconds."""
    now = [0.0]
    bucket = TokenBucket(0.5, clock=lambda: now[0])
    assert bucket.take() == 0.0
    assert bucket.take() == pytest.approx(2.0)
    now[0] = 2.0
    assert bucket.take() == 0.0


def test_the_caps_are_what_the_issue_asks_for() -> None:
    """A 10 GB body or a 1-hour delay is over the caps; the error statuses are 500/502/503."""
    assert MAX_BYTES < 10 * 1024**3
    assert MAX_DELAY_MS < 3_600_000
    assert ERROR_STATUSES == (500, 502, 503)
