"""The settings: portable across processes, and refusing what cannot work."""

from __future__ import annotations

from fetcher import FetchConfig
from fetcher.config import Limits, Retries, config_from_dict, config_to_dict


def test_config_round_trips_through_dicts() -> None:
    """Retries and Limits survive config_to_dict -> JSON-ready dict -> config_from_dict."""
    config = FetchConfig(
        retries=Retries(attempts=5, statuses=(429,), jitter=False),
        limits=Limits(rate_per_s=12.5, per_host=3),
    )
    assert config_from_dict(config_to_dict(config)) == config
