"""One module per `fetcher` command: `add_arguments(parser)` and `run(args) -> exit code`."""
