"""Scale benchmarks; run from the repository root, e.g. ``python -m bench.fanout`` (see README.md)."""
