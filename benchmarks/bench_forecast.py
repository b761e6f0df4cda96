"""Pipeline forecast at scale (issue 4: 2,000 reps and their pipeline from 1M opportunities, 2,000 draws, under
60 s on 2 cores). Measures the pipeline model only; the time-series models and the backtest are not built yet."""

from __future__ import annotations

import time

from benchmarks.common import AS_OF, OUT, show


def main() -> list[dict]:
    import analysis
    from analysis import demo
    from analysis.forecast import PipelineForecaster

    folder = OUT / "data" / "metrics-1M"
    if not (folder / "opportunities.parquet").exists():
        demo.write(demo.generate(seed=2, reps=2000, years=3, as_of=AS_OF, volume=1.55, activities=False), folder, fmt="parquet")
    ds = analysis.load(folder, as_of=AS_OF)
    t = time.perf_counter()
    f = PipelineForecaster(draws=2000, seed=0).fit(ds)
    fit = time.perf_counter() - t
    t = time.perf_counter()
    d = f.predict("next")
    predict = time.perf_counter() - t
    t = time.perf_counter()
    table = d.table()
    tab = time.perf_counter() - t
    rows = [{"opportunities": len(ds.opportunities), "open_deals": len(f.open_), "active_reps": int(f.reps_["active"].sum()),
             "draws": 2000, "fit_s": fit, "predict_s": predict, "table_s": tab, "total_s": fit + predict + tab, "forecast_rows": len(table)}]
    show(rows, "forecast")
    return rows


if __name__ == "__main__":
    main()
