"""The pipeline forecast: docs/methods.md check 10, coherence across levels, leavers and ramp, no leakage (check 15b)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import analysis
from analysis import demo
from analysis.pipeline_model import LEFT, PipelineForecaster, simulate_open_deals
from analysis.ramp import ramp_factor
from analysis.survival import cif_at, cumulative_incidence, win_probability_between
from helpers import AS_OF


def test_check10_pipeline_expectation_and_spread():
    rng = np.random.default_rng(10)
    pi = rng.uniform(0.05, 0.9, 50)
    a = rng.lognormal(np.log(20_000), 1.0, 50)
    totals = simulate_open_deals(pi, a, np.zeros(50, dtype=int), 1, 200_000, np.random.default_rng(1))[0]
    assert totals.mean() == pytest.approx((pi * a).sum(), rel=0.01)
    assert totals.std() == pytest.approx(np.sqrt((pi * (1 - pi) * a**2).sum()), rel=0.01)


def test_win_probability_inside_a_window_matches_frequencies():
    rng = np.random.default_rng(3)
    n = 300_000
    won = rng.random(n) < 0.35
    t = np.ceil(np.where(won, rng.exponential(40, n), rng.exponential(80, n)))
    curve = cumulative_incidence(np.zeros(n, int), t, np.where(won, 1, 2))
    for age, start, end in [(10, 20, 110), (0, 0, 90), (45, 0, 30)]:
        still = t > age
        expect = (won & still & (t > age + start) & (t <= age + end)).sum() / still.sum()
        assert win_probability_between(curve, np.array([age]), start, end)[0] == pytest.approx(expect, abs=1e-9)
    assert cif_at(curve, np.array([-1.0, 1e9])).tolist() == [0.0, pytest.approx(won.mean(), abs=1e-9)]


def test_ramp_factor():
    sched = (0.25, 0.5, 0.75, 1.0)
    assert ramp_factor(np.array([0, 2.9, 3, 6, 9, 12, 40, np.nan]), sched).tolist() == [0.25, 0.25, 0.5, 0.75, 1.0, 1.0, 1.0, 1.0]


@pytest.fixture(scope="module")
def fitted(demo_dir):
    ds = analysis.load(demo_dir, as_of=AS_OF)
    return ds, PipelineForecaster(draws=500, seed=3).fit(ds.as_of("2026-06-30"))


def test_levels_are_sums_of_the_same_draws(fitted):
    _, f = fitted
    d = f.predict("next")
    assert d.period == "2026Q3"
    company = d.by("company")[1][0]
    for level in ("team", "segment"):
        np.testing.assert_allclose(d.by(level)[1].sum(axis=0), company, rtol=1e-12)
    reps = d.by("rep")[1].sum(axis=0)
    left = d.draws[~d.cells["active"].to_numpy()].sum(axis=0)
    np.testing.assert_allclose(reps + left, company, rtol=1e-12)
    t = d.table()
    assert list(t.columns) == ["level", "group", "period", "mean", "p10", "p50", "p90", "method"]
    assert ((t.p10 <= t.p50) & (t.p50 <= t.p90) & (t.p10 >= 0)).all()
    long = d.rep_draws()
    assert set(long.columns) == {"rep_id", "draw", "bookings"} and long.draw.nunique() == 500


def test_leavers_get_no_forecast_and_hires_ramp(fitted):
    ds, f = fitted
    d = f.predict("next")
    snap = ds.as_of("2026-06-30")
    left = set(snap.reps.loc[snap.reps.end_date.notna(), "rep_id"])
    reps = set(d.by("rep")[0])
    assert left and not (left & reps) and LEFT not in reps
    active = set(snap.active_reps()["rep_id"])
    assert reps <= active
    exp = f.new_deal_expectations("2026Q3").set_index("rep_id")
    assert (exp.loc[list(left & set(exp.index)), "m"] == 0).all()
    # A hire in their first quarter is expected to bring in less than a ramped peer of the same team.
    hires = exp[(exp.tenure_months < 6) & exp.active]
    compared = 0
    for _, row in hires.iterrows():
        peers = exp[(exp.team == row.team) & (exp.tenure_months > 24) & exp.active]
        if len(peers):
            assert row.m < peers.m.median()
            compared += 1
    assert compared >= 1


def test_forecast_is_the_same_from_full_history_or_from_data_up_to_the_cutoff(demo_dir, tmp_path):
    """docs/methods.md check 15b: the forecast at a cutoff sees nothing after it."""
    cutoff = "2026-03-31"
    full = analysis.load(demo_dir, as_of=AS_OF).as_of(cutoff)
    demo.write(full.tables, tmp_path)  # an extract taken on the cutoff date
    then = analysis.load(tmp_path, as_of=cutoff)
    a = PipelineForecaster(draws=300, seed=7).fit(full).predict("next")
    b = PipelineForecaster(draws=300, seed=7).fit(then).predict("next")
    pd.testing.assert_frame_equal(a.cells, b.cells)
    np.testing.assert_allclose(a.draws, b.draws, rtol=0, atol=1e-9)


def test_same_seed_same_draws(fitted):
    _, f = fitted
    np.testing.assert_array_equal(f.predict("next").draws, f.predict("next").draws)


def test_check15a_scoring():
    from analysis.backtest import naive_scale, pinball

    y = np.random.default_rng(15).standard_normal(100_000)
    grid = np.arange(1.0, 1.6, 0.005)
    losses = [pinball(y, q, 0.9).mean() for q in grid]
    assert grid[int(np.argmin(losses))] == pytest.approx(1.28, abs=0.02)
    assert ((y >= -1.2816) & (y <= 1.2816)).mean() == pytest.approx(0.80, abs=0.01)
    series = pd.Series(np.random.default_rng(1).gamma(5, 100, 24))
    naive = series.shift(4)
    assert np.mean(np.abs(series - naive)[4:]) / naive_scale(series) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.slow
def test_backtest_table_and_scores(demo_dir):
    from analysis.backtest import backtest, scores

    ds = analysis.load(demo_dir, as_of=AS_OF)
    bt = backtest(ds, n=3, levels=("company", "team"), make=lambda: PipelineForecaster(draws=300, seed=0))
    assert list(bt.columns) == ["cutoff", "level", "group", "period", "actual", "mean", "p10", "p50", "p90", "scale"]
    assert bt.cutoff.nunique() == 3 and set(bt.period) == {"2026Q1", "2026Q2", "2026Q3"}
    o = ds.opportunities
    won = o[(o.status == "won") & (o.close_date >= "2026-04-01") & (o.close_date <= "2026-06-30")]
    assert bt[(bt.level == "company") & (bt.period == "2026Q2")].actual.iloc[0] == pytest.approx(won.amount.sum())
    s = scores(bt).set_index("level")
    assert set(s.index) == {"company", "team"} and (s["coverage_80"].between(0, 1)).all() and (s["mase"] > 0).all()


def test_calibration_table_and_reliability_by_hand(demo_dir):
    from analysis.backtest import calibration
    from analysis.reliability import reliability

    ds = analysis.load(demo_dir, as_of=AS_OF)
    cal = calibration(ds, n=3)
    assert set(cal.columns) == {
        "cutoff",
        "period",
        "opportunity_id",
        "segment",
        "age_days",
        "amount",
        "pi",
        "won",
        "stage",
        "stage_days",
        "cycle_days",
        "amount_rel",
        "owner_ratio",
    }
    assert cal.pi.between(0, 1).all() and cal.cutoff.nunique() == 3
    # A deal marked won here was won inside the quarter after its cutoff, by the full data.
    o = ds.opportunities.set_index("opportunity_id")
    row = cal[cal.won].iloc[0]
    start, end = analysis.calendar.period_bounds(row.period)
    assert o.loc[row.opportunity_id, "status"] == "won" and start <= o.loc[row.opportunity_id, "close_date"] <= end
    toy = pd.DataFrame({"pi": [0.1, 0.1, 0.4, 0.4], "won": [False, True, False, False]})
    r = reliability(toy, edges=(0, 0.2, 1)).set_index("bin")
    first, second = r.iloc[0], r.iloc[1]
    assert first.deals == 2 and first.predicted == pytest.approx(0.1) and first.observed == pytest.approx(0.5)
    assert first.z == pytest.approx((0.5 - 0.1) * 2 / np.sqrt(2 * 0.1 * 0.9))
    assert second.brier == pytest.approx(0.16) and second.observed == 0


def test_recalibration_learns_from_the_past_only_and_fixes_zombie_deals(demo_dir, tmp_path):
    """Seeded truth: 400 stale deals that never close are added across the history. The plain model keeps giving
    them a chance; the recalibrated one learns from earlier quarter ends that such deals are not won."""
    from analysis.backtest import calibration

    folder = tmp_path / "zombies"
    demo.write(demo.generate(seed=3, reps=12, years=2, as_of=AS_OF), folder)
    opps = pd.read_csv(folder / "opportunities.csv", dtype=str, keep_default_na=False)
    rng = np.random.default_rng(5)
    reps = pd.read_csv(folder / "reps.csv", parse_dates=["hire_date"])
    owners = reps.loc[reps.hire_date <= "2024-11-15", "rep_id"].to_numpy()  # hired before their stale deals began
    created = pd.to_datetime("2024-11-15") + pd.to_timedelta(rng.integers(0, 700, 400), unit="D")
    zombies = pd.DataFrame(
        {
            "opportunity_id": [f"Z{i:05d}" for i in range(400)],
            "owner_id": rng.choice(owners, 400),
            "created_date": created.strftime("%Y-%m-%d"),
            "close_date": "",
            "status": "open",
            "amount": "20000",
            "segment": "SMB",
        }
    )
    pd.concat([opps, zombies], ignore_index=True).fillna("").to_csv(folder / "opportunities.csv", index=False)
    ds = analysis.load(folder, as_of=AS_OF)
    plain = calibration(ds, n=2, make=lambda: PipelineForecaster(draws=10))
    fixed = calibration(ds, n=2, make=lambda: PipelineForecaster(draws=10, recalibrate=3))
    gap_plain = abs(plain.pi.sum() - plain.won.sum()) / plain.won.sum()
    gap_fixed = abs(fixed.pi.sum() - fixed.won.sum()) / fixed.won.sum()
    assert gap_fixed < gap_plain
    z = fixed.opportunity_id.str.startswith("Z")
    assert fixed[z].pi.sum() < 0.8 * plain[plain.opportunity_id.str.startswith("Z")].pi.sum()  # the stale deals lose chance
    # Nothing leaks: the recalibrated forecast is the same from the full history or an extract taken at the cutoff.
    cutoff = "2026-06-30"
    full = ds.as_of(cutoff)
    demo.write(full.tables, tmp_path / "then")
    then = analysis.load(tmp_path / "then", as_of=cutoff)
    a = PipelineForecaster(draws=200, seed=2, recalibrate=3).fit(full).predict("next")
    b = PipelineForecaster(draws=200, seed=2, recalibrate=3).fit(then).predict("next")
    np.testing.assert_allclose(a.draws, b.draws, atol=1e-9)


def test_chance_of_reaching_targets_is_read_from_the_same_draws(demo_dir):
    from analysis.draws import versus_target

    ds = analysis.load(demo_dir, as_of=AS_OF)
    sims = PipelineForecaster(draws=400, seed=1).fit(ds).predict("next")
    company, teams = ds.targets_for(sims.period)
    assert company is not None and len(teams)
    reach = versus_target(sims, company, teams).set_index("group")
    total = sims.draws.sum(axis=0)
    assert reach.loc["all", "p_reach"] == pytest.approx((total >= company).mean())
    team, target = teams.index[0], teams.iloc[0]
    in_team = (sims.cells["team"] == team).to_numpy()
    assert reach.loc[team, "p_reach"] == pytest.approx((sims.draws[in_team].sum(axis=0) >= target).mean())
    assert versus_target(sims, None, None).empty


def test_months_add_up_to_their_quarter_and_a_quarter_under_way_counts_its_bookings(demo_dir):
    ds = analysis.load(demo_dir, as_of=AS_OF)
    f = PipelineForecaster(draws=50, seed=0).fit(ds)
    for quarter in ("2027Q1", "2026Q4"):  # one ahead, one under way on the as-of date (2026-11-15)
        months = analysis.calendar.months_of(quarter)
        assert sum(f.open_deal_probabilities(m).pi.sum() for m in months) == pytest.approx(
            f.open_deal_probabilities(quarter).pi.sum(), rel=1e-9
        )
        assert sum(f.new_deal_expectations(m).m.sum() for m in months) == pytest.approx(f.new_deal_expectations(quarter).m.sum(), rel=1e-9)
    o = ds.opportunities
    so_far = o[(o.status == "won") & o.close_date.between("2026-10-01", AS_OF)]
    assert f.booked("2026Q4").amount.sum() == pytest.approx(so_far.amount.sum()) and len(so_far)
    now = f.predict("2026Q4")
    from analysis import summary

    text = summary.nowcast_sentence(now.table(["company"]), f)
    assert text.startswith(f"**2026Q4, under way:** {summary.money(so_far.amount.sum())} booked by 15 November 2026")
    assert summary.nowcast_sentence(now.table(["company"]).assign(period="2027Q1"), f) == ""  # no quarter under way in it
    assert now.draws.sum(axis=0).min() >= so_far.amount.sum()
    assert now.by("rep")[1].min(axis=1).sum() >= so_far[so_far.owner_id.isin(ds.active_reps().rep_id)].amount.sum() - 1e-6
    # On the quarter's last day nothing is left to forecast: every draw is what was booked.
    end = PipelineForecaster(draws=20).fit(ds.as_of("2026-09-30")).predict("2026Q3").draws.sum(axis=0)
    booked = o[(o.status == "won") & o.close_date.between("2026-07-01", "2026-09-30")].amount.sum()
    np.testing.assert_allclose(end, booked)


@pytest.mark.shared
@pytest.mark.slow
def test_maven_q4_2017_from_september_and_its_backtest():
    """Real data: Maven's CRM extract. Forecast 2017Q4 from 2017-09-30 seeing nothing later, and replay the three
    quarters the data allow. Maven zeroes lost deals' amounts and keeps no stage history: neither may be learned
    from. Its deals sit open long after a curve expects them to close, which the recalibration corrects."""
    from analysis.backtest import backtest, scores
    from helpers import shared_dataset

    ds = analysis.load(shared_dataset("maven_crm"), mapping="maven", as_of="2017-12-31")
    then = ds.as_of("2017-09-30")
    fitted = PipelineForecaster(draws=1000, recalibrate=4).fit(then)
    assert set(fitted.features_left_out_) == {"stage", "log_stage_days", "log_amount"}
    q4 = fitted.predict("2017Q4").table(["company"]).iloc[0]
    o = ds.opportunities
    actual = o[(o.status == "won") & o.close_date.between("2017-10-01", "2017-12-31")].amount.sum()
    assert q4.p10 < q4.p50 < q4.p90 and 0.7 < q4.p50 / actual < 1.4
    plain = scores(backtest(ds, n=3, make=lambda: PipelineForecaster(draws=500))).set_index("level")
    fixed = scores(backtest(ds, n=3, make=lambda: PipelineForecaster(draws=500, recalibrate=4))).set_index("level")
    assert plain.loc["company", "bias"] > 0.1  # the plain curves over-forecast: stale deals
    assert abs(fixed.loc["company", "bias"]) < plain.loc["company", "bias"] / 2
    assert fixed.loc["team", "mase"] < plain.loc["team", "mase"]


def test_estimators_have_scikit_learn_manners(demo_dir):
    """Settings in __init__ (get_params / clone copy every one), learned attributes set on every path of fit, and
    predict that changes nothing."""
    from sklearn.base import clone

    from analysis.activity_model import ActivityForecaster
    from analysis.quota import QuotaRecommender
    from analysis.series import SeriesForecaster

    f = PipelineForecaster(draws=50, seed=3, tail=False, recalibrate=2, window_days=500)
    copy = clone(f)
    assert copy is not f and copy.get_params() == f.get_params()
    assert set(PipelineForecaster().get_params()) >= {
        "draws",
        "seed",
        "window_days",
        "rate_days",
        "ramp_schedule",
        "shock_sd",
        "min_at_risk",
        "measure",
        "recalibrate",
        "seasonality",
        "owner_effect",
        "learn_ramp",
        "tail",
        "uncertainty",
        "segment_mix",
    }
    for est in (ActivityForecaster(draws=7), SeriesForecaster(draws=9), QuotaRecommender(overassignment=0.2)):
        assert clone(est).get_params() == est.get_params()
    ds = analysis.load(demo_dir, as_of=AS_OF)
    plain = PipelineForecaster(draws=50).fit(ds)
    assert plain.features_left_out_ == {} and plain.calibrator_ is None  # set on the path without recalibration too
    before = {k: (id(v), v if np.isscalar(v) else None) for k, v in vars(plain).items()}
    first = plain.predict("next").draws
    assert {k: (id(v), v if np.isscalar(v) else None) for k, v in vars(plain).items()} == before, "predict changed the model"
    np.testing.assert_array_equal(plain.predict("next").draws, first)  # and gives the same draws again
    series = SeriesForecaster(draws=100).fit(ds)
    state = dict(vars(series))
    series.predict("2027Q1")
    assert dict(vars(series)).keys() == state.keys() and all(vars(series)[k] is v for k, v in state.items())


def test_lognormal_sums_are_the_sums_of_each_deal_drawn_in_row_and_draw_order():
    from analysis.pipeline_model import lognormal_sums

    counts = np.array([[0, 3, 1], [2, 0, 0], [5, 4, 6], [0, 0, 0], [1, 1, 1]])
    sigma = np.array([0.5, 1.5, 0.5, np.nan, 1.0])
    # The plain way: every deal's normal in (row, draw) order, exp(σ z), summed per cell.
    z = np.random.default_rng(3).standard_normal(int(counts.sum()))
    per_deal = np.exp(z * np.repeat(sigma, counts.sum(axis=1)))
    want = np.zeros(counts.size)
    at = 0
    for cell, n in enumerate(counts.ravel()):
        want[cell] = per_deal[at : at + n].sum()
        at += n
    want = want.reshape(counts.shape)
    for chunk in (1, 4, 7, 1000):  # blocks of rows of at most about ``chunk`` deals: the same numbers
        got = lognormal_sums(np.random.default_rng(3), counts, sigma, chunk=chunk)
        np.testing.assert_allclose(got, want, rtol=1e-12)
        assert (got[counts == 0] == 0).all()
