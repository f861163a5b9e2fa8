"""Injected behaviour: seeded latency draws, faults at their rates, and the rate limit's bucket."""

from __future__ import annotations

import random
import statistics

import pytest

from mock_server.behaviour import Behaviour, choose_fault, sample_latency_ms
from mock_server.limits import TokenBucket
from mock_server.params import MAX_DELAY_MS, ParamError

DRAWS = 4_000


def draws(behaviour: Behaviour, seed: int = 7, n: int = DRAWS) -> list[float]:
    """`n` latencies drawn with a generator seeded with `seed`."""
    rng = random.Random(seed)
    return [sample_latency_ms(rng, behaviour) for _ in range(n)]


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
