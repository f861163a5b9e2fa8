"""Reading a URL list: one URL a line, blanks and `#` comments skipped, `-` for stdin."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

from fetcher.errors import UrlFileError

STDIN = "-"


def read_urls(path: str | Path) -> list[str]:
    """Every URL in the file; a UrlFileError names the file, line and text of a bad one."""
    name = "<stdin>" if str(path) == STDIN else str(path)
    try:
        if str(path) == STDIN:
            return parse_urls(sys.stdin, name)
        with open(path, encoding="utf-8") as lines:
            return parse_urls(lines, name)
    except OSError as error:
        raise UrlFileError(f"cannot read URL file {name}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise UrlFileError(f"URL file {name} is not UTF-8 text") from None


def parse_urls(lines: Iterable[str], name: str = "<urls>") -> list[str]:
    """The URLs in `lines`; validation happens here, before any request is made."""
    urls: list[str] = []
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        problem = url_problem(text)
        if problem:
            raise UrlFileError(f"{name}:{number}: {problem}: {text[:200]!r}")
        urls.append(text)
    if not urls:
        raise UrlFileError(f"URL file {name} has no URLs (only blank lines and # comments)")
    return urls


def url_problem(text: str) -> str | None:
    """Why `text` is not a usable http(s) URL, or None when it is."""
    if any(char.isspace() for char in text):
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
