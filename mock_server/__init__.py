"""A local API server with injected latency and faults, for measuring HTTP clients.

    launch(latency="100ms")   one in a child process for a `with` block (MockServer, LaunchError);
                              launch(tls=True) serves HTTPS, trusted by MockServer.ca_path
    Behaviour, ParamError     what it injects, and the error a bad setting raises
    create_app(behaviour)     the aiohttp application itself, to serve in your own loop

Importing this package loads no aiohttp: `create_app` imports the server on first use, so a
client that only launches the server (in a child process) never pays for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mock_server.behaviour import Behaviour
from mock_server.launch import LaunchError, MockServer, launch
from mock_server.params import ParamError

if TYPE_CHECKING:
    from mock_server.app import create_app

__all__ = ["Behaviour", "LaunchError", "MockServer", "ParamError", "create_app", "launch"]


def __getattr__(name: str) -> Any:
    """`create_app`, imported (with aiohttp) only when it is first asked for."""
    if name == "create_app":
        from mock_server.app import create_app

        return create_app
    raise AttributeError(f"module 'mock_server' has no attribute {name!r}")
