"""Bottom-up goals: roll-ups from the draws (docs/methods.md check 5) and the Gonik view (checks 3 and 4 in test_quota)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.goals import goal_positions, goals_rollup, gonik_payout


@pytest.fixture(scope="module")
def draws() -> pd.DataFrame:
    rng = np.random.default_rng(21)
    medians = np.array([100.0, 200.0, 300.0, 400.0])
    m = np.exp(np.log(medians)[:, None] + 0.8 * rng.standard_normal((4, 50_000)))
    return pd.DataFrame(
        {"rep_id": np.repeat(["a", "b", "c", "d"], m.shape[1]), "draw": np.tile(np.arange(m.shape[1]), 4), "bookings": m.ravel()}
    )


def test_rollup_adds_the_draws_of_reps_with_a_goal_not_their_medians(draws):
    reps = pd.DataFrame({"rep_id": list("abcd"), "team": ["A", "A", "B", "B"]})
    goals = pd.Series({"a": 150.0, "b": 250.0, "c": 280.0})  # d set no goal: left out on both sides
    out = goals_rollup(draws, goals, reps, target=900.0, team_targets=pd.Series({"A": 350.0})).set_index("group")
    wide = draws.pivot(index="rep_id", columns="draw", values="bookings")
    total = wide.loc[["a", "b", "c"]].sum(axis=0).to_numpy()
    assert out.loc["all", "reps_with_goal"] == 3 and out.loc["all", "goals"] == 680.0
    assert out.loc["all", "forecast_p50"] == pytest.approx(np.quantile(total, 0.5))
    assert out.loc["all", "forecast_p50"] > 1.1 * wide.loc[["a", "b", "c"]].median(axis=1).sum()  # check 5: the sum's median is larger
    assert out.loc["all", "p_reach_goals"] == pytest.approx((total >= 680).mean())
    assert out.loc["all", "goals_vs_target"] == pytest.approx(680 / 900 - 1)
    team_a = wide.loc[["a", "b"]].sum(axis=0).to_numpy()
    assert out.loc["A", "forecast_p90"] == pytest.approx(np.quantile(team_a, 0.9))
    assert out.loc["A", "goals_vs_target"] == pytest.approx(400 / 350 - 1)
    assert np.isnan(out.loc["B", "target"]) and out.loc["B", "reps_with_goal"] == 1


@pytest.mark.parametrize("coefficients", [(1.2, 0.6, 1.8), (1.0, 0.7, 1.5)])
def test_the_truthful_goal_pays_best_when_the_forecast_is_the_belief(draws, coefficients):
    goals = pd.Series({"a": 50.0, "b": 400.0, "c": 300.0, "d": 1000.0})
    out = goal_positions(draws, goals, beta=coefficients[0], alpha=coefficients[1], gamma=coefficients[2]).set_index("rep_id")
    wide = draws.pivot(index="rep_id", columns="draw", values="bookings")
    for rep in goals.index:
        a = wide.loc[rep].to_numpy()
        assert out.loc[rep, "goal_quantile"] == pytest.approx((a < goals[rep]).mean())
        grid = np.quantile(a, np.linspace(0.05, 0.95, 37))
        best_other = max(gonik_payout(f, a, goals[rep], *coefficients).mean() for f in grid)
        # Exact without the floor at 0; the floor (payouts cannot go negative) moves the optimum slightly when outcomes
        # below a third of the goal are likely, as here (sigma 0.8).
        assert out.loc[rep, "expected_payout_truthful"] >= 0.99 * best_other
        assert out.loc[rep, "expected_payout_truthful"] >= out.loc[rep, "expected_payout"]
    assert out.loc["c", "goal_quantile"] == pytest.approx(0.5, abs=0.01)  # c's goal is its median: truthful under 120/60/180
