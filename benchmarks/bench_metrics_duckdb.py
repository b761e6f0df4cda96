"""The closed-deal metrics (bookings, won and lost deals, win rate, deal size, cycle, new customers) of the 1M
benchmark company aggregated inside a DuckDB file (issue 16, point 5), beside the in-memory path: seconds and
peak memory of each in a fresh process, and the pushed-down rows checked against ``metrics_table``'s."""

from __future__ import annotations

import json
import time

from benchmarks.bench_metrics import data_folder
from benchmarks.common import AS_OF, OUT, in_fresh_process, show

CLOSED = ["bookings", "won_deals", "lost_deals", "win_rate", "avg_deal_size", "median_deal_size", "median_cycle_days", "new_customers"]
KEY = ["metric", "dimension", "group", "period"]


def database() -> str:
    """The 1M company's deals and reps, as :func:`analysis.load` gives them (the columns it derives filled in:
    deal type, segment, lead source), written once into a DuckDB file (in a fresh process, so that this one stays
    small)."""
    path = OUT / "data" / "metrics-1M.duckdb"
    if not path.exists():
        in_fresh_process(
            f"""
import duckdb
import analysis
ds = analysis.load({str(data_folder())!r}, as_of={AS_OF!r})
con = duckdb.connect({str(path)!r})
for name in ("opportunities", "reps"):
    frame = ds.tables[name]
    con.execute(f"CREATE TABLE {{name}} AS SELECT * FROM frame")
con.close()
result = {{}}
"""
        )
    return f"duckdb:///{path}"


def main() -> list[dict]:
    import numpy as np
    import pandas as pd

    folder, url, out = data_folder(), database(), OUT / "metrics-duckdb"
    out.mkdir(parents=True, exist_ok=True)
    closed = json.dumps(CLOSED)
    in_memory = in_fresh_process(
        f"""
import analysis
from analysis.metrics import metrics_table
t = time.perf_counter()
ds = analysis.load({str(folder)!r}, as_of={AS_OF!r})
result = {{"load_s": time.perf_counter() - t}}
for freq in ("Q", "M"):
    t = time.perf_counter()
    table = metrics_table(ds, freq=freq)
    result[f"table_{{freq}}_s"] = time.perf_counter() - t
    table[table["metric"].isin({closed})].to_parquet({str(out)!r} + f"/memory-{{freq}}.parquet")
"""
    )
    deals_only = in_fresh_process(  # what holding just the deals and reps costs (the closed metrics need no more)
        f"""
import pandas as pd
t = time.perf_counter()
frames = [pd.read_parquet({str(folder)!r} + f"/{{name}}.parquet") for name in ("opportunities", "reps")]
result = {{"read_s": time.perf_counter() - t, "rows": sum(len(f) for f in frames)}}
"""
    )
    pushed = in_fresh_process(
        f"""
from analysis.pushdown import closed_metrics_sql, open_deals_sql
result = {{}}
for freq in ("Q", "M"):
    t = time.perf_counter()
    rows = closed_metrics_sql({url!r}, {AS_OF!r}, freq)
    result[f"closed_{{freq}}_s"] = time.perf_counter() - t
    rows.to_parquet({str(out)!r} + f"/duckdb-{{freq}}.parquet")
t = time.perf_counter()
result["open_deals"] = len(open_deals_sql({url!r}, {AS_OF!r}))
result["open_deals_s"] = time.perf_counter() - t
"""
    )
    rows = []
    for freq in ("Q", "M"):
        mem = pd.read_parquet(out / f"memory-{freq}.parquet")
        sql = pd.read_parquet(out / f"duckdb-{freq}.parquet")
        both = sql.merge(mem, on=KEY, how="left", suffixes=("", "_table"), indicator=True)
        assert (both["_merge"] == "both").all(), "a pushed-down row the table does not have"
        diff = 0.0
        for col in ("value", "n", "lower", "upper"):
            a, b = both[col].to_numpy(), both[f"{col}_table"].to_numpy()
            assert (np.isnan(a) == np.isnan(b)).all(), f"{col}: missing in one only"
            ok = ~np.isnan(a)
            diff = max(diff, float(np.max(np.abs(a[ok] - b[ok]) / np.maximum(np.abs(b[ok]), 1e-300), initial=0.0)))
        assert diff < 1e-9, f"{freq}: values differ by {diff:.1e} (relative)"
        assert (both["note"] == both["note_table"]).all(), "notes differ"
        only = mem.merge(sql[KEY], on=KEY, how="left", indicator=True)
        only = only[only["_merge"] == "left_only"]
        assert only.loc[only["metric"].isin(["won_deals", "lost_deals"]), "value"].eq(0).all(), "a group with closed deals is missing"
        rows.append(
            {
                "freq": freq,
                "rows_pushed_down": len(sql),
                "rows_table_only": len(only),  # groups without a closed deal in the period (zeros in the table)
                "max_rel_diff": diff,
                "duckdb_closed_s": pushed[f"closed_{freq}_s"],
                "duckdb_peak_mb": pushed["hwm_mb"],
                "open_deals_fetched": pushed["open_deals"],
                "open_deals_s": pushed["open_deals_s"],
                "memory_load_s": in_memory["load_s"],
                "memory_table_s": in_memory[f"table_{freq}_s"],
                "memory_peak_mb": in_memory["hwm_mb"],
                "deals_reps_only_peak_mb": deals_only["hwm_mb"],
            }
        )
    show(rows, "metrics-duckdb")
    return rows


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"{time.perf_counter() - t0:.0f} s")
