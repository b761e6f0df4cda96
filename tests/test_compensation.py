"""Compensation plans and what-if scenarios: hand-worked payouts for every tier kind, plan files, and the
sweep agreeing with the quota plan."""

from __future__ import annotations

import re

import numpy as np
import pytest
import yaml

import analysis
from analysis import compensation, quota, scenarios
from analysis.calendar import period_bounds
from analysis.compensation import PlanError, load_plan, payout, plan_from_dict, summarise
from analysis.pipeline_model import PipelineForecaster
from helpers import AS_OF, ROOT

# Quarterly amounts: variable 30,000; tiers 0.5x below half of quota, 1x to quota, 1.5x to 150 %, 2x above;
# the on_target rate is 30,000 / (quota x (0.5 x 0.5 + 0.5 x 1)) = 0.4 for a quota of 100,000.
STANDARD = {
    "name": "std",
    "on_target_earnings": 60_000,
    "base": 30_000,
    "commission": {
        "rate": "on_target",
        "tiers": [
            {"from": 0, "multiplier": 0.5},
            {"from": 0.5, "multiplier": 1.0},
            {"from": 1.0, "multiplier": 1.5},
            {"from": 1.5, "multiplier": 2.0},
        ],
    },
    "cap": 3.0,
    "bonuses": [{"at": 1.2, "amount": 2_500}],
    "ramp_guarantee": {"quarters": 1, "share": 1.0},
}


@pytest.mark.parametrize(
    ("booked", "expected"),
    [
        (0, 0),
        (50_000, 10_000),  # 50,000 x 0.5 x 0.4: the decelerator
        (100_000, 30_000),  # + 50,000 x 1.0 x 0.4: exactly the on-target variable at 100 %
        (119_999, 30_000 + 19_999 * 0.6),  # accelerator, bonus not reached
        (120_000, 30_000 + 12_000 + 2_500),  # 20,000 x 1.5 x 0.4 + the bonus at exactly 120 %
        (150_000, 30_000 + 30_000 + 2_500),
        (170_000, 60_000 + 20_000 * 0.8 + 2_500),  # top tier 2x
        (300_000, 90_000),  # capped at 3 x 30,000
    ],
)
def test_standard_plan_by_hand(booked, expected):
    plan = plan_from_dict(STANDARD)
    assert payout(plan, [100_000.0], [float(booked)])[0] == pytest.approx(expected, abs=1e-6)


def test_fixed_rate_threshold_plan_by_hand():
    plan = plan_from_dict(
        {
            "name": "t",
            "on_target_earnings": 40_000,
            "base": 25_000,
            "commission": {
                "rate": 0.1,
                "tiers": [{"from": 0, "multiplier": 0}, {"from": 0.4, "multiplier": 1.3}, {"from": 1.0, "multiplier": 2.0}],
            },
        }
    )
    got = payout(plan, np.full(4, 100_000.0), np.array([30_000, 40_000, 70_000, 150_000.0]))
    np.testing.assert_allclose(got, [0, 0, 0.1 * 1.3 * 30_000, 0.1 * (1.3 * 60_000 + 2.0 * 50_000)])


def test_zero_quota_guarantee_and_leavers():
    fixed = plan_from_dict(
        {"name": "f", "on_target_earnings": 40_000, "base": 25_000, "commission": {"rate": 0.1}, "bonuses": [{"at": 1.0, "amount": 1_000}]}
    )
    assert payout(fixed, [0.0], [50_000.0])[0] == pytest.approx(5_000)  # plain rate, no attainment, no bonus
    std = plan_from_dict(STANDARD)
    assert payout(std, [0.0], [50_000.0])[0] == 0.0  # on_target has no rate without a quota
    # Ramp guarantee: a first-quarter hire gets at least the on-target variable; a second-quarter one does not.
    got = payout(std, np.full(3, 100_000.0), np.array([10_000.0, 10_000.0, 10_000.0]), tenure_quarters=[0, 1, np.nan])
    np.testing.assert_allclose(got, [30_000, 2_000, 2_000])
    # A rep who left is paid nothing, guarantee or not.
    assert payout(std, [100_000.0], [150_000.0], tenure_quarters=[0], active=[False])[0] == 0.0


def test_payout_is_vectorised_over_draws():
    plan = plan_from_dict(STANDARD)
    rng = np.random.default_rng(2)
    quotas, draws = rng.uniform(50_000, 150_000, 7), rng.lognormal(11.5, 0.6, (7, 300))
    tenure = np.array([0, 1, 2, np.nan, 0, 5, 3])
    whole = payout(plan, quotas, draws, tenure_quarters=tenure)
    for i in range(7):
        np.testing.assert_allclose(whole[i], [payout(plan, [quotas[i]], [d], tenure_quarters=[tenure[i]])[0] for d in draws[i]])


def test_linear_plan_costs_exactly_its_rate_of_expected_bookings():
    plan = compensation.resolve_plan("flat-rate")
    rng = np.random.default_rng(4)
    draws = rng.lognormal(11, 0.8, (50, 2000))
    s = summarise(plan, rng.uniform(1e4, 1e5, 50), draws)
    assert s.expected_payout == pytest.approx(0.10 * draws.sum(axis=0).mean(), rel=1e-9)
    assert s.cost_of_sales == pytest.approx(0.10, rel=1e-9)
    np.testing.assert_allclose(s.per_rep.expected_payout, 0.10 * draws.mean(axis=1), rtol=1e-9)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"base": 70_000}, "`base`"),
        ({"commission": {"rate": 1.5}}, "`commission.rate`"),
        ({"commission": {"tiers": [{"from": 0, "multiplier": 1}, {"from": 0, "multiplier": 2}]}}, "`commission.tiers[1].from`"),
        ({"commission": {"tiers": [{"from": 0.2, "multiplier": 1}]}}, "`commission.tiers[0].from`"),
        ({"commission": {"tiers": [{"from": 0, "multiplier": -1}]}}, "`commission.tiers[0].multiplier`"),
        ({"commission": {"rate": "on_target", "tiers": [{"from": 0, "multiplier": 0}, {"from": 1, "multiplier": 2}]}}, "`commission.rate`"),
        ({"bonuses": [{"at": 1.0}]}, "`bonuses[0]`"),
        ({"ramp_guarantee": {"quarters": 1.5, "share": 1}}, "`ramp_guarantee.quarters`"),
        ({"cap": "high"}, "`cap`"),
        ({"comission": {}}, "unknown field(s) ['comission']"),
        ({"period": "month"}, "`period`"),
    ],
)
def test_bad_plans_name_the_field(change, field):
    with pytest.raises(PlanError) as err:
        plan_from_dict({**STANDARD, **change}, origin="plans/x.yaml")
    assert "plans/x.yaml" in str(err.value) and field in str(err.value)


def test_plan_files_bundled_and_documented_all_load(tmp_path):
    assert {"standard", "flat-rate", "enterprise"} <= set(compensation.bundled_plans())
    for name in compensation.bundled_plans():
        assert compensation.resolve_plan(name).variable > 0
    doc = (ROOT / "docs" / "compensation.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", doc, flags=re.S)
    assert len(blocks) >= 3
    for block in blocks:
        plan_from_dict(yaml.safe_load(block), origin="docs/compensation.md")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(PlanError, match="bad.yaml"):
        load_plan(bad)
    with pytest.raises(PlanError, match="neither a bundled plan"):
        compensation.resolve_plan("nope")
    year = plan_from_dict({**STANDARD, "period": "year", "on_target_earnings": 240_000, "base": 120_000})
    assert year.variable == 30_000  # a year's amounts per quarter


@pytest.fixture(scope="module")
def demo_case(demo_dir):
    ds = analysis.load(demo_dir, as_of=AS_OF)
    sims = PipelineForecaster(draws=1000, seed=0).fit(ds).predict("next")
    inputs = quota.plan_inputs(ds, sims.period)
    return ds, sims, inputs


def test_what_if_at_todays_settings_is_the_quota_plan_exactly(demo_case):
    ds, sims, inputs = demo_case
    pay = compensation.resolve_plan("standard")
    draws = sims.rep_draws()
    plan = quota.QuotaRecommender(max_change=0.5).recommend(
        draws,
        inputs.target,
        reps=inputs.reps,
        last_year=inputs.last_year,
        period=sims.period,
        team_targets=inputs.team_targets,
        previous=inputs.previous,
    )
    start = period_bounds(sims.period)[0]
    base = scenarios.prepare(draws, inputs.reps, inputs.target, start, inputs.team_targets, inputs.previous, max_change=0.5, comp_plan=pay)
    h = scenarios.what_if(base)
    methods = plan.methods.set_index("method")
    assert h["p_hat"] == plan.p_hat
    assert h["expected_share_attaining"] == methods.loc["equal chance", "expected_share_attaining"]
    assert h["quota_total"] == plan.quotas.quota.sum()
    cost = compensation.plan_costs(pay, plan, draws, inputs.reps, start)
    company = cost[(cost.level == "company") & (cost.method == "equal chance")].iloc[0]
    assert h["expected_variable_pay"] == company.expected_payout and h["cost_of_sales"] == company.cost_of_sales
    assert h["share_reaching_on_target_variable"] == company.p_reach_on_target_variable
    grid = scenarios.sweep(base, target=scenarios.target_grid(inputs.target, steps=5), overassignment=[0.0, 0.1])
    today = grid[grid.today]
    assert len(today) == 1 and today.iloc[0].p_hat == plan.p_hat
    for _, g in grid.groupby("overassignment"):  # a higher target never makes attaining more likely
        assert (np.diff(g.sort_values("target").expected_share_attaining) <= 1e-12).all()


def test_a_faster_ramp_scales_ramping_reps_only(demo_case):
    ds, sims, inputs = demo_case
    draws = sims.rep_draws()
    start = period_bounds(sims.period)[0]
    base = scenarios.prepare(draws, inputs.reps, inputs.target, start)
    now = scenarios.what_if(base)
    full = scenarios.what_if(base, ramp_schedule=(1.0,))
    r = inputs.reps.set_index("rep_id").reindex(base.ids)
    ramp_now = analysis.ramp.ramp_factor(((start - r.hire_date).dt.days / 30.44).to_numpy(), base.ramp_schedule)
    means = base.draws.mean(axis=1)
    lift = np.where(ramp_now > 0, means / np.where(ramp_now > 0, ramp_now, 1) - means, 0.0).sum()
    assert full["expected_bookings"] == pytest.approx(now["expected_bookings"] + lift, rel=1e-9)
    assert (ramp_now < 1).any() and lift > 0


def test_what_if_headline_in_words(demo_case):
    from analysis.summary import what_if_markdown

    ds, sims, inputs = demo_case
    base = scenarios.prepare(
        sims.rep_draws(), inputs.reps, inputs.target, period_bounds(sims.period)[0], comp_plan=compensation.resolve_plan("flat-rate")
    )
    h = scenarios.what_if(base, overassignment=0.0)
    text = what_if_markdown(h)
    assert f"{h['expected_share_attaining']:.0%}" in text and "cost of sales 10%" in text and "(1 + 0%)" in text
