"""Time-series models, the backtest-weighted combination and its honest scoring (docs/methods.md §3.2-3.4)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import analysis
from analysis import demo, forecast, series
from analysis.backtest import pinball
from helpers import AS_OF

SEASON = np.array([10.0, -5.0, 0.0, -5.0])


def test_seasonal_naive_repeats_last_years_quarter_and_its_changes():
    y = np.tile(100 + SEASON, 4)  # a pure seasonal pattern: no year-on-year change at all
    out = series.model_draws(y, [1, 2, 5], "seasonal_naive", draws=200)
    assert np.all(out[1] == y[-4]) and np.all(out[2] == y[-3]) and np.all(out[5] == y[-4])
    trend = np.arange(16) * 5.0 + np.tile(SEASON, 4)  # every year-on-year change is +20
    out = series.model_draws(trend, [1, 5], "seasonal_naive", draws=50)
    assert np.allclose(out[1], trend[-4] + 20) and np.allclose(out[5], trend[-4] + 40)


@pytest.mark.slow
@pytest.mark.parametrize("model", ["ets", "sarimax"])
def test_model_intervals_cover_a_known_process(model):
    """Seeded truth: level 100 + a quarterly pattern + N(0, 5²). The 80 % interval one step ahead must cover the
    next value about 8 times in 10, and the median sit near the true mean."""
    rng = np.random.default_rng(12)
    hits, errors = [], []
    for _ in range(60):
        y = 100 + np.tile(SEASON, 7) + 5 * rng.standard_normal(28)
        truth_mean = 100 + SEASON[0]  # the next quarter is the first of the pattern
        actual = truth_mean + 5 * rng.standard_normal()
        sims = series.model_draws(y[:28], [1], model, draws=1000, seed=1)[1]
        p10, p50, p90 = np.quantile(sims, [0.1, 0.5, 0.9])
        hits.append(p10 <= actual <= p90)
        errors.append(p50 - truth_mean)
    assert 0.68 <= np.mean(hits) <= 0.95
    assert abs(np.mean(errors)) < 2.0  # unbiased within MC and estimation error (sd of noise 5)


def _bt(rows):
    return pd.DataFrame(rows, columns=["cutoff", "level", "group", "period", "actual", "mean", "p10", "p50", "p90", "scale", "method"])


def _rows(method, cutoffs, offset, spread, actual=100.0):
    return [
        (
            c,
            "company",
            "all",
            "P",
            actual,
            actual + offset,
            actual + offset - spread,
            actual + offset,
            actual + offset + spread,
            10.0,
            method,
        )
        for c in cutoffs
    ]


def test_weights_follow_backtest_pinball_and_exclude_what_does_not_beat_the_naive():
    cutoffs = ["2025-12-31", "2026-03-31", "2026-06-30"]
    bt = _bt(_rows("a", cutoffs, 2, 5) + _rows("b", cutoffs, 4, 5) + _rows("c", cutoffs, 30, 5) + _rows("seasonal_naive", cutoffs, 20, 5))
    w = series.combination_weights(bt).set_index("method")
    loss = {
        m: np.mean([pinball(100, 100 + o - 5, 0.1) + pinball(100, 100 + o, 0.5) + pinball(100, 100 + o + 5, 0.9)]) / 3 / 10
        for m, o in (("a", 2), ("b", 4))
    }
    expected_a = (1 / loss["a"]) / (1 / loss["a"] + 1 / loss["b"])
    assert w.loc["a", "weight"] == pytest.approx(expected_a, rel=1e-12) and w.loc["a", "pinball"] == pytest.approx(loss["a"])
    assert w.loc["c", "weight"] == 0 and w.loc["seasonal_naive", "weight"] == 0 and w["weight"].sum() == pytest.approx(1.0)
    # When nothing beats the naive, every model, the naive included, gets a share.
    w2 = series.combination_weights(_bt(_rows("c", cutoffs, 30, 5) + _rows("seasonal_naive", cutoffs, 20, 5))).set_index("method")
    assert (w2["weight"] > 0).all()
    # A model backtested on too few quarters gets nothing, however good, and is judged only where the naive also ran.
    short = _rows("d", cutoffs[-1:], 0, 1)
    w3 = series.combination_weights(_bt(_rows("a", cutoffs, 2, 5) + short + _rows("seasonal_naive", cutoffs, 20, 5))).set_index("method")
    assert w3.loc["d", "weight"] == 0 and "fewer than 3" in w3.loc["d", "why"] and w3.loc["a", "weight"] == pytest.approx(1.0)


def test_combine_is_the_weighted_average_and_renormalises_missing_models():
    f = pd.DataFrame(
        [
            ("company", "all", "P", 100.0, 80, 100, 120, "a"),
            ("company", "all", "P", 200.0, 150, 200, 260, "b"),
            ("team", "T", "P", 50.0, 40, 50, 60, "a"),
        ],
        columns=series.COLUMNS,
    )
    w = pd.DataFrame({"level": ["company", "company", "team", "team"], "method": ["a", "b", "a", "b"], "weight": [0.25, 0.75, 0.5, 0.5]})
    out = series.combine(f, w).set_index("level")
    assert out.loc["company", "p10"] == pytest.approx(0.25 * 80 + 0.75 * 150) and out.loc["company", "mean"] == pytest.approx(175)
    assert out.loc["team", "p90"] == pytest.approx(60)  # only model a for team T: its forecast, renormalised
    assert (out["method"] == "combined").all()


def test_combined_backtest_uses_only_earlier_cutoffs():
    early, late = ["2025-09-30", "2025-12-31", "2026-03-31"], "2026-06-30"
    rows = _rows("a", early, 0, 5) + _rows("b", early, 10, 5) + _rows("seasonal_naive", early, 20, 5)
    rows += (
        _rows("a", [late], 10, 5, actual=200) + _rows("b", [late], 0, 5, actual=200) + _rows("seasonal_naive", [late], 20, 5, actual=200)
    )
    bt = _bt(rows)
    cb = series.combined_backtest(bt).set_index("cutoff")
    assert cb.loc["2025-09-30", "p50"] == pytest.approx((100 + 110 + 120) / 3)  # first cutoff: equal weights
    w = series.combination_weights(bt[bt.cutoff < late]).set_index("method")["weight"]
    assert w["a"] > w["b"] > 0 == w["seasonal_naive"]  # a was better before the last cutoff ...
    assert cb.loc[late, "p50"] == pytest.approx(w["a"] * 210 + w["b"] * 200)  # ... so it leads there, whatever happens then


def test_series_forecast_sees_nothing_after_the_cutoff(demo_dir, tmp_path):
    """docs/methods.md check 15b for the time-series models."""
    cutoff = "2026-09-30"
    full = analysis.load(demo_dir, as_of=AS_OF).as_of(cutoff)
    demo.write(full.tables, tmp_path)
    then = analysis.load(tmp_path, as_of=cutoff)
    a = series.SeriesForecaster(draws=300, seed=3).fit(full).predict(["2026Q4", "2027Q1"])
    b = series.SeriesForecaster(draws=300, seed=3).fit(then).predict(["2026Q4", "2027Q1"])
    assert len(a) and set(a.method) == set(series.MODELS)
    pd.testing.assert_frame_equal(a, b)


def test_partial_first_quarter_is_left_out(demo_dir):
    ds = analysis.load(demo_dir, as_of=AS_OF)
    wide = series.quarterly_series(ds, "company")
    first = ds.opportunities.created_date.min()
    start = analysis.calendar.period_bounds(wide.index[0])[0]
    assert start >= first and wide.index[-1] == analysis.calendar.last_complete_period(ds.as_of_date)
    assert list(wide.index) == analysis.calendar.period_range(wide.index[0], wide.index[-1]) and wide["all"].notna().all()


@pytest.mark.slow
def test_forecast_report_on_demo_data(demo_dir):
    ds = analysis.load(demo_dir, as_of=AS_OF)
    r = forecast.forecast_report(ds, "2027Q1", horizon=4, draws=300, backtest_quarters=3)
    quarters = {"2027Q1", "2027Q2", "2027Q3", "2027Q4"}
    inside = {"2026Q4", "2026-11", "2026-12", "2027-01", "2027-02", "2027-03"}  # the quarter under way, and months
    assert set(r.table.period) == quarters | inside
    assert set(r.table[r.table.method == "combined"].period) == quarters
    assert set(r.table[r.table.period.isin(inside)].method) <= {"pipeline", "pipeline_recalibrated"}
    assert {"pipeline", "combined"} <= set(r.table.method)
    head = r.headline()
    assert head.level.value_counts()["company"] == 1 and (head.period == "2027Q1").all()
    assert (r.weights.groupby("level")["weight"].sum().round(9) == 1).all()
    assert (r.table[["p10", "p50", "p90"]].diff(axis=1).iloc[:, 1:] >= -1e-9).all().all()  # quantiles in order


def test_spreading_the_fits_over_processes_changes_nothing(demo_dir):
    ds = analysis.load(demo_dir, as_of=AS_OF)
    a = series.SeriesForecaster(draws=200, n_jobs=1).fit(ds).predict(["2027Q1", "2027Q2"])
    b = series.SeriesForecaster(draws=200, n_jobs=2).fit(ds).predict(["2027Q1", "2027Q2"])
    assert len(a)
    pd.testing.assert_frame_equal(a, b)
