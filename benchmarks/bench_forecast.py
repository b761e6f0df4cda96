"""Forecast at scale (issue 4: 2,000 reps and their pipeline from 1M opportunities, 2,000 draws, under 60 s on
2 cores): the pipeline model for the next quarter, the quarter under way and the planned quarter's months, then
the time-series models (company, team, segment) for the 4-quarter horizon and their one-quarter backtest over 6
cutoffs; then the recalibrated pipeline variant (which learns from 4 earlier quarter ends) and the pipeline's own
6-cutoff backtest."""

from __future__ import annotations

import time

from benchmarks.common import AS_OF, OUT, show


def main() -> list[dict]:
    import analysis
    from analysis import demo
    from analysis.pipeline_model import PipelineForecaster

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
    from analysis import forecast, series

    t = time.perf_counter()
    sf = series.SeriesForecaster(draws=1000).fit(ds)
    models = sf.predict(forecast.forecast_periods(ds, d.period, 4))
    ts = time.perf_counter() - t
    t = time.perf_counter()
    sbt = series.series_backtest(ds, n=6, make=lambda: series.SeriesForecaster(draws=500))
    ts_bt = time.perf_counter() - t
    from analysis.backtest import backtest

    t = time.perf_counter()
    for p in forecast.inside_periods(ds, d.period):
        f.predict(p)
    inside = time.perf_counter() - t
    t = time.perf_counter()
    PipelineForecaster(draws=2000, seed=0, recalibrate=4).fit(ds).predict("next")
    recal = time.perf_counter() - t
    t = time.perf_counter()
    backtest(ds, n=6, make=lambda: PipelineForecaster(draws=1000, seed=0))
    pipe_bt = time.perf_counter() - t
    rows = [
        {
            "opportunities": len(ds.opportunities),
            "open_deals": len(f.open_),
            "active_reps": int(f.reps_["active"].sum()),
            "draws": 2000,
            "fit_s": fit,
            "predict_s": predict,
            "table_s": tab,
            "pipeline_total_s": fit + predict + tab,
            "series_groups": int(models.groupby(["level", "group"]).ngroups),
            "series_s": ts,
            "series_backtest_s": ts_bt,
            "months_and_nowcast_s": inside,
            "recalibrated_fit_predict_s": recal,
            "pipeline_backtest_s": pipe_bt,
            "forecast_rows": len(table) + len(models) + len(sbt) * 0,
        }
    ]
    show(rows, "forecast")
    return rows


if __name__ == "__main__":
    main()
