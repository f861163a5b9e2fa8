"""The exit statuses of every `fetcher` command, in one place."""

from __future__ import annotations

OK = 0
# `fetcher fetch`: some URL failed (every result is still written); `fetcher load`: no request
# got a response at all (the report still lists the errors).
FAILED = 1
# A bad flag or unusable input, refused before any request.
USAGE = 2
# Ctrl-C (SIGINT), after writing everything finished: 128 + the signal's number, as shells do.
INTERRUPTED = 130
