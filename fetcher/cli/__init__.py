"""The `fetcher` command line: `main` (the console script's entry point) and a module per command.

main      the parser and the dispatch; exit statuses come from `exits`
args      flag types and option groups the commands share; batch: compare's and sweep's batch
compare, fetch, gil, load, sweep    one command each: `add_arguments(parser)` and `run(args)`
"""

from __future__ import annotations

from fetcher.cli.main import main

__all__ = ["main"]
