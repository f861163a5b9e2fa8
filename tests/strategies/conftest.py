"""The dask strategy's shared tests run on one LocalCluster of two worker processes, started
once for the session (a cluster takes seconds to start) and reached through
$DASK_SCHEDULER_ADDRESS, as a user's would be."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fetcher.strategies import STRATEGIES
from tests.conftest import dask_cluster


@pytest.fixture(scope="session")
def shared_scheduler() -> Iterator[str]:
    """The address of a LocalCluster of two single-threaded worker processes."""
    with dask_cluster(workers=2) as address:
        yield address


# Tests that set the environment the workers read (SSL_CERT_FILE): a worker has its own, so these
# start a LocalCluster of their own, after the change, as a run without a scheduler does.
OWN_CLUSTER = {"test_without_keepalive_every_request_pays_a_handshake"}


@pytest.fixture(autouse=True)
def _dask_on_the_shared_cluster(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A test of the dask strategy runs it on the shared cluster."""
    callspec = getattr(request.node, "callspec", None)
    name = callspec.params.get("strategy") if callspec is not None else None
    if name not in STRATEGIES or not STRATEGIES[name].cluster:
        return
    if request.node.originalname not in OWN_CLUSTER:
        address = request.getfixturevalue("shared_scheduler")
        monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", address)
