"""`fetcher fetch`'s results writer: JSON lines, written whole and in batches, and its errors.

Lines are gathered and written together (at most `FLUSH_LINES` of them, or what came in
`FLUSH_S`), each batch in one write of whole lines, then flushed: a write per result would cost
a system call per request. A crash loses at most the batch not yet written, and a kill in the
middle of a write leaves at most one line cut short, which `--resume` drops and fetches again.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections import Counter
from typing import BinaryIO

from fetcher.errors import FetcherError
from fetcher.models import FetchResult

FLUSH_LINES = 1000
FLUSH_S = 0.2


class OutputFailed(Exception):
    """A write to the results file failed mid-run (a full disk, an I/O error)."""

    def __init__(self, name: str, error: OSError, written: int) -> None:
        reason = error.strerror or str(error)
        super().__init__(f"cannot write results to {name}: {reason} ({written:,} results written)")


class OutputClosed(Exception):
    """The reader of stdout went away (a closed pipe)."""


def open_results(path: str | None, append: bool = False) -> tuple[BinaryIO, str]:
    """The file to write (stdout for None or '-') and its name; a FetcherError if it cannot be
    opened, before any request is sent."""
    if path in (None, "-"):
        return sys.stdout.buffer, "<stdout>"
    try:
        return open(path, "ab" if append else "wb"), path
    except OSError as error:
        raise FetcherError(
            f"cannot open {path} for the results: {error.strerror or error}"
        ) from None


class ResultsWriter:
    """Writes each result as a JSON line, in batches, and counts outcomes for the summary."""

    def __init__(self, out: BinaryIO, name: str) -> None:
        self.out = out
        self.name = name
        self.count = 0
        self.ok = 0
        self.written = 0
        self.errors: Counter[str] = Counter()
        self._lines: list[bytes] = []
        self._last_flush = time.monotonic()
        self._failure: Exception | None = None

    def add(self, result: FetchResult) -> None:
        """Record one result; raises OutputFailed or OutputClosed when the output is gone."""
        if self._failure is not None:
            raise self._failure
        self._lines.append(json.dumps(result.to_json(), separators=(",", ":")).encode() + b"\n")
        self.count += 1
        if result.ok:
            self.ok += 1
        else:
            self.errors[str(result.error)] += 1
        if len(self._lines) >= FLUSH_LINES or time.monotonic() - self._last_flush >= FLUSH_S:
            self.flush()

    def flush(self) -> None:
        """Write every gathered line, whole, and flush them to the file."""
        if self._failure is not None:
            raise self._failure
        lines, self._lines = self._lines, []
        self._last_flush = time.monotonic()
        if not lines:
            return
        try:
            self.out.write(b"".join(lines))
            self.out.flush()
        except BrokenPipeError:
            self._failure = OutputClosed()
            raise self._failure from None
        except OSError as error:
            self._failure = OutputFailed(self.name, error, self.written)
            raise self._failure from None
        self.written += len(lines)

    def close(self) -> None:
        """Write what is left and close the file (stdout stays open)."""
        try:
            self.flush()
        finally:
            if self.out is not sys.stdout.buffer:
                _close_quietly(self.out)


def _close_quietly(out: BinaryIO) -> None:
    # Close fails only after a failed write, which flush() has reported already.
    with contextlib.suppress(OSError):
        out.close()


def silence_stdout() -> None:
    """Point stdout at /dev/null, so that Python's own flush at exit finds no closed pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
