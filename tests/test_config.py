"""The settings: portable across processes, and refusing what cannot work."""

from __future__ import annotations

import json

import pytest

from fetcher import FetchConfig
from fetcher.config import TLS, Limits, Retries, config_from_dict, config_to_dict


def test_config_round_trips_through_dicts() -> None:
    """Retries, Limits and TLS survive config_to_dict -> JSON -> config_from_dict, as they do
    on their way to a worker process."""
    config = FetchConfig(
        retries=Retries(attempts=5, statuses=(429,), jitter=False),
        limits=Limits(rate_per_s=12.5, per_host=3),
        tls=TLS(ca_bundle="/tmp/ca.pem"),
        keepalive=False,
    )
    assert config_from_dict(json.loads(json.dumps(config_to_dict(config)))) == config


def test_a_ca_bundle_without_verification_is_refused() -> None:
    """verify=False would silently ignore the bundle, so the pair is refused."""
    with pytest.raises(ValueError, match="give one or the other"):
        TLS(ca_bundle="/tmp/ca.pem", verify=False)
