"""All metrics for 1M opportunities, 2,000 reps, 3 years, every dimension (issue 3: under 15 s on 2 cores),
beside one plain pandas groupby over the same table (the ratio is the figure that matters)."""

from __future__ import annotations

import time

from benchmarks.common import AS_OF, OUT, show


def main() -> list[dict]:
    import pandas as pd

    import analysis
    from analysis import demo
    from analysis.metrics import metrics_table

    folder = OUT / "data" / "metrics-1M"
    if not (folder / "opportunities.parquet").exists():
        demo.write(demo.generate(seed=2, reps=2000, years=3, as_of=AS_OF, volume=1.55, activities=False), folder, fmt="parquet")
    ds = analysis.load(folder, as_of=AS_OF)
    o = ds.opportunities
    t = time.perf_counter()
    o.groupby([o["owner_id"], o["close_date"].dt.to_period("Q")])["amount"].sum()
    plain = time.perf_counter() - t
    rows = []
    for freq in ("Q", "M"):
        t = time.perf_counter()
        table = metrics_table(ds, freq=freq)
        secs = time.perf_counter() - t
        rows.append({"freq": freq, "opportunities": len(o), "reps": len(ds.reps), "stage_rows": len(ds.stage_history),
                     "metric_rows": len(table), "seconds": secs, "plain_groupby_s": plain, "ratio": secs / plain})
    show(rows, "metrics")
    _ = pd
    return rows


if __name__ == "__main__":
    main()
