"""Run the benchmarks: ``python -m benchmarks`` (all) or ``python -m benchmarks load`` (``metrics-duckdb`` names
``bench_metrics_duckdb``)."""

from __future__ import annotations

import importlib
import sys

ALL = ["load", "metrics", "metrics-duckdb", "forecast", "accuracy", "worlds", "public", "quota", "scenarios", "report", "run"]

names = sys.argv[1:] or ALL
for name in names:
    importlib.import_module(f"benchmarks.bench_{name.replace('-', '_')}").main()
