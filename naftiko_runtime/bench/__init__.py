"""Benchmarks: `python -m naftiko_runtime.bench` (see __main__.py)."""
