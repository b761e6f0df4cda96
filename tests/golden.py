"""Fingerprints of the demo job's tables, to tell a change of behaviour from a change of code: per table its rows,
columns, per numeric column the sum and the sum of squares, per other column a hash of its sorted values.

``python tests/golden.py`` remakes ``tests/golden/demo-run.json`` — only on purpose, when a change is meant to change
what the job computes (say so in the commit); ``tests/test_unchanged.py`` compares a fresh run with it.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

GOLDEN = Path(__file__).resolve().parent / "golden" / "demo-run.json"
ROOT = str(Path(__file__).resolve().parents[1])  # where this clone is: the tables name files under it
AS_OF = "2026-11-15"
PERIOD = "2027Q1"


def read_table(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


def fingerprint(frame: pd.DataFrame) -> dict:
    """Rows, columns, and per column the sum and sum of squares (numbers) or a hash of the sorted values (the rest)."""
    columns = {}
    for name in frame.columns:
        col = frame[name]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            x = col.to_numpy(dtype=float)
            x = x[np.isfinite(x)]
            columns[str(name)] = {"sum": float(x.sum()), "sumsq": float((x**2).sum()), "missing": int(col.isna().sum())}
        else:
            text = "\n".join(sorted(str(v).replace(ROOT, ".") for v in col.tolist()))  # files named as in a clone
            columns[str(name)] = {"hash": hashlib.sha256(text.encode()).hexdigest()[:16]}
    return {"rows": len(frame), "columns": columns}


def demo_run(out: Path) -> dict:
    """Run every step on the bundled demo into ``out`` and fingerprint each table it writes."""
    import analysis
    from analysis import steps
    from analysis.config import DEMO_DIR, Settings

    ds = analysis.load(DEMO_DIR, as_of=AS_OF)
    steps.run_all(ds, Settings(), PERIOD, out)
    return {p.name: fingerprint(read_table(p)) for p in sorted(out.iterdir()) if p.suffix in {".csv", ".parquet"}}


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        prints = demo_run(Path(tmp))
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps(prints, indent=1) + "\n")
    print(f"wrote {GOLDEN} ({len(prints)} tables)")
