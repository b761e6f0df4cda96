"""Quota recommendation: METHODS checks 3, 4, 5, 6, 7 and 13; sums, signs, leavers, baselines, warnings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import analysis
import analysis.calendar
from analysis.forecast import PipelineForecaster
from analysis.quota import (
    QuotaRecommender,
    attainment_chance,
    gonik_elicited_quantile,
    gonik_payout,
    quantile_quotas,
    ramp_capacity,
    roll_up,
    solve_common_chance,
)
from conftest import AS_OF

SIGMA = 0.35
MEDIANS = np.linspace(200, 600, 12)


@pytest.fixture(scope="module")
def twelve_reps() -> np.ndarray:
    rng = np.random.default_rng(6)
    return np.exp(np.log(MEDIANS)[:, None] + SIGMA * rng.standard_normal((12, 400_000)))


def test_check3_gonik_payout_table():
    q = 1.0
    assert gonik_payout(0.5 * q, q, q) == pytest.approx(90)
    assert gonik_payout(q, q, q) == pytest.approx(120)
    assert gonik_payout(1.5 * q, q, q) == pytest.approx(90)
    assert gonik_payout(q, 0.5 * q, q) == pytest.approx(30)
    assert gonik_payout(2 * q, 2 * q, q) == pytest.approx(240)
    rng = np.random.default_rng(3)
    f, a = rng.uniform(0, 2, 1000), rng.uniform(0, 2, 1000)
    expected = np.maximum((120 * a - 60 * np.abs(a - f)) / q, 0)
    np.testing.assert_allclose(gonik_payout(f, a, q), expected, atol=1e-12)


def test_check4_gonik_elicits_a_quantile_not_the_mean():
    rng = np.random.default_rng(4)
    a = rng.lognormal(0.0, 0.5, 200_000)
    grid = np.arange(0.5, 1.6, 0.005)
    best = grid[int(np.argmax([gonik_payout(f, a, 1.0).mean() for f in grid]))]
    assert best == pytest.approx(1.00, abs=0.0101) and abs(best - a.mean()) > 0.1  # the median (±0.01 plus grid rounding), not the mean 1.13
    assert gonik_elicited_quantile() == pytest.approx(0.5)
    tau = gonik_elicited_quantile(100, 70, 150)
    assert tau == pytest.approx(0.375)
    best = grid[int(np.argmax([gonik_payout(f, a, 1.0, 100, 70, 150).mean() for f in grid]))]
    assert best == pytest.approx(np.quantile(a, tau), abs=0.0101)
    with pytest.raises(ValueError):
        gonik_elicited_quantile(1, 2, 3)


def test_check5_team_median_comes_from_the_sum_of_draws():
    rng = np.random.default_rng(5)
    reps = np.exp(np.log(100) + 0.8 * rng.standard_normal((10, 400_000)))
    assert np.median(reps, axis=1).sum() == pytest.approx(1000, rel=0.01)
    assert roll_up(reps) == pytest.approx(1313, abs=15)
    assert reps.mean(axis=1).sum() == pytest.approx(1377, rel=0.01)


def test_check6_equal_chance_quotas_hit_the_target_share(twelve_reps):
    q = quantile_quotas(twelve_reps, 0.6)
    np.testing.assert_allclose(q, np.exp(np.log(MEDIANS) + SIGMA * stats.norm.ppf(0.4)), rtol=0.01)
    assert attainment_chance(twelve_reps, q).mean() == pytest.approx(0.60, abs=0.01)
    expected = MEDIANS * np.exp(SIGMA**2 / 2)
    assert q.sum() / expected.sum() == pytest.approx(0.861, abs=0.005)


def test_check7_budget_reconciliation(twelve_reps):
    budget = (MEDIANS * np.exp(SIGMA**2 / 2)).sum()
    p = solve_common_chance(twelve_reps, budget)
    assert p == pytest.approx(0.431, abs=0.005)
    p10 = solve_common_chance(twelve_reps, budget * 1.1)
    assert p10 == pytest.approx(0.327, abs=0.005)
    assert quantile_quotas(twelve_reps, p10).sum() == pytest.approx(budget * 1.1, abs=1e-6)
    ps = [solve_common_chance(twelve_reps, t) for t in np.linspace(0.8, 1.3, 6) * budget]
    assert all(a > b for a, b in zip(ps, ps[1:]))
    top_down = attainment_chance(twelve_reps, np.full(12, budget / 12))
    assert top_down.min() == pytest.approx(0.016, abs=0.01) and top_down.max() == pytest.approx(0.84, abs=0.02)


def test_check13_ramp_capacity():
    assert ramp_capacity(250_000, [None] * 6 + [0, 1, 2, 3], quarters=4, schedule=(0.0, 0.5, 1.0)) == pytest.approx(7_125_000)


@pytest.fixture(scope="module")
def demo_plan(demo_dir):
    ds = analysis.load(demo_dir, as_of=AS_OF)
    sims = PipelineForecaster(draws=2000, seed=0).fit(ds).predict("next")
    target = float(ds.targets[(ds.targets.period == sims.period) & ds.targets.team.isna()].target.iloc[0])
    return ds, sims, target


def test_recommendation_sums_to_what_was_asked_and_is_fairer_than_budget_per_rep(demo_plan):
    ds, sims, target = demo_plan
    plan = QuotaRecommender(overassignment=0.10, attainment_share=0.65).recommend(sims.rep_draws(), target, reps=ds.reps, period=sims.period)
    q = plan.quotas
    assert q.quota.sum() == pytest.approx(target * 1.10, abs=1e-6)
    assert (q.quota >= 0).all() and q.rep_id.is_unique
    assert set(q.rep_id) <= set(ds.active_reps()["rep_id"])  # a rep who left gets none
    np.testing.assert_allclose(q.p_attain, plan.p_hat, atol=0.02)  # the same chance for everyone
    methods = plan.methods.set_index("method")
    assert methods.loc["equal chance", "p_attain_sd"] < methods.loc["budget ÷ active reps", "p_attain_sd"]
    assert methods.loc["budget ÷ active reps", "total"] == pytest.approx(target * 1.10)
    if plan.p_hat < 0.65:
        assert plan.warnings and "not realistic" in plan.warnings[0]


def test_realistic_mode_shows_the_gap_instead_of_spreading_it(demo_plan):
    ds, sims, target = demo_plan
    plan = QuotaRecommender(attainment_share=0.65, mode="realistic").recommend(sims.rep_draws(), target * 3, period=sims.period)
    assert plan.quotas.p_attain.mean() == pytest.approx(0.65, abs=0.02)
    assert plan.quotas.quota.sum() < target * 3 * 1.1 and "short of target" in plan.warnings[0]


def test_goal_flags(demo_plan):
    ds, sims, target = demo_plan
    draws = sims.rep_draws()
    wide = draws.pivot(index="rep_id", columns="draw", values="bookings")
    order = wide.median(axis=1).sort_values(ascending=False).index
    rep_low, rep_high = order[0], order[1]  # reps whose p25 is above zero
    goals = pd.Series({rep_low: 0.0, rep_high: float(wide.loc[rep_high].max() * 2)})
    plan = QuotaRecommender().recommend(draws, target, goals=goals, period=sims.period)
    flags = plan.quotas.set_index("rep_id")["flags"]
    assert "sandbagging" in flags[rep_low] and "over-reach" in flags[rep_high]


@pytest.mark.slow
def test_policy_backtest_realised_share_is_near_the_target_share(demo_dir):
    from analysis.quota import policy_backtest

    ds = analysis.load(demo_dir, as_of=AS_OF)
    pb = policy_backtest(ds, n=4, make=lambda: PipelineForecaster(draws=500, seed=0))
    assert set(pb.columns) == {"period", "method", "reps", "expected_share", "realised_share", "attainment_sd", "within_20pct", "plan_vs_actual"}
    assert pb.period.nunique() == 4 and {"equal chance (realistic)", "budget ÷ active reps"} <= set(pb.method)
    realistic = pb[pb.method == "equal chance (realistic)"]
    assert realistic.expected_share.round(6).eq(0.65).all()
    # 12 reps x 4 quarters is a small sample: the bar (within 10 points) is checked on the bundled demo in the note.
    assert abs(realistic.realised_share.mean() - 0.65) < 0.2
    # Independent recomputation of one quarter's realised share for budget ÷ reps.
    row = pb[(pb.method == "budget ÷ active reps")].iloc[-1]
    o = ds.opportunities
    start, end = analysis.calendar.period_bounds(row.period)
    booked = o[(o.status == "won") & (o.close_date >= start) & (o.close_date <= end)].groupby("owner_id").amount.sum()
    snap = ds.as_of(start - pd.Timedelta(days=1))
    target = snap.targets[(snap.targets.period == row.period) & snap.targets.team.isna()].target.iloc[0]
    active = PipelineForecaster(draws=10).fit(snap).predict(row.period).rep_draws().rep_id.unique()
    quota_each = target * 1.1 / len(active)
    assert row.realised_share == pytest.approx((booked.reindex(active).fillna(0) >= quota_each).mean())


def test_a_rep_without_any_forecast_is_flagged():
    draws = pd.DataFrame({"rep_id": np.repeat(["a", "b", "z"], 100), "draw": np.tile(np.arange(100), 3),
                          "bookings": np.r_[np.linspace(50, 150, 100), np.linspace(80, 240, 100), np.zeros(100)]})
    plan = QuotaRecommender(overassignment=0.0).recommend(draws, 200.0)
    q = plan.quotas.set_index("rep_id")
    assert q.loc["z", "quota"] == 0 and "set this quota by hand" in q.loc["z", "flags"] and q.loc["a", "flags"] == ""
    assert q.quota.sum() == pytest.approx(200.0, abs=1e-6)


def _metric_rows(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["metric", "group", "period", "value", "n"]).assign(dimension="rep", lower=np.nan, upper=np.nan, note="")


def test_coaching_points_at_the_weakest_driver_and_reports_the_gap():
    from analysis.quota import coaching

    p = "2026Q3"
    rows = []
    # a: misses twice, creates as many deals as peers but wins half as often; b: misses once; c, d: peers.
    for rep, misses, att, quota, created, win, size, cycle in [
        ("a", 2, 0.6, 100_000, 40, 0.15, 10_000, 40), ("b", 1, 0.9, 100_000, 20, 0.30, 10_000, 40),
        ("c", 0, 1.2, 100_000, 40, 0.30, 10_000, 40), ("d", 0, 1.1, 100_000, 40, 0.30, 10_500, 100)]:
        rows += [("consecutive_misses", rep, p, misses, np.nan), ("quota_attainment", rep, p, att, quota),
                 ("win_rate_cohort", rep, p, 0.3, created), ("win_rate_shrunk", rep, p, win, 10),
                 ("avg_deal_size_shrunk", rep, p, size, 5), ("median_cycle_days", rep, p, cycle, 5)]
    reps = pd.DataFrame({"rep_id": list("abcd"), "name": ["Ann", "Bo", "Cy", "Di"], "team": "T"})
    out = coaching(_metric_rows(rows), reps, p, min_misses=2)
    assert out.rep_id.tolist() == ["a"] and out.misses.iloc[0] == 2
    assert out.gap.iloc[0] == pytest.approx(40_000)
    assert out.pointer.iloc[0].startswith("win rate is 50%")
    assert coaching(_metric_rows(rows), reps, p, min_misses=1).rep_id.tolist() == ["a", "b"]
    assert "opportunities created" in coaching(_metric_rows(rows), reps, p, min_misses=1).set_index("rep_id").loc["b", "pointer"]
    rows += [("consecutive_misses", "d", p, 3, np.nan)]  # d is at or above the team on every driver
    d = coaching(_metric_rows(rows).drop_duplicates(["metric", "group"], keep="last"), reps, p, min_misses=2).set_index("rep_id").loc["d"]
    assert d.pointer.startswith("at or above the team") and "2.5x the team's time" in d.pointer


def test_leaderboard_recognises_top_and_most_improved():
    from analysis.quota import leaderboard

    rows = [("quota_attainment", "a", "Q2", 1.4, 1), ("quota_attainment", "b", "Q2", 1.1, 1), ("quota_attainment", "c", "Q2", 0.7, 1),
            ("quota_attainment", "a", "Q1", 1.3, 1), ("quota_attainment", "b", "Q1", 0.5, 1), ("quota_attainment", "c", "Q1", 0.6, 1),
            ("bookings", "a", "Q2", 140, 1), ("bookings", "b", "Q2", 110, 1), ("bookings", "c", "Q2", 70, 1),
            ("win_rate", "a", "Q2", 0.4, 1), ("win_rate", "b", "Q2", 0.3, 1), ("win_rate", "c", "Q2", 0.2, 1)]
    reps = pd.DataFrame({"rep_id": list("abc"), "name": list("ABC"), "team": "T"})
    board = leaderboard(_metric_rows(rows), reps, "Q2", "Q1").set_index("rep_id")
    assert list(board.index) == ["a", "b", "c"]
    assert board.loc["a", "recognition"] == "highest attainment" and board.loc["b", "recognition"] == "most improved"
    assert board.loc["b", "improvement"] == pytest.approx(0.6)
