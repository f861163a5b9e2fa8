"""Reading a URL list: one URL a line, blanks and `#` comments skipped, `-` for stdin.

`read_urls` returns a list; `UrlFile` checks the whole file first and then streams it, so a
batch of millions of URLs is never held in memory.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import chain
from pathlib import Path
from urllib.parse import urlsplit

from fetcher.errors import UrlFileError

STDIN = "-"
# A streamed URL file is read this many characters of whole lines at a time (about 1,500 URLs).
READ_CHARS = 64 * 1024


def read_urls(path: str | Path) -> list[str]:
    """Every URL in the file; a UrlFileError names the file, line and text of a bad one."""
    name = _name(path)
    with _reading(name):
        if str(path) == STDIN:
            return parse_urls(sys.stdin, name)
        with open(path, encoding="utf-8") as lines:
            return parse_urls(lines, name)


def parse_urls(lines: Iterable[str], name: str = "<urls>") -> list[str]:
    """The URLs in `lines`; validation happens here, before any request is made."""
    urls = list(iter_urls(lines, name))
    if not urls:
        raise _no_urls(name)
    return urls


def iter_urls(lines: Iterable[str], name: str = "<urls>") -> Iterator[str]:
    """The URLs in `lines`, one at a time; a bad line raises UrlFileError when it is reached."""
    for number, text in _url_lines(lines):
        problem = url_problem(text)
        if problem:
            raise UrlFileError(f"{name}:{number}: {problem}: {text[:200]!r}")
        yield text


def _url_lines(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    """(line number, text) of each line that holds a URL: blanks and `#` comments skipped.
    The one rule for both reads of a UrlFile, so its count and its URLs agree."""
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if text and not text.startswith("#"):
            yield number, text


def url_problem(text: str) -> str | None:
    """Why `text` is not a usable http(s) URL, or None when it is."""
    # split() finds the same whitespace as str.isspace(), in C: a generator over the
    # characters cost 0.8 µs a URL, 40% of reading a URL file.
    if text and text.split() != [text]:
        return "a URL cannot contain spaces"
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as error:
        return f"not a valid URL ({error})"
    if parts.scheme not in ("http", "https"):
        return "not an http(s) URL"
    if not parts.hostname:
        return "the URL has no host"
    return None


class UrlFile:
    """A URL file checked whole on opening, then read again each time it is iterated.

    Holds a count, never the URLs: memory stays flat however long the file is. Stdin, which
    cannot be read twice, is copied to a temporary file first; `close()` removes that copy.
    It pickles as its path, so a worker process can read the file itself (`streamed`).
    Each URL is parsed once, on opening: parsing it again on every read cost ~3 µs a URL, 5%
    of a fetch at 0 ms. A line edited into a bad URL since then fails as a result, as any
    URL the server cannot be reached at does.
    """

    # Strategies may send this to worker processes whole: it is re-read, not held.
    streamed = True

    def __init__(self, path: str | Path) -> None:
        self.name = _name(path)
        self._path = str(path)
        self._spooled = False
        with _reading(self.name):
            if str(path) == STDIN:
                self._path, self._spooled = _spool_stdin(), True
            with open(self._path, encoding="utf-8") as lines:
                self._count = sum(1 for _ in iter_urls(lines, self.name))
        if not self._count:
            raise _no_urls(self.name)

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[str]:
        # Handed out from lists read a block at a time: a generator resumed per URL, between
        # two requests, cost 1.5% of a fetch at 0 ms; chain's C loop costs next to nothing.
        return chain.from_iterable(self._blocks())

    def _blocks(self) -> Iterator[list[str]]:
        with open(self._path, encoding="utf-8") as file:
            while lines := file.readlines(READ_CHARS):
                yield [text for _, text in _url_lines(lines)]  # checked on opening

    def __contains__(self, url: object) -> bool:
        return any(each == url for each in self)

    def close(self) -> None:
        """Remove the copy of stdin, if one was made."""
        if self._spooled:
            Path(self._path).unlink(missing_ok=True)
            self._spooled = False


def _spool_stdin() -> str:
    """Copy stdin to a temporary file; its path."""
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", prefix="fetcher-urls-", suffix=".txt", delete=False
    ) as spool:
        try:
            shutil.copyfileobj(sys.stdin, spool)
        except BaseException:
            spool.close()
            Path(spool.name).unlink(missing_ok=True)
            raise
        return spool.name


def _name(path: str | Path) -> str:
    return "<stdin>" if str(path) == STDIN else str(path)


@contextmanager
def _reading(name: str) -> Iterator[None]:
    """Turn a file that cannot be read, or is not UTF-8, into a UrlFileError naming it."""
    try:
        yield
    except OSError as error:
        raise UrlFileError(f"cannot read URL file {name}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise UrlFileError(f"URL file {name} is not UTF-8 text") from None


def _no_urls(name: str) -> UrlFileError:
    return UrlFileError(f"URL file {name} has no URLs (only blank lines and # comments)")
