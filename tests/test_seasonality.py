"""The calendar and the deal features in the pipeline model, against seeded truths: the demo's month-of-year
creation pattern, a known growth rate, a known quarter-end rush and known rep skills."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import analysis
from analysis import demo
from analysis.calendar import period_bounds
from analysis.history import rolling_origins
from analysis.pipeline_model import PipelineForecaster
from analysis.recalibration import usable_features
from analysis.seasonality import closing_pattern, creation_profile

AS_OF = pd.Timestamp("2026-11-15")


def test_creation_profile_recovers_the_demo_season_and_a_known_growth():
    t = demo.generate(seed=1)
    prof = creation_profile(t["opportunities"], t["reps"], AS_OF)
    truth = np.log(demo.SEASON) - np.log(demo.SEASON).mean()
    assert np.abs(prof.season.to_numpy() - truth).max() < 0.12
    assert np.corrcoef(prof.season.to_numpy(), truth)[0, 1] > 0.85
    assert abs(prof.trend) < 0.08  # the demo has no trend per ramped rep
    for growth in (0.3, -0.2):
        g = demo.generate(seed=1, growth=growth)
        fitted = np.exp(creation_profile(g["opportunities"], g["reps"], AS_OF).trend) - 1
        assert fitted == pytest.approx(growth, abs=0.08)
    # The factor averages 1 over the window the reps' rates were learned in, and follows the season after it.
    window = pd.date_range(AS_OF - pd.Timedelta(days=364), AS_OF)
    assert prof.factor(window).mean() == pytest.approx(1.0, abs=1e-9)
    dec, feb = prof.factor(pd.to_datetime(["2026-12-15", "2027-02-15"]))
    assert dec < feb  # December's lull, February's busy month (demo.SEASON: 0.80 and 1.05)


def test_creation_profile_is_flat_on_short_history():
    t = demo.generate(seed=1, years=0.8)
    prof = creation_profile(t["opportunities"], t["reps"], AS_OF)
    assert prof.trend == 0 and (prof.season == 0).all()
    assert np.allclose(prof.factor(pd.date_range("2027-01-01", periods=90)), 1.0)


def test_closing_pattern_measures_a_known_rush_and_none_without_one():
    def rho(rush: float) -> float:
        o = demo.generate(seed=2, reps=60, rush=rush)["opportunities"]
        return closing_pattern(o.loc[o.status == "won", "close_date"], AS_OF - pd.Timedelta(days=730), AS_OF).rho

    # The demo pulls 35 % of the wins due in a quarter's first 3 weeks, but only those created before the pull date,
    # so the pulled share of all wins due then is lower.
    assert 0.15 < rho(0.35) < 0.45
    assert rho(0.0) < 0.04
    assert rho(0.6) > rho(0.35)


def test_closing_pattern_weights():
    from analysis.seasonality import ClosingPattern

    p = ClosingPattern(rho=0.3, pull_days=21)
    q_start, q_end = pd.Timestamp("2027-01-01"), pd.Timestamp("2027-03-31")
    spans = p.spans(q_start, q_end)
    assert spans == [
        (q_start, pd.Timestamp("2027-01-21"), pytest.approx(0.7)),
        (pd.Timestamp("2027-01-22"), q_end, 1.0),
        (pd.Timestamp("2027-04-01"), pd.Timestamp("2027-04-21"), pytest.approx(0.3)),
    ]
    # Mid-quarter: only the days still to come count.
    late = p.spans(pd.Timestamp("2027-02-10"), q_end)
    assert late[0][0] == pd.Timestamp("2027-02-10") and late[0][2] == 1.0
    # A month: January loses its pulled days, March gains April's; February neither.
    assert p.spans(q_start, pd.Timestamp("2027-01-31"))[0][2] == pytest.approx(0.7)
    assert p.spans(pd.Timestamp("2027-02-01"), pd.Timestamp("2027-02-28")) == [
        (pd.Timestamp("2027-02-01"), pd.Timestamp("2027-02-28"), 1.0)
    ]
    assert p.spans(pd.Timestamp("2027-03-01"), q_end)[-1] == (pd.Timestamp("2027-04-01"), pd.Timestamp("2027-04-21"), pytest.approx(0.3))
    assert ClosingPattern().spans(q_start, q_end) == [(q_start, pd.Timestamp("2027-01-21"), 1.0), (pd.Timestamp("2027-01-22"), q_end, 1.0)]


def test_owner_ratios_follow_known_skill():
    """Two segments with different win rates; in each, 20 reps who win at a known multiple of it."""
    rng = np.random.default_rng(0)
    truth = rng.uniform(0.6, 1.4, 40)
    base = np.where(np.arange(40) < 20, 0.3, 0.15)
    reps = [f"r{i}" for i in range(40)]
    window = pd.concat(
        [
            pd.DataFrame(
                {
                    "owner_id": reps[i],
                    "segment": "S1" if i < 20 else "S2",
                    "status": np.where(rng.random(300) < truth[i] * base[i], "won", "lost"),
                }
            )
            for i in range(40)
        ]
    )
    r, shape = PipelineForecaster._owner_ratios(window, pd.Series([*reps, "new"]))
    # The posterior's shape: the prior's weight k for a rep with no closed deal, k + their wins for the others.
    assert np.isfinite(shape).all() and (shape[:40] > shape[40]).all()
    assert np.corrcoef(r[:40], truth)[0, 1] > 0.85 and np.abs(r[:40] - truth).max() < 0.35
    assert np.abs(r[:40] - truth).mean() < 0.12
    assert r[40] == 1.0  # no closed deals: the average
    # Everyone equal: no owner effect at all.
    same = window.assign(status=np.where(rng.random(len(window)) < 0.3, "won", "lost"), segment="S1")
    assert PipelineForecaster._owner_ratios(same, pd.Series(reps))[0] == pytest.approx(np.ones(40), abs=0.05)


def test_features_the_data_cannot_be_trusted_with_are_left_out(demo_dir):
    ds = analysis.load(demo_dir, as_of="2026-11-15")
    assert usable_features(ds) == {}
    o = ds.opportunities.copy()
    o.loc[o.status == "lost", "amount"] = 0.0  # as in Maven's extract
    tables = dict(ds.tables, opportunities=o)
    tables.pop("stage_history")
    why = usable_features(dataclasses.replace(ds, tables=tables))
    assert set(why) == {"stage", "log_stage_days", "log_amount"}
    assert "stage history" in why["stage"] and "lost deals" in why["log_amount"]


@pytest.mark.slow
def test_calendar_makes_the_expected_wins_honest_over_seeds(tmp_path):
    """Pooled over seeds and cutoffs, the deals open at a quarter end and those created in the quarter are expected
    to give as many wins as they did, within 6 %; without the calendar the open deals are over-counted (the rush
    already took their early wins) and the new ones under-counted."""
    sums = {True: np.zeros(4), False: np.zeros(4)}
    for seed in (1, 7):
        demo.write(demo.generate(seed=seed, reps=30), tmp_path / str(seed))
        ds = analysis.load(tmp_path / str(seed))
        o = ds.opportunities
        for period, cutoff, snap in rolling_origins(ds, 4):
            start, end = period_bounds(period)
            won = o[(o.status == "won") & o.close_date.between(start, end)]
            for on in sums:
                f = PipelineForecaster(draws=10, seasonality=on).fit(snap)
                sums[on] += [
                    f.open_deal_probabilities(period).pi.sum(),
                    (won.created_date <= cutoff).sum(),
                    f.new_deal_expectations(period).m.sum(),
                    (won.created_date > cutoff).sum(),
                ]
    on, off = sums[True], sums[False]
    assert on[0] / on[1] == pytest.approx(1.0, abs=0.06) and on[2] / on[3] == pytest.approx(1.0, abs=0.06)
    assert off[0] / off[1] > on[0] / on[1] + 0.05 and off[2] / off[3] < on[2] / on[3] - 0.03


def test_the_report_says_what_the_model_learned_about_the_calendar(demo_dir):
    from analysis import summary

    ds = analysis.load(demo_dir, as_of="2026-11-15")
    f = PipelineForecaster(draws=10).fit(ds)
    text = summary.calendar_sentence(f)
    if f.closing_.rho > 0:
        assert f"{f.closing_.rho:.0%} of the wins due" in text
    else:
        assert "No quarter-end rush" in text
    flat = PipelineForecaster(draws=10, seasonality=False, owner_effect=False).fit(ds)
    assert summary.calendar_sentence(flat).startswith("No quarter-end rush") and "Reps win" not in summary.calendar_sentence(flat)
