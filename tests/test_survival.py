"""The grouped Aalen–Johansen estimator against statsmodels, and docs/methods.md checks 1 and 2."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.duration.survfunc import CumIncidenceRight, SurvfuncRight

from analysis.survival import cumulative_incidence, deal_times, plateau, win_probability_within, winner_cycle_quantiles


def test_matches_statsmodels_group_by_group():
    rng = np.random.default_rng(1)
    n = 3000
    gid = rng.integers(0, 7, n)
    time = rng.integers(0, 120, n).astype(float)  # many ties, a time-0 event or two
    event = rng.choice([0, 1, 2], n, p=[0.35, 0.3, 0.35])
    curves = cumulative_incidence(gid, time, event)
    for g in range(7):
        m = gid == g
        ref = CumIncidenceRight(time[m], event[m])
        mine = curves[curves.gid == g]
        np.testing.assert_allclose(mine["time"], ref.times)
        np.testing.assert_allclose(mine["cif_won"], ref.cinc[0], atol=1e-12)
        np.testing.assert_allclose(mine["cif_lost"], ref.cinc[1], atol=1e-12)
        ok = np.isfinite(ref.cinc_se[0])
        np.testing.assert_allclose(mine["se_won"].to_numpy()[ok], ref.cinc_se[0][ok], atol=1e-12)
        km = SurvfuncRight(time[m], (event[m] > 0).astype(float))
        np.testing.assert_allclose(mine.loc[mine.won + mine.lost > 0, "surv"], km.surv_prob, atol=1e-12)


def _check1_deals(seed: int, n: int = 10_000, win_times=None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    created = rng.uniform(0, 365, n)
    won = rng.random(n) < 0.30
    t_win = win_times(rng, n) if win_times else rng.exponential(45, n)
    t = np.where(won, t_win, rng.exponential(250, n))
    close = created + t
    as_of = pd.Timestamp("2025-12-31")
    day0 = as_of - pd.Timedelta(days=365)
    # Continuous times, as in the simulation of check 1 in docs/methods.md; dates are only for deal_times' bookkeeping.
    return pd.DataFrame(
        {"time": np.where(close <= 365, t, 365 - created), "event": np.where(close <= 365, np.where(won, 1, 2), 0), "day0": day0}
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_check1_censoring_aware_win_rate(seed):
    d = _check1_deals(seed)
    assert 0.35 < (d.event == 0).mean() < 0.45  # about 40 % open at the snapshot
    curves = cumulative_incidence(np.zeros(len(d), int), d.time.to_numpy(), d.event.to_numpy())
    read = plateau(curves, min_at_risk=50)
    assert read.cif_won.iloc[0] == pytest.approx(0.30, abs=0.02)
    closed = d[d.event > 0]
    assert (closed.event == 1).mean() >= 0.38  # naive won / (won + lost)
    assert (d.event == 1).mean() <= 0.28  # won / all
    km = SurvfuncRight(d.time.to_numpy(), (d.event == 1).astype(float).to_numpy())  # losses censored: wrong
    assert 1 - km.surv_prob[km.surv_times <= read.t_star.iloc[0]][-1] >= 0.33


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_check2_cycle_median_under_censoring(seed):
    d = _check1_deals(seed, win_times=lambda rng, n: rng.lognormal(np.log(60), 0.8, n))
    curves = cumulative_incidence(np.zeros(len(d), int), d.time.to_numpy(), d.event.to_numpy())
    read = plateau(curves, min_at_risk=50)
    q = winner_cycle_quantiles(curves, read)
    assert q.q50.iloc[0] == pytest.approx(60, abs=5)
    won = d[d.event == 1].time
    assert won.median() <= 56 and won.mean() < 70  # the naive figures run short (true mean 82.6)


def test_deal_times_censor_at_the_snapshot():
    opps = pd.DataFrame(
        {
            "created_date": pd.to_datetime(["2025-01-01", "2025-01-01", "2025-01-01", "2025-03-01"]),
            "close_date": pd.to_datetime(["2025-01-11", "2025-02-20", None, "2025-03-05"]),
            "status": ["won", "lost", "open", "won"],
        }
    )
    t = deal_times(opps, pd.Timestamp("2025-02-01"))
    assert t.time.tolist() == [10, 31, 31, -28] and t.event.tolist() == [1, 0, 0, 0]


def test_conditional_win_probability_matches_frequencies():
    rng = np.random.default_rng(5)
    n = 200_000
    won = rng.random(n) < 0.4
    t = np.ceil(np.where(won, rng.exponential(30, n), rng.exponential(60, n)))
    curve = cumulative_incidence(np.zeros(n, int), t, np.where(won, 1, 2))
    for age, h in [(0, 30), (20, 30), (60, 90)]:
        still = t > age
        expect = (won & still & (t <= age + h)).sum() / still.sum()
        assert win_probability_within(curve, np.array([age]), h)[0] == pytest.approx(expect, abs=1e-9)


@pytest.mark.parametrize(
    "time",
    [
        np.array([3.0, 1.0, np.nan, 3.0, 0.0, -2.0, 7.0]),
        np.array([np.nan, np.nan]),
        np.array([]),
        np.array([1.5, 2.0, 1.5]),  # not whole days: hashed as before
        np.array([0.0, 2e7]),  # a span too wide to count
    ],
)
def test_time_codes_are_what_factorize_gives(time):
    from analysis.survival import _time_codes

    codes, uniques = _time_codes(time)
    want_codes, want_uniques = pd.factorize(time, sort=True)
    assert (codes == want_codes).all() and np.array_equal(np.asarray(uniques, dtype=float), np.asarray(want_uniques, dtype=float))


def _random_curves(seed: int, groups: int = 40) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = 4_000
    gid = rng.integers(0, groups, n)
    time = rng.integers(0, 300, n).astype(float)
    time[rng.random(n) < 0.02] = np.nan  # a missing time belongs to no curve
    event = rng.choice([0, 1, 2], n, p=[0.3, 0.3, 0.4])
    return cumulative_incidence(gid, time, event), gid, time, event


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_each_entry_is_told_the_row_of_the_curves_that_counted_it(seed):
    curves, gid, time, event = _random_curves(seed)
    again, at = cumulative_incidence(gid, time, event, rows=True)
    pd.testing.assert_frame_equal(again, curves)
    known = ~np.isnan(time)
    assert (at[~known] == -1).all() and (at[known] >= 0).all()
    assert (curves["gid"].to_numpy()[at[known]] == gid[known]).all()
    assert (curves["time"].to_numpy()[at[known]] == time[known]).all()
    # and each row's events are the uncensored entries pointing at it
    deals = np.bincount(at[known], minlength=len(curves))
    censored = np.bincount(at[known & (event == 0)], minlength=len(curves))
    assert (deals - censored == curves["won"].to_numpy() + curves["lost"].to_numpy()).all()


@pytest.mark.parametrize("shuffle", [False, True])
def test_plateau_and_cycle_quantiles_are_the_grouped_readings(shuffle):
    """Against the pandas formulation they replaced (groupby tail; merge, filter, groupby min), curves in group
    order or not."""
    curves, *_ = _random_curves(7)
    curves["gid"] -= 1  # one group coded -1, as a missing group is
    if shuffle:
        curves = curves.sample(frac=1.0, random_state=3)
    read = plateau(curves, 30)
    ok = curves["n_at_risk"].to_numpy() >= np.maximum(np.minimum(30, np.ceil(0.05 * curves["cohort"].to_numpy())), 1.0)
    want = curves[ok].groupby("gid", sort=True).tail(1).rename(columns={"time": "t_star"})
    want = want[["gid", "t_star", "cif_won", "se_won", "cif_lost", "cohort", "n_at_risk"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(read, want)
    q = winner_cycle_quantiles(curves.sort_values(["gid", "time"]), read)
    c = curves.merge(read[["gid", "t_star", "cif_won"]].rename(columns={"cif_won": "f_star"}), on="gid")
    c = c[(c["time"] <= c["t_star"]) & (c["f_star"] > 0)]
    for level in (0.25, 0.5, 0.75):
        hit = c[(c["cif_won"] / c["f_star"]).to_numpy() >= level - 1e-12].groupby("gid")["time"].min()
        assert np.array_equal(q[f"q{round(level * 100)}"].to_numpy(), read["gid"].map(hit).to_numpy(), equal_nan=True)
    assert q["q50"].notna().sum() > 10  # the comparison is not between two empty columns
