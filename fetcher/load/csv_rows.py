"""`fetcher load --csv`: a row per request, written by each generator as it goes, then joined."""

from __future__ import annotations

import contextlib
import csv
import os
import shutil
from collections.abc import Iterable
from typing import TextIO

CSV_HEADER = (
    "index",
    "url",
    "due_ms",
    "sent_ms",
    "latency_ms",
    "latency_corrected_ms",
    "status",
    "nbytes",
    "error",
)


class RequestCsv:
    """Per-request rows written as they come, so a long run never holds them all.

    A write that fails (a full disk) is kept in `failure`, not raised: the rows after it are
    dropped, and the generator, which looks after each batch, stops its run, whose figures
    are still whole.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.file: TextIO = open(path, "w", newline="", encoding="utf-8")  # noqa: SIM115
        self.writer = csv.writer(self.file)
        self.failure: str | None = None

    def write_rows(self, rows: list[tuple[object, ...]]) -> None:
        """Append rows in CSV_HEADER's order (none once a write failed)."""
        if self.failure is not None:
            return
        try:
            self.writer.writerows(rows)
        except OSError as error:
            self._failed(error)

    def close(self) -> None:
        """Flush and close the file."""
        try:
            self.file.close()
        except OSError as error:
            self._failed(error)

    def _failed(self, error: OSError) -> None:
        if self.failure is None:
            self.failure = _cannot_write(self.path, error)


def keep_csv(parts: Iterable[str], path: str, failure: str | None) -> str | None:
    """Join the generators' row files into one CSV at `path`, unless one could not be written
    (`failure`); the parts are removed either way, and so is a CSV that could not be written
    whole. Why there is no CSV, or None."""
    parts = list(parts)
    try:
        if failure is None:
            write_csv(parts, path)
    except OSError as error:
        failure = _cannot_write(path, error)
        with contextlib.suppress(OSError):
            os.remove(path)
    for part in parts:
        with contextlib.suppress(OSError):
            os.remove(part)
    return failure


def _cannot_write(path: str, error: OSError) -> str:
    return f"cannot write {path}: {error.strerror or error}"


def write_csv(parts: Iterable[str], path: str) -> None:
    """Join the generators' row files into one CSV with a header."""
    with open(path, "w", newline="", encoding="utf-8") as out:
        csv.writer(out).writerow(CSV_HEADER)
        for part in parts:
            if os.path.exists(part):
                with open(part, encoding="utf-8") as rows:
                    shutil.copyfileobj(rows, out)
