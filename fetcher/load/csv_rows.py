"""`fetcher load --csv`: a row per request, written by each generator as it goes, then joined."""

from __future__ import annotations

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
    """Per-request rows written as they come, so a long run never holds them all."""

    def __init__(self, path: str) -> None:
        self.file: TextIO = open(path, "w", newline="", encoding="utf-8")  # noqa: SIM115
        self.writer = csv.writer(self.file)

    def write_rows(self, rows: Iterable[tuple[object, ...]]) -> None:
        """Append rows in CSV_HEADER's order."""
        self.writer.writerows(rows)

    def close(self) -> None:
        """Flush and close the file."""
        self.file.close()


def write_csv(parts: Iterable[str], path: str) -> None:
    """Join the generators' row files into one CSV with a header, and remove the parts."""
    with open(path, "w", newline="", encoding="utf-8") as out:
        csv.writer(out).writerow(CSV_HEADER)
        for part in parts:
            if os.path.exists(part):
                with open(part, encoding="utf-8") as rows:
                    shutil.copyfileobj(rows, out)
                os.remove(part)
