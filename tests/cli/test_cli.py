"""The command line's shape: commands listed, heavy imports deferred."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fetcher.cli.main import COMMANDS, build_parser
from tests.conftest import run_fetcher

HEAVY = ("aiohttp", "httpx", "requests", "rich", "psutil", "hdrh", "matplotlib", "vl_convert")


def test_help_lists_every_command() -> None:
    """`fetcher --help` names each command."""
    text = build_parser().format_help()
    assert all(name in text for name in COMMANDS)


def test_building_any_parser_imports_no_heavy_library() -> None:
    """Parsing arguments loads no HTTP client or renderer, so `fetcher --help` answers at once."""
    code = (
        "import sys\nfrom fetcher.cli.main import COMMANDS, build_parser\n"
        "for name in COMMANDS: build_parser(name)\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_unknown_command_exits_2() -> None:
    """A command that does not exist is a usage error."""
    done = run_fetcher("fetchh")
    assert done.returncode == 2
    assert "invalid choice: 'fetchh'" in done.stderr


@pytest.mark.parametrize("argv", [["--help"], ["fetch", "--help"], ["load", "--help"]])
def test_help_lists_the_exit_statuses(argv: list[str]) -> None:
    """`--help` of fetcher and of its commands ends with the table of exit statuses."""
    done = run_fetcher(*argv)
    assert done.returncode == 0
    for status in ("0 ", "1 ", "2 ", "129 ", "130 ", "143 ", "141 "):
        assert f"\n  {status}" in done.stdout.split("exit status:")[1]
