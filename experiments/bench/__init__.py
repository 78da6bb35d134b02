"""Benchmark scripts: one per table or figure of the README, each a ``btype`` subcommand."""
