"""The `fetcher` command line: a thin layer that parses, calls the library and renders.

Each command lives in `fetcher.cli.NAME`, with `add_arguments(parser)` and `run(args)`.
Only the chosen command's module is imported, and those modules import heavy libraries inside
`run`, so `fetcher --help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import NoReturn

from fetcher.cli import exits
from fetcher.errors import FetcherError

COMMANDS: dict[str, str] = {
    "compare": "fetch one batch with every strategy and compare the costs",
    "fetch": "fetch a URL list with one strategy, streaming results as JSON lines",
    "gil": "the CPU-bound counterpart: two threads counting under the GIL vs two processes",
    "sweep": "run strategies over a range of workers and show where more stop helping",
    "load": "load-test a URL or the bundled mock server (closed or open model)",
}


class Parser(argparse.ArgumentParser):
    """Bad arguments get one line that names the problem, not the whole usage."""

    def error(self, message: str) -> NoReturn:
        """Print `prog: error: message` and exit 2."""
        self.exit(exits.USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def command_module(name: str) -> ModuleType:
    """The module that implements one command."""
    return importlib.import_module(f"fetcher.cli.{name}")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; only `command`'s own arguments are loaded."""
    parser = Parser(
        prog="fetcher",
        description="Fetch batches of HTTP endpoints concurrently, and see what each way costs.",
        epilog=exits.HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, summary in COMMANDS.items():
        sub = commands.add_parser(
            name,
            help=summary,
            description=summary,
            epilog=exits.HELP,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        if name == command:
            command_module(name).add_arguments(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `fetcher`; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((arg for arg in argv if arg in COMMANDS), None)
    try:
        parser = build_parser(command)
    except KeyboardInterrupt:  # Ctrl-C while the command's module was still loading
        return exits.INTERRUPTED
    args = parser.parse_args(argv)
    exits.stop_on_signals()
    try:
        return int(command_module(args.command).run(args))
    except FetcherError as error:
        print(f"fetcher {args.command}: error: {error}", file=sys.stderr)
        return exits.USAGE
    except KeyboardInterrupt as stop:
        print(f"fetcher {args.command}: interrupted", file=sys.stderr)
        return exits.interrupted(stop)
    except BrokenPipeError:  # the reader of stdout went away (`| head`): stop as Unix tools do
        from fetcher.cli.output import silence_stdout

        silence_stdout()
        return exits.BROKEN_PIPE
