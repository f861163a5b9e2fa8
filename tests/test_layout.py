"""The house keeps its shape: imports flow one way between rooms, with no cycles, and each
strategy loads only its own HTTP client (so compare's memory and start-up columns are its own).
"""

from __future__ import annotations

import ast
import graphlib
import subprocess
import sys
from pathlib import Path

import pytest

from fetcher.strategies import STRATEGIES
from mock_server import MockServer
from tests.conftest import ALL_STRATEGIES

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("fetcher", "mock_server")
CLIENTS = ("requests", "aiohttp", "httpx")

# Which rooms each room may import from. Data flows one way:
# URLs -> strategy -> results -> summary -> render, and the command line sits on top of it all.
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "policy": {"core"},
    "strategies": {"core", "policy"},
    "load": {"core", "policy"},
    "gil": set(),
    "face": {"core", "strategies"},
    "compare": {"core", "policy", "strategies", "gil"},
    "render": {"core", "compare", "load", "gil"},
    "cli": {"core", "policy", "strategies", "load", "gil", "face", "compare", "render"},
    "mock_server": set(),
}
ALLOWED["cli"].add("mock_server")


def room(module: str) -> str:
    """The room a module lives in."""
    parts = module.split(".")
    if parts[0] == "mock_server":
        return "mock_server"
    if module == "fetcher":
        return "face"
    if module == "fetcher.__main__":
        return "cli"
    if parts[1] in ("policy", "strategies", "load", "gil", "compare", "render", "cli"):
        return parts[1]
    return "core"


def modules() -> dict[str, Path]:
    """Every module of the project's packages, by dotted name."""
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules `name` imports, wherever in the file (type-checking imports too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in known else node.module)
    return {module for module in found if module in known and module != name}


def graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports."""
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def test_no_module_imports_a_room_above_its_own() -> None:
    """Every import goes to the module's own room or one its room may use."""
    wrong = [
        f"{name} ({room(name)}) imports {target} ({room(target)})"
        for name, targets in graph().items()
        for target in targets
        if room(target) != room(name) and room(target) not in ALLOWED[room(name)]
    ]
    assert wrong == []


def test_there_are_no_import_cycles() -> None:
    """No two modules import each other, directly or through others."""
    graphlib.TopologicalSorter(graph()).prepare()  # raises CycleError, naming the cycle


@pytest.mark.parametrize("strategy", ALL_STRATEGIES)
def test_a_strategy_loads_its_own_http_client_and_no_other(
    server: MockServer, strategy: str
) -> None:
    """Run in a fresh interpreter, a strategy leaves every other client out of sys.modules."""
    code = (
        "import sys\n"
        "from fetcher import FetchConfig\n"
        "from fetcher.strategies import get_strategy\n"
        f"get_strategy({strategy!r}).run([{server.url_for('/items/1')!r}], "
        "FetchConfig(processes=1), lambda result: None)\n"
        f"print(','.join(m for m in {CLIENTS!r} if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip().split(",") == [STRATEGIES[strategy].client]
