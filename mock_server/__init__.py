"""A local API server with injected latency and faults, for measuring HTTP clients."""

from mock_server.app import create_app
from mock_server.faults import Behaviour, ParamError
from mock_server.launch import LaunchError, MockServer, launch

__all__ = ["Behaviour", "LaunchError", "MockServer", "ParamError", "create_app", "launch"]
