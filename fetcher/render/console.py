"""Where output goes: stdout for results, stderr for progress and messages, and progress bars."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import rich.console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from fetcher.models import FetchResult

# Piped or redirected output has no width of its own; a wide one keeps the table on one line.
PIPED_WIDTH = 160


class Console(rich.console.Console):
    """rich's Console, but when the reader of its output goes away it raises BrokenPipeError,
    as `print` does, instead of exiting 1 (rich's default, which would read as a failed run):
    `fetcher.cli.main` ends every command on it quietly, with 141."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError(errno.EPIPE, "the reader of the output went away")


def stdout_console() -> Console:
    """Where results go; a pipe gets PIPED_WIDTH unless COLUMNS says otherwise."""
    console = Console()
    if console.is_terminal or "COLUMNS" in os.environ:
        return console
    return Console(width=PIPED_WIDTH)


def stderr_console() -> Console:
    """Where progress and messages go, so stdout stays for data. A message to a pipe or a log
    stays on its one line: rich would wrap it at 80 columns there."""
    console = Console(stderr=True)
    return console if console.is_terminal else Console(stderr=True, soft_wrap=True)


@dataclass
class ProgressHooks:
    """Callbacks that move a progress bar; they do nothing when progress is off."""

    progress: Progress | None
    task: TaskID | None = None

    def start(self, label: str, total: int) -> None:
        """Begin a new bar (the previous one stays on screen, finished)."""
        if self.progress is not None:
            self.task = self.progress.add_task(label, total=total)

    def advance(self, _result: FetchResult | None = None) -> None:
        """One more result."""
        if self.progress is not None and self.task is not None:
            self.progress.advance(self.task)


@contextmanager
def progress_bars(quiet: bool = False) -> Iterator[ProgressHooks]:
    """Live bars on stderr, or none when stderr is not a terminal or `quiet` is set."""
    console = stderr_console()
    if quiet or not console.is_terminal:
        yield ProgressHooks(None)
        return
    columns = (
        TextColumn("{task.description:<16}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        yield ProgressHooks(progress)
