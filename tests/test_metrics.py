"""The metrics table: against independent computations, docs/methods.md checks 9, 11, 12, edge cases, invariances."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

import analysis
from analysis import demo
from analysis.metrics import cac_payback_months, definitions, expected_attainment, ltv, metrics_table, required_coverage, velocity
from helpers import AS_OF, shared_dataset

DESCRIPTIVE = ["bookings", "won_deals", "lost_deals", "win_rate", "avg_deal_size", "median_deal_size", "median_cycle_days", "new_customers"]


def _quarter(d: date, fy_start: int = 1) -> str:
    """Independent fiscal-quarter label (fiscal year named by the year it ends)."""
    shifted = (d.month - fy_start) % 12
    year = d.year + (1 if fy_start > 1 and d.month >= fy_start else 0)
    return f"{year}Q{shifted // 3 + 1}"


def independent_descriptive(ds) -> dict[tuple, float]:
    """Plain-Python version of the closed-in-period metrics, from the rows as records."""
    team = {r["rep_id"]: r["team"] for r in ds.reps.to_dict("records")}
    acc: dict[tuple, dict] = defaultdict(lambda: {"won": 0, "lost": 0, "amounts": [], "cycles": [], "new": 0})
    for r in ds.opportunities.to_dict("records"):
        if r["status"] == "open":
            continue
        period = _quarter(r["close_date"].date(), ds.fiscal_year_start)
        keys = [
            ("company", "all"),
            ("team", team.get(r["owner_id"], "unassigned")),
            ("segment", r["segment"]),
            ("rep", r["owner_id"]),
            ("lead_source", r["lead_source"]),
        ]
        for dim, grp in keys:
            a = acc[(dim, grp, period)]
            if r["status"] == "won":
                a["won"] += 1
                a["amounts"].append(r["amount"])
                a["cycles"].append((r["close_date"] - r["created_date"]).days)
                a["new"] += r["type"] == "new"
            else:
                a["lost"] += 1
    out = {}
    for (dim, grp, period), a in acc.items():
        k = (dim, grp, period)
        out[("bookings", *k)] = sum(a["amounts"])
        out[("won_deals", *k)] = a["won"]
        out[("lost_deals", *k)] = a["lost"]
        out[("win_rate", *k)] = a["won"] / (a["won"] + a["lost"])
        out[("new_customers", *k)] = a["new"]
        if a["amounts"]:
            out[("avg_deal_size", *k)] = sum(a["amounts"]) / len(a["amounts"])
            out[("median_deal_size", *k)] = statistics.median(a["amounts"])
            out[("median_cycle_days", *k)] = statistics.median(a["cycles"])
    return out


def _check_descriptive(ds, table: pd.DataFrame) -> None:
    expected = independent_descriptive(ds)
    got = table[table.metric.isin(DESCRIPTIVE)].set_index(["metric", "dimension", "group", "period"])["value"]
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-9), key
    # Nothing reported that the independent computation did not find, except defined zero/undefined rows.
    extra = got[~got.index.isin(list(expected))]
    assert ((extra == 0) | extra.isna()).all()


@pytest.fixture(scope="module")
def demo_ds(demo_dir):
    return analysis.load(demo_dir, as_of=AS_OF)


@pytest.fixture(scope="module")
def demo_table(demo_ds):
    return metrics_table(demo_ds)


def test_descriptive_metrics_match_an_independent_computation_on_demo_data(demo_ds, demo_table):
    _check_descriptive(demo_ds, demo_table)


@pytest.mark.shared
def test_descriptive_metrics_on_maven():
    ds = analysis.load(shared_dataset("maven_crm"), mapping="maven", as_of="2018-01-01")
    table = metrics_table(ds)
    _check_descriptive(ds, table)
    c = table[(table.dimension == "company")].set_index(["metric", "period"])["value"]
    assert c[("bookings", "2017Q4")] > 0 and c[("won_deals", "2017Q1")] > 0
    # Reps without deals still get a defined row: zero bookings, "no closed deals".
    carl = table[(table.dimension == "rep") & (table.group == "Carl Lin") & (table.period == "2017Q2")].set_index("metric")
    assert (
        carl.loc["bookings", "value"] == 0 and np.isnan(carl.loc["win_rate", "value"]) and carl.loc["win_rate", "note"] == "no closed deals"
    )
    # Censoring-aware beside naive for a cohort with open deals: the naive rate overstates.
    cohort = table[(table.dimension == "company") & (table.period == "2017Q3")].set_index("metric")
    assert cohort.loc["win_rate_cohort_naive", "value"] > cohort.loc["win_rate_cohort", "value"]


def test_table_shape_and_every_metric_is_defined(demo_table):
    assert list(demo_table.columns) == ["metric", "dimension", "group", "period", "value", "n", "lower", "upper", "note"]
    assert set(demo_table.dimension) == {"company", "team", "segment", "rep", "lead_source"}
    defined = set(definitions().metric)
    assert set(demo_table.metric) <= defined
    assert {
        "win_rate_cohort",
        "cycle_days_cohort",
        "win_rate_shrunk",
        "avg_deal_size_shrunk",
        "velocity",
        "cac",
        "cac_lagged",
        "quota_attainment",
        "attainment_rate",
        "consecutive_misses",
        "pipeline_coverage",
        "required_coverage",
        "lead_conversion",
        "stage_conversion",
        "stage_conversion_censored",
    } <= set(demo_table.metric)
    assert not (demo_table.value.isna() & demo_table.note.eq("")).any()  # never silently empty
    has = demo_table.lower.notna()
    assert (demo_table.lower[has] <= demo_table.value[has] + 1e-9).all() and (demo_table.value[has] <= demo_table.upper[has] + 1e-9).all()


def test_attainment_and_consecutive_misses_by_hand(demo_ds, demo_table):
    q = demo_ds.quotas
    won = demo_ds.opportunities[demo_ds.opportunities.status == "won"]
    rep = q.rep_id.iloc[0]
    rows = demo_table[(demo_table.metric == "quota_attainment") & (demo_table.group == rep)].set_index("period")["value"]
    streak = 0
    misses = demo_table[(demo_table.metric == "consecutive_misses") & (demo_table.group == rep)].set_index("period")["value"]
    for period, quota in q[q.rep_id == rep].sort_values("period")[["period", "quota"]].itertuples(index=False):
        booked = won[(won.owner_id == rep) & (won.close_date.map(lambda d: _quarter(d.date())) == period)].amount.sum()
        assert rows[period] == pytest.approx(booked / quota)
        streak = streak + 1 if booked < quota else 0
        assert misses[period] == streak
    share = demo_table[(demo_table.metric == "attainment_rate") & (demo_table.dimension == "company")].set_index("period")["value"]
    att = demo_table[demo_table.metric == "quota_attainment"]
    for period, value in share.items():
        assert value == pytest.approx((att[att.period == period].value >= 1).mean())


def test_check9_velocity_is_littles_law():
    results = []
    for seed in range(3):
        rng = np.random.default_rng(seed)
        days = 1500
        n = rng.poisson(20 * days)
        created = np.sort(rng.uniform(0, days, n))
        won = rng.random(n) < 0.3
        dur = np.where(won, rng.exponential(60, n), rng.exponential(120, n))
        day0 = pd.Timestamp("2020-01-01")
        as_of = day0 + pd.Timedelta(days=days)
        close = day0 + pd.to_timedelta(np.round(created + dur), unit="D")
        opps = pd.DataFrame(
            {
                "created_date": day0 + pd.to_timedelta(np.round(created), unit="D"),
                "close_date": close.where(close <= as_of),
                "status": np.where(close <= as_of, np.where(won, "won", "lost"), "open"),
                "amount": rng.exponential(10_000, n),
            }
        )
        v = velocity(opps, as_of)
        results.append(v["velocity"])
        assert v["days_in_pipeline"] == pytest.approx(102, rel=0.05)
        won_len = (opps.close_date - opps.created_date).dt.days[opps.status == "won"].mean()
        assert v["n_open"] * v["win_rate"] * v["deal_size"] / won_len / v["velocity"] == pytest.approx(1.7, abs=0.15)
    for value in results:
        assert value == pytest.approx(60_000, rel=0.05)


def test_check11_coverage():
    assert required_coverage(0.22) == pytest.approx(4.545, abs=1e-3)
    assert required_coverage(1 / 3) == pytest.approx(3.0)
    assert expected_attainment(4.8e6, 0.22, 1.6e6) == pytest.approx(0.66)


def _write_tables(folder: Path, **tables: pd.DataFrame) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


def test_check12_cac_lag_and_payback(tmp_path):
    spend_months = pd.period_range("2025-01", "2025-05", freq="M")
    spend_total = [10_000_000, 11_000_000, 12_100_000, 13_310_000, 14_641_000]  # grows 10 % a month
    customers = {"2025-02": 1000, "2025-03": 1100, "2025-04": 1210, "2025-05": 1331}  # one month after the spend
    rows = []
    for month, n in customers.items():
        for i in range(n):
            rows.append(
                {
                    "opportunity_id": f"{month}-{i}",
                    "owner_id": "r1",
                    "account_id": f"{month}-{i}",
                    "created_date": f"{month}-01",
                    "close_date": f"{month}-15",
                    "status": "won",
                    "amount": 100,
                    "type": "new",
                }
            )
    rows.append(
        {
            "opportunity_id": "lost-jan",
            "owner_id": "r1",
            "account_id": "q",
            "created_date": "2025-01-05",
            "close_date": "2025-01-20",
            "status": "lost",
            "amount": 5,
            "type": "new",
        }
    )
    spend = pd.DataFrame(
        {
            "month": [str(m) for m in spend_months for _ in (0, 1)],
            "category": ["marketing", "sales"] * 5,
            "channel": "all",
            "amount": [v * s for v in spend_total for s in (0.3, 0.7)],
        }
    )
    folder = _write_tables(tmp_path, opportunities=pd.DataFrame(rows), reps=pd.DataFrame({"rep_id": ["r1"]}), spend=spend)
    ds = analysis.load(folder, as_of="2025-06-30")
    table = metrics_table(ds, freq="M", cac_lag_months=1, gross_margin=0.8, revenue_per_customer=1000)
    c = table[table.dimension == "company"].set_index(["metric", "period"])
    for month in customers:
        assert c.loc[("cac_lagged", month), "value"] == pytest.approx(10_000, abs=1e-9)
        assert c.loc[("cac", month), "value"] == pytest.approx(11_000, abs=1e-9)
        assert c.loc[("cac_paid", month), "value"] == pytest.approx(3_300, abs=1e-9)
    assert c.loc[("cac", "2025-01"), "note"] == "undefined: no new customers"
    assert cac_payback_months(12_000, 1_000, 0.8) == pytest.approx(15.0)
    assert ltv(1_000, 0.8, 0.02) == pytest.approx(40_000) and ltv(1_000, 0.8, 0.02) / 12_000 == pytest.approx(3.33, abs=0.01)
    assert cac_payback_months(c.loc[("cac", "2025-03"), "value"], 1000, 0.8) == c.loc[("cac_payback_months", "2025-03"), "value"]


def test_edge_cases_give_defined_answers(tmp_path):
    opps = pd.DataFrame(
        {
            "opportunity_id": ["a", "b", "c"],
            "owner_id": ["r1", "r1", "r1"],
            "created_date": ["2025-01-10", "2025-02-10", "2025-07-01"],
            "close_date": ["2025-02-01", "2025-03-01", ""],
            "status": ["won", "lost", "open"],
            "amount": ["100", "", "50"],
            "account_id": ["x", "y", "z"],
            "type": ["expansion", "new", "new"],
        }
    )
    spend = pd.DataFrame(
        {"month": ["2025-01", "2025-03"], "category": ["marketing", "sales"], "channel": ["all", "all"], "amount": [10, 20]}
    )
    folder = _write_tables(tmp_path, opportunities=opps, reps=pd.DataFrame({"rep_id": ["r1", "r2"]}), spend=spend)
    table = metrics_table(analysis.load(folder, as_of="2025-08-15"))
    get = table.set_index(["metric", "dimension", "group", "period"])
    # A quarter with no closed deals: zero counts, rates undefined and said so.
    assert get.loc[("bookings", "company", "all", "2025Q2"), "value"] == 0
    assert np.isnan(get.loc[("win_rate", "company", "all", "2025Q2"), "value"])
    assert get.loc[("win_rate", "company", "all", "2025Q2"), "note"] == "no closed deals"
    # A rep with no deals at all.
    assert get.loc[("bookings", "rep", "r2", "2025Q1"), "value"] == 0
    assert get.loc[("median_deal_size", "rep", "r2", "2025Q1"), "note"] == "no closed deals"
    # No new customers: CAC undefined, flagged; spend missing for a month: flagged with the month.
    assert get.loc[("cac", "company", "all", "2025Q1"), "note"] == "spend missing for 2025-02"
    assert get.loc[("cac", "company", "all", "2025Q2"), "note"].startswith("spend missing for 2025-04")
    assert "partial period" in get.loc[("bookings", "company", "all", "2025Q3"), "note"]


@settings(max_examples=5, deadline=None, phases=[Phase.generate])  # each example is a full table: no shrinking
@given(seed=st.integers(0, 1000))
def test_metrics_do_not_change_when_rows_are_shuffled(seed, demo_ds, demo_table):
    shuffled = replace(demo_ds, tables={k: v.sample(frac=1, random_state=seed).reset_index(drop=True) for k, v in demo_ds.tables.items()})
    other = metrics_table(shuffled)
    key = ["metric", "dimension", "group", "period"]
    a = demo_table.sort_values(key).reset_index(drop=True)
    b = other.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9)


def test_a_snapshot_gives_the_same_past_quarter_metrics_as_a_run_on_that_date(demo_ds, tmp_path):
    cutoff = "2025-09-30"
    snap = demo_ds.as_of(cutoff)
    folder = tmp_path / "then"
    demo.write(snap.tables, folder)  # what an extract taken that day would have held
    then = analysis.load(folder, as_of=cutoff)
    a, b = metrics_table(snap), metrics_table(then)
    key = ["metric", "dimension", "group", "period"]
    pd.testing.assert_frame_equal(
        a.sort_values(key).reset_index(drop=True), b.sort_values(key).reset_index(drop=True), check_exact=False, rtol=1e-9
    )
    # Past quarters' closed-deal metrics do not move when later data arrives.
    full = metrics_table(demo_ds)
    past = lambda t: t[t.metric.isin(DESCRIPTIVE) & (t.period <= "2025Q3") & (t.dimension != "rep")].set_index(key)["value"]  # noqa: E731
    pd.testing.assert_series_equal(past(a).sort_index(), past(full).reindex(past(a).index).sort_index(), check_exact=False, rtol=1e-9)


def test_censored_stage_conversion_matches_statsmodels_multi_cause(demo_ds, demo_table):
    from statsmodels.duration.survfunc import CumIncidenceRight

    from analysis.stages import order_stage_history

    sh = order_stage_history(demo_ds.stage_history, demo_ds.opportunities)
    sh = sh.assign(to=sh.groupby("opportunity_id")["stage"].shift(-1), left=sh.groupby("opportunity_id")["entered_date"].shift(-1))
    d = sh[(sh.stage == "Discovery") & (sh.entered_date.map(lambda x: _quarter(x.date())) == "2026Q1")]
    time = ((d.left.fillna(demo_ds.as_of_date) - d.entered_date).dt.days).to_numpy(dtype=float)
    targets = sorted(d.to.dropna().unique())
    status = d.to.map({t: i + 1 for i, t in enumerate(targets)}).fillna(0).to_numpy(dtype=int)
    ref = CumIncidenceRight(time, status)
    threshold = max(min(50, np.ceil(0.05 * len(d))), 1)
    at_risk = np.array([(time >= t).sum() for t in ref.times])
    t_star = ref.times[at_risk >= threshold].max()
    got = demo_table[(demo_table.metric == "stage_conversion_censored") & (demo_table.period == "2026Q1")].set_index("group")["value"]
    for i, target in enumerate(targets):
        expect = ref.cinc[i][ref.times <= t_star][-1]
        assert got[f"Discovery → {target}"] == pytest.approx(expect, abs=1e-12)


@pytest.mark.parametrize("dims", [("segment",), ("team",), ("rep",), ("lead_source",), ("company", "rep")])
def test_a_subset_of_dimensions_gives_the_same_rows_as_the_full_table(demo_ds, demo_table, dims):
    sub = metrics_table(demo_ds, dimensions=dims)
    key = ["metric", "dimension", "group", "period"]
    want = demo_table[demo_table.dimension.isin(dims)].set_index(key)["value"].sort_index()
    got = sub[sub.dimension.isin(dims)].set_index(key)["value"].sort_index()
    assert len(got) == len(want) > 0
    np.testing.assert_allclose(got.reindex(want.index).to_numpy(), want.to_numpy(), rtol=1e-12, equal_nan=True)


def test_owner_teams_is_the_owners_team_as_a_categorical():
    from analysis.grouping import owner_teams

    reps = pd.DataFrame({"rep_id": ["r1", "r2", "r3", "r4"], "team": ["West", "East", None, "North"]})
    owner = pd.Series(["r2", "r1", None, "r3", "gone", "r2"], dtype="str")
    got = owner_teams(owner.astype("category"), reps)
    # The plain way: map each deal's owner to a team, unassigned where there is none, then a categorical.
    want = owner.map(reps.set_index("rep_id")["team"]).fillna("unassigned").astype("category")
    assert got.tolist() == want.tolist() == ["East", "West", "unassigned", "unassigned", "unassigned", "East"]
    assert list(got.cat.categories) == list(want.cat.categories) == ["East", "West", "unassigned"]  # North has no deal


@pytest.mark.parametrize("freq", ["Q", "M"])
def test_shrunk_rates_and_sizes_are_each_periods_own(demo_ds, freq):
    """The per-rep shrunk metrics, tallied for every period at once, against each period's closed deals shrunk on
    their own with the public estimators (the way the table first computed them)."""
    from analysis.grouping import period_codes
    from analysis.outcomes import shrunk_metrics
    from analysis.shrinkage import shrink_log_means, shrink_rates

    deals = demo_ds.opportunities[["owner_id", "close_date", "status", "amount"]].copy()
    deals["period_closed"] = period_codes(deals["close_date"], freq, demo_ds.fiscal_year_start)
    deals["owner_id"] = deals["owner_id"].astype("category")
    got = shrunk_metrics(deals, 0.8)
    closed = deals[deals["status"].ne("open") & deals["period_closed"].notna()]
    periods = 0
    for period, frame in closed.groupby("period_closed", observed=True):
        periods += 1
        tally = frame.groupby("owner_id", observed=True)["status"].agg(won=lambda s: int(s.eq("won").sum()), n="size")
        rates = shrink_rates(tally["won"], tally["n"], 0.8)
        mine = got[got["metric"].eq("win_rate_shrunk") & got["period"].eq(str(period))].set_index("group")
        assert list(mine.index) == tally.index.astype(str).tolist()
        for col, want in (("value", "estimate"), ("lower", "lower"), ("upper", "upper")):
            assert np.array_equal(mine[col].to_numpy(), rates[want].to_numpy())
        won = frame[frame["status"].eq("won") & (frame["amount"] > 0)]
        sizes = shrink_log_means(won["owner_id"].astype("str"), won["amount"], 0.8)
        mine = got[got["metric"].eq("avg_deal_size_shrunk") & got["period"].eq(str(period))]
        assert mine["group"].tolist() == sizes["group"].tolist()
        assert np.array_equal(mine["value"].to_numpy(), sizes["estimate"].to_numpy())
        assert np.array_equal(mine["upper"].to_numpy(), sizes["upper"].to_numpy())
    assert periods >= 8 and set(got["metric"]) == {"win_rate_shrunk", "avg_deal_size_shrunk"}


@pytest.mark.parametrize("outcome", ["lost", "won without an amount"])
def test_shrunk_metrics_without_a_priced_win(demo_ds, outcome):
    """Every closed deal lost (a status mapping that finds no wins), or won without an amount: the win rates are
    shrunk, the deal sizes have nothing to stand on and are absent."""
    from analysis.grouping import period_codes
    from analysis.outcomes import shrunk_metrics

    deals = demo_ds.opportunities[["owner_id", "close_date", "status", "amount"]].copy()
    if outcome == "lost":
        deals["status"] = deals["status"].replace("won", "lost")
    else:
        deals["amount"] = deals["amount"].where(deals["status"].ne("won"))
    deals["period_closed"] = period_codes(deals["close_date"], "Q", demo_ds.fiscal_year_start)
    deals["owner_id"] = deals["owner_id"].astype("category")
    got = shrunk_metrics(deals, 0.9)
    assert set(got["metric"]) == {"win_rate_shrunk"} and got["value"].between(0, 1).all()
    if outcome == "lost":
        assert (got["value"] < 0.2).all()  # no win anywhere: every rep's rate is near 0, none is missing
