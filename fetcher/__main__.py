"""`python -m fetcher`."""

import sys

from fetcher.cli import main

sys.exit(main())
