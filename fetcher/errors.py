"""The exceptions fetcher raises. Failed requests are never among them: they are results.

FetcherError            misuse: bad arguments or unreadable input; the message says what to fix
├── UrlFileError        a URL list that cannot be used (names the file, line and text)
└── MissingExtraError   an optional dependency is needed: pip install -e '.[EXTRA]'
"""

from __future__ import annotations


class FetcherError(Exception):
    """Something the caller asked for cannot be done; the message says what to fix."""


class UrlFileError(FetcherError):
    """A URL list that cannot be used."""


class MissingExtraError(FetcherError):
    """A feature needs an optional extra that is not installed."""

    def __init__(self, feature: str, extra: str) -> None:
        # From the checkout: the name `fetcher` on PyPI belongs to an unrelated project.
        super().__init__(
            f"{feature} needs the '{extra}' extra: in the fetcher checkout, "
            f".venv/bin/pip install -e '.[{extra}]'"
        )
