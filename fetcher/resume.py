"""Resuming a batch: which URLs an earlier `fetcher fetch` output already fetched.

The results file is read a line at a time and what it says is kept compactly: a bitmap of the
indices it records as fetched and a 32-bit checksum of each one's URL (5 bytes per URL in the
batch, not a Python object per URL). The URL file is then streamed once to confirm each URL.
A results file left by a crash may end in a line cut short; `repair` removes it so the
appended records start on a line of their own and every line of the file parses.
"""

from __future__ import annotations

import json
import zlib
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fetcher.errors import FetcherError


class DoneSet:
    """A set of indices below `size`, one bit each."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._bits = bytearray((size + 7) // 8)
        self.count = 0

    def add(self, index: int) -> None:
        """Mark `index` as done."""
        if index not in self:
            self._bits[index >> 3] |= 1 << (index & 7)
            self.count += 1

    def discard(self, index: int) -> None:
        """Unmark `index`."""
        if index in self:
            self._bits[index >> 3] &= ~(1 << (index & 7)) & 0xFF
            self.count -= 1

    def __contains__(self, index: object) -> bool:
        if not isinstance(index, int) or not 0 <= index < self.size:
            return False
        return bool(self._bits[index >> 3] & (1 << (index & 7)))

    def __len__(self) -> int:
        return self.count


@dataclass
class Scan:
    """What a results file holds: the indices fetched, and the lines that could not be read."""

    done: DoneSet
    # 1-based numbers of lines that are not a JSON record (the first few are kept).
    unreadable: list[int] = field(default_factory=list)
    unreadable_count: int = 0
    # The last line, cut short by a crash: its line number and where it starts in the file.
    torn_line: int | None = None
    torn_offset: int | None = None
    # The last line is a whole record that only lacks its newline.
    missing_newline: bool = False

    def problems(self, path: str | Path) -> list[str]:
        """One line per kind of problem found, naming file:line."""
        lines = []
        if self.torn_line is not None:
            lines.append(
                f"{path}:{self.torn_line}: the last line was cut short (a crash mid-write); "
                "dropped, its URL is fetched again"
            )
        if self.unreadable_count:
            where = ", ".join(f"{path}:{number}" for number in self.unreadable)
            more = " ..." if self.unreadable_count > len(self.unreadable) else ""
            lines.append(
                f"{self.unreadable_count} unreadable line(s) ignored, their URLs fetched again "
                f"unless recorded elsewhere: {where}{more}"
            )
        return lines


KEEP_LOCATIONS = 5


def scan(path: str | Path, urls: Iterable[str], count: int) -> Scan:
    """The indices of `urls` (of which there are `count`) that the results file records as
    fetched successfully, with the file's unreadable and torn lines.

    A record counts only if its index and URL both match, so a results file from another URL
    list skips nothing by mistake. A missing file means nothing is done yet.
    """
    result = Scan(DoneSet(count))
    checksums = array("I", bytes(4 * count))
    try:
        with open(path, "rb") as file:
            _read_records(file, result, checksums)
    except FileNotFoundError:
        return result
    except OSError as error:
        raise FetcherError(f"cannot read results file {path}: {error.strerror or error}") from None
    for index, url in enumerate(urls):
        if index in result.done and checksums[index] != _checksum(url):
            result.done.discard(index)
    return result


def _read_records(file: Iterable[bytes], result: Scan, checksums: array[int]) -> None:
    offset = 0
    for number, line in enumerate(file, start=1):
        record = _record(line)
        if not line.endswith(b"\n"):
            if record is None:
                result.torn_line, result.torn_offset = number, offset
                return
            result.missing_newline = True
        offset += len(line)
        if record is None:
            if line.strip():
                result.unreadable_count += 1
                if len(result.unreadable) < KEEP_LOCATIONS:
                    result.unreadable.append(number)
            continue
        index, url = record.get("index"), record.get("url")
        if record.get("error") is not None or not isinstance(url, str):
            continue
        if isinstance(index, int) and 0 <= index < result.done.size:
            result.done.add(index)
            checksums[index] = _checksum(url)


def _checksum(url: str) -> int:
    return zlib.crc32(url.encode("utf-8", "surrogatepass"))


def _record(line: bytes) -> dict[str, object] | None:
    """One JSON object, or None for a line that is not one."""
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def repair(path: str | Path, found: Scan) -> None:
    """Cut the file back to its last whole line (or end that line), so that what is appended
    starts a line of its own."""
    if found.torn_offset is not None:
        with open(path, "r+b") as file:
            file.truncate(found.torn_offset)
    elif found.missing_newline:
        with open(path, "ab") as file:
            file.write(b"\n")


def finished(path: str | Path, urls: Sequence[str]) -> set[int]:
    """The indices of `urls` the results file records as fetched, as a plain set."""
    found = scan(path, urls, len(urls))
    return {index for index in range(len(urls)) if index in found.done}
