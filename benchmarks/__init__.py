"""Benchmarks (not part of the default test run). ``python -m benchmarks --help``."""
