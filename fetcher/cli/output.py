"""`fetcher fetch`'s results writer: JSON lines, written whole and in batches, and its errors.

Results are gathered, then encoded and written together, each batch in one write of whole
lines, then flushed: a write per result would cost a system call per request. A batch goes out
when it holds `FLUSH_LINES`, and a writer thread sends what has gathered every `FLUSH_S`, so a
line is on disk within 0.2 s of its result even when the next result is minutes away. A crash
loses at most the batch not yet written, and a kill in the middle of a write leaves at most one
line cut short, which `--resume` drops and fetches again.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
from collections import Counter
from typing import BinaryIO

import orjson

from fetcher.errors import FetcherError
from fetcher.models import FetchResult

# Small enough that a batch's results are still in the caches when it is encoded, and die
# young: at 1,000 lines the writer cost a fetch at 0 ms 8% of its speed, at 128 lines 3%; at
# 64, encoding took 1.2 µs a line instead of 2.2 (on a core with 48 KB of L1 data cache) and
# the fetch ran 1.9% faster than at 128. At 32 it ran no faster again.
FLUSH_LINES = 64
FLUSH_S = 0.2
# For the rare line orjson refuses (a lone surrogate in an exception's text): one encoder for
# them all, since json.dumps with any option builds a new one per call.
_encode = json.JSONEncoder(separators=(",", ":")).encode


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
        # Results that took more than one attempt, and the attempts they took past their first.
        self.retried = self.retries = 0
        self.written = 0
        self.errors: Counter[str] = Counter()
        self._results: list[FetchResult] = []
        self._failure: Exception | None = None
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._thread = threading.Thread(
            target=self._flush_often, name="results-writer", daemon=True
        )
        self._thread.start()

    def _flush_often(self) -> None:
        """In the writer thread: write what has gathered every FLUSH_S, until closed or failed."""
        while not self._closing.wait(FLUSH_S):
            try:
                self.flush()
            except (OutputFailed, OutputClosed):
                return  # kept in _failure: the next add() raises it in the fetching thread

    def add(self, result: FetchResult) -> None:
        """Record one result; raises OutputFailed or OutputClosed when the output is gone."""
        if self._failure is not None:
            raise self._failure
        # No lock for the append (taking one per result cost ~1% of a fetch at 0 ms): appending
        # to a list is atomic, and a batch leaves it only by the `del` in _write, which takes
        # from the front exactly what it wrote, so results added meanwhile stay for the next.
        self._results.append(result)
        if len(self._results) >= FLUSH_LINES:
            self.flush()

    def flush(self) -> None:
        """Write every gathered line, whole, and flush them to the file."""
        with self._lock:  # one batch at a time, from this thread or the writer thread
            self._write()

    def _write(self) -> None:
        if self._failure is not None:
            raise self._failure
        results = self._results[:]
        if not results:
            return
        # Encoded together: one at a time, between requests, each took ~10 µs of a fetch at
        # 0 ms; in one loop here they take ~2 µs. The batch leaves the list only once written,
        # so a Ctrl-C or SIGTERM raised while encoding or writing leaves it for close().
        lines = b"".join(map(json_line, results))
        try:
            self.out.write(lines)
            del self._results[: len(results)]
            self.out.flush()
        except BrokenPipeError:
            self._failure = OutputClosed()
            raise self._failure from None
        except OSError as error:
            self._failure = OutputFailed(self.name, error, self.written)
            raise self._failure from None
        self.written += len(results)
        self._tally(results)

    def _tally(self, results: list[FetchResult]) -> None:
        # Counted a batch at a time once written, not a result at a time as each arrives. The
        # summary is printed only when every write succeeded, so it counts every result.
        failed = [str(result.error) for result in results if result.error is not None]
        self.count += len(results)
        self.ok += len(results) - len(failed)
        self.errors.update(failed)
        retries = [result.attempts - 1 for result in results if result.attempts > 1]
        self.retried += len(retries)
        self.retries += sum(retries)

    def close(self) -> None:
        """Write what is left and close the file (stdout stays open)."""
        self._closing.set()
        self._thread.join()
        try:
            self.flush()
        finally:
            if self.out is not sys.stdout.buffer:
                _close_quietly(self.out)


def json_line(result: FetchResult) -> bytes:
    """One result as a line of JSON, newline included."""
    record = result.to_json()
    try:
        return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)
    except orjson.JSONEncodeError:  # not UTF-8: the json module escapes what orjson refuses
        return _encode(record).encode() + b"\n"


def _close_quietly(out: BinaryIO) -> None:
    # Close fails only after a failed write, which flush() has reported already.
    with contextlib.suppress(OSError):
        out.close()


def silence_stdout() -> None:
    """Point stdout at /dev/null, so that Python's own flush at exit finds no closed pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
