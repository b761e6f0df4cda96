"""Quota types other than bookings: won deals, gross margin and activities — their forecasts, actuals and targets."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

import analysis
from analysis.activity_model import ActivityForecaster
from analysis.calendar import period_bounds, period_range
from analysis.pipeline_model import PipelineForecaster
from analysis.quota import QuotaRecommender, actuals, plan_inputs
from helpers import AS_OF


@pytest.fixture(scope="module")
def demo_ds(demo_dir):
    return analysis.load(demo_dir, as_of=AS_OF)


def test_count_draws_add_up_the_win_chances_and_margin_draws_the_margin_ratio(demo_ds):
    f = PipelineForecaster(draws=4000, seed=1, measure="count").fit(demo_ds)
    period = "2027Q1"
    expected = f.open_deal_probabilities(period)["pi"].sum() + f.new_deal_expectations(period)["m"].sum()
    count = f.predict(period).by("company")[1][0]
    assert count.mean() == pytest.approx(expected, rel=0.03)  # E[Σ Bernoulli(π) + Poisson(m)] × E[shock] (= 1)
    amount = PipelineForecaster(draws=4000, seed=1).fit(demo_ds).predict(period).by("company")[1][0]
    margin = PipelineForecaster(draws=4000, seed=1, measure="margin").fit(demo_ds).predict(period).by("company")[1][0]
    won = demo_ds.opportunities.query("status == 'won'")
    ratio = won["margin"].sum() / won["amount"].sum()  # demo margins are 60-80 % of the amount by product
    assert margin.mean() / amount.mean() == pytest.approx(ratio, rel=0.05)
    assert (margin <= amount + 1e-9).mean() > 0.99


def test_margin_without_a_margin_column_is_a_clear_error(demo_ds):
    from dataclasses import replace

    opps = demo_ds.opportunities.assign(margin=np.nan)
    ds = replace(demo_ds, tables={**demo_ds.tables, "opportunities": opps})
    with pytest.raises(ValueError, match="needs the optional opportunities column `margin`"):
        PipelineForecaster(measure="margin").fit(ds)


def test_actuals_match_a_plain_count_of_the_rows(demo_ds):
    period = "2026Q2"
    start, end = period_bounds(period)
    expect = {"bookings": {}, "won_deals": {}, "margin": {}, "activities": {}}
    for row in demo_ds.opportunities.itertuples():
        if row.status == "won" and start <= row.close_date <= end:
            expect["bookings"][row.owner_id] = expect["bookings"].get(row.owner_id, 0) + row.amount
            expect["won_deals"][row.owner_id] = expect["won_deals"].get(row.owner_id, 0) + 1
            expect["margin"][row.owner_id] = expect["margin"].get(row.owner_id, 0) + (0 if pd.isna(row.margin) else row.margin)
    for row in demo_ds.activities.itertuples():
        if start <= row.date <= end:
            expect["activities"][row.rep_id] = expect["activities"].get(row.rep_id, 0) + row.count
    for kind, values in expect.items():
        got = actuals(demo_ds, period, kind)
        assert got.to_dict() == pytest.approx(values), kind


def test_activity_forecast_recovers_known_rates_with_honest_intervals(demo_dir, tmp_path):
    """Seeded truth: each rep does Poisson(rate) activities a day; the forecast of the next quarter must centre on
    rate × days and its 80 % interval must cover future quarters drawn from the truth."""
    folder = tmp_path / "acts"
    shutil.copytree(demo_dir, folder)
    reps = pd.read_csv(folder / "reps.csv", parse_dates=["hire_date", "end_date"])
    rng = np.random.default_rng(8)
    rates = dict(zip(reps["rep_id"], rng.uniform(5, 40, len(reps)), strict=True))
    days = pd.date_range("2025-11-16", AS_OF, freq="D")
    rows = []
    for rep in reps.itertuples():
        live = days[(days >= rep.hire_date) & ~(days >= rep.end_date)]
        rows.append(pd.DataFrame({"rep_id": rep.rep_id, "date": live, "type": "call", "count": rng.poisson(rates[rep.rep_id], len(live))}))
    pd.concat(rows).to_csv(folder / "activities.csv", index=False, date_format="%Y-%m-%d")
    ds = analysis.load(folder, as_of=AS_OF)
    sims = ActivityForecaster(draws=4000, seed=0).fit(ds).predict("2027Q1")
    groups, m = sims.by("rep")
    n_days = 90  # 2027Q1
    truth = np.array([rates[g] for g in groups]) * n_days
    tenure = ds.reps.set_index("rep_id").loc[groups, "hire_date"]
    settled = (pd.Timestamp(AS_OF) - tenure).dt.days.to_numpy() > 120  # new hires borrow the team's rate instead
    np.testing.assert_allclose(m.mean(axis=1)[settled], truth[settled], rtol=0.06)
    assert set(groups) == set(ds.active_reps()["rep_id"])  # leavers get none
    p10, p90 = np.quantile(m, [0.1, 0.9], axis=1)
    future = rng.poisson(truth[:, None], (len(truth), 200))
    covered = ((future >= p10[:, None]) & (future <= p90[:, None]))[settled].mean()
    assert 0.75 <= covered <= 1.0


def test_targets_carry_their_quota_type_and_a_won_deals_plan_sums_to_its_target(demo_dir, tmp_path):
    folder = tmp_path / "typed"
    shutil.copytree(demo_dir, folder)
    t = pd.read_csv(folder / "targets.csv", dtype=str)
    extra = pd.DataFrame(
        {
            "period": ["2027Q1", "2027Q1", "2027Q1"],
            "target": ["40", "9", "5"],
            "team": ["", "", ""],
            "quota_type": ["won_deals", "won_deals", "calls"],
        }
    )
    pd.concat([t.assign(quota_type=""), extra]).to_csv(folder / "targets.csv", index=False)
    ds = analysis.load(folder, as_of=AS_OF)
    rules = ds.quarantine[ds.quarantine["table"] == "targets"]["rule"].tolist()
    assert sorted(rules) == ["targets.duplicate", "targets.quota_type.unparseable"]  # the second won_deals row, and 'calls'
    company, teams = ds.targets_for("2027Q1", "won_deals")
    assert company == 40.0 and teams.empty
    assert ds.targets_for("2027Q1")[0] == float(t[(t.period == "2027Q1") & t.team.isna()].target.iloc[0])  # bookings untouched
    inputs = plan_inputs(ds, "2027Q1", quota_type="won_deals")
    assert inputs.target == 40.0 and inputs.previous.empty and inputs.goals.empty
    draws = PipelineForecaster(draws=1000, measure="count").fit(ds).predict("2027Q1").rep_draws()
    plan = QuotaRecommender(quota_type="won_deals").recommend(
        draws, inputs.target, reps=inputs.reps, last_year=inputs.last_year, period="2027Q1"
    )
    assert plan.quotas.quota.sum() == pytest.approx(44.0, abs=1e-6) and (plan.quotas.quota_type == "won_deals").all()
    assert "won deals" in plan.quotas.reason.iloc[0]
    # Activities have no target here: quotas at the attainment share, nothing reconciled, said so.
    acts = plan_inputs(ds, "2027Q1", quota_type="activities")
    assert acts.target is None
    a_draws = ActivityForecaster(draws=1000).fit(ds).predict("2027Q1").rep_draws()
    a_plan = QuotaRecommender(quota_type="activities").recommend(a_draws, acts.target, reps=acts.reps, period="2027Q1")
    assert a_plan.quotas.p_attain.mean() == pytest.approx(0.65, abs=0.02) and not a_plan.warnings
    assert list(period_range("2027Q1", "2027Q1")) == ["2027Q1"]
