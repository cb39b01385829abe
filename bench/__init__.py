"""Benchmark scripts that compare implementations side by side (never used by tests)."""
