"""The strategy registry: every module keeps the interface its traits promise."""

from __future__ import annotations

import pytest

from fetcher.strategies import STRATEGIES, get_async_strategy, get_strategy
from tests.conftest import ALL_STRATEGIES


@pytest.mark.parametrize("strategy", ALL_STRATEGIES)
def test_each_module_runs_and_is_async_exactly_when_its_traits_say(strategy: str) -> None:
    """`run` everywhere; `run_async` on the asynchronous ones, and afetch_all refuses the rest."""
    traits = STRATEGIES[strategy]
    module = get_strategy(strategy)
    assert callable(module.run)
    assert hasattr(module, "run_async") == traits.asynchronous
    if traits.asynchronous:
        assert get_async_strategy(strategy) is module
    else:
        with pytest.raises(ValueError, match="afetch_all runs"):
            get_async_strategy(strategy)


def test_an_unknown_strategy_names_the_choices() -> None:
    """A typo in a strategy name lists the real ones."""
    with pytest.raises(ValueError, match="choose from sequential, threads"):
        get_strategy("thread")
