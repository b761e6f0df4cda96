"""The performance targets beside the figures the benchmarks last measured (their CSVs in ``benchmarks/out``): one
table, printed at the end of ``make bench``; a benchmark not run yet shows as not measured."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from benchmarks.common import OUT, show


def _read(name: str) -> pd.DataFrame | None:
    path = OUT / f"{name}.csv"
    return pd.read_csv(path) if path.exists() else None


def _pick(name: str, where: Callable[[pd.DataFrame], pd.Series], column: str) -> float | None:
    frame = _read(name)
    if frame is None or column not in frame:
        return None
    rows = frame[where(frame)]
    return float(rows[column].iloc[0]) if len(rows) else None


#: (what, benchmark, target, unit, how to read the figure)
TARGETS = [
    ("demo run (40 reps), seconds", "run", 30, "s", lambda: _pick("run", lambda f: f["case"].str.startswith("demo"), "total_s")),
    ("2,000-rep run, seconds", "run", 180, "s", lambda: _pick("run", lambda f: f["case"] == "2,000 reps", "total_s")),
    ("2,000-rep run, peak memory with kernels", "run", 4.0, "GB", lambda: _pick("run", lambda f: f["case"] == "2,000 reps", "peak_gb")),
    (
        "1M deals, 2,500 reps run, seconds",
        "run --large",
        300,
        "s",
        lambda: _pick("run", lambda f: f["case"].str.startswith("1M"), "total_s"),
    ),
    ("metrics_table at 1M deals (quarters), seconds", "metrics", 3, "s", lambda: _pick("metrics", lambda f: f["freq"] == "Q", "median_s")),
    ("metrics_table at 1M deals (months), seconds", "metrics", 3, "s", lambda: _pick("metrics", lambda f: f["freq"] == "M", "median_s")),
    ("load 1M deals from Parquet, seconds", "load", 10, "s", lambda: _pick("load", lambda f: f["case"] == "1M parquet", "load_validate_s")),
    ("load 1M deals from Parquet, peak memory", "load", 2048, "MB", lambda: _pick("load", lambda f: f["case"] == "1M parquet", "peak_mb")),
]


def summary() -> pd.DataFrame:
    """Every target with the last measured figure and whether it is met."""
    rows = []
    for what, bench, target, unit, read in TARGETS:
        value = read()
        rows.append(
            {
                "what": what,
                "target": f"≤ {target:g} {unit}",
                "measured": "not measured" if value is None else f"{value:,.1f} {unit}",
                "met": "" if value is None else ("yes" if value <= target else "no"),
                "benchmark": bench,
            }
        )
    frame = pd.DataFrame(rows)
    show(rows, "targets")
    return frame
