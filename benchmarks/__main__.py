"""Run the benchmarks: ``python -m benchmarks`` (all) or ``python -m benchmarks load run`` (``metrics-duckdb`` names
``bench_metrics_duckdb``; options such as ``--quick`` go to the benchmarks that take them), then one table of the
targets beside the figures measured (:mod:`benchmarks.targets`)."""

from __future__ import annotations

import importlib
import sys

from benchmarks.targets import summary

ALL = ["load", "metrics", "metrics-duckdb", "forecast", "accuracy", "worlds", "public", "quota", "scenarios", "report", "run", "scale"]

names = [a for a in sys.argv[1:] if not a.startswith("--")] or ALL
for name in names:
    importlib.import_module(f"benchmarks.bench_{name.replace('-', '_')}").main()
summary()
