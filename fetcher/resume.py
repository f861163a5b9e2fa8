"""Resuming a batch: which URLs an earlier `fetcher fetch` output already fetched."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from fetcher.errors import FetcherError


def finished(path: str | Path, urls: Sequence[str]) -> set[int]:
    """Indices of `urls` that the JSON-lines file records as fetched successfully.

    A record counts only if its index and URL both match, so a results file from another URL
    list skips nothing by mistake. A missing file means nothing is done yet; a line cut short
    by a crash is ignored.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return set()
    except (OSError, UnicodeDecodeError) as error:
        raise FetcherError(f"cannot read results file {path}: {error}") from None
    done: set[int] = set()
    for line in text.splitlines():
        record = _record(line)
        if record is None or record.get("error") is not None:
            continue
        index = record.get("index")
        if isinstance(index, int) and 0 <= index < len(urls) and urls[index] == record.get("url"):
            done.add(index)
    return done


def _record(line: str) -> dict[str, object] | None:
    """One JSON object, or None for a line that is not one."""
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def ends_mid_line(path: str | Path) -> bool:
    """True when the file's last line has no newline (its writer was killed mid-write)."""
    try:
        with open(path, "rb") as file:
            file.seek(0, 2)
            if file.tell() == 0:
                return False
            file.seek(-1, 2)
            return file.read(1) != b"\n"
    except FileNotFoundError:
        return False
