"""Benchmark scripts: they print figures, and tests never assert on time."""
