"""Benchmarks: ``python -m benchmarks [name ...]`` (``make bench``). Results print as tables and go to benchmarks/out/."""
