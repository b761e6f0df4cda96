"""The synthetic company is reproducible and has the structure it claims (known truths of the simulation)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import calendar, demo
from helpers import AS_OF


@pytest.fixture(scope="module")
def company() -> dict[str, pd.DataFrame]:
    return demo.generate(seed=11, reps=60, years=3, as_of=AS_OF)


def test_same_seed_same_data_other_seed_other_data():
    a = demo.generate(seed=4, reps=10, years=1, as_of=AS_OF)
    b = demo.generate(seed=4, reps=10, years=1, as_of=AS_OF)
    c = demo.generate(seed=5, reps=10, years=1, as_of=AS_OF)
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], obj=name)
    assert not a["opportunities"].equals(c["opportunities"])


def test_segments_differ_in_size_cycle_and_win_rate(company):
    o = company["opportunities"]
    closed = o[o.status != "open"]
    won = closed[closed.status == "won"]
    size = won.groupby("segment")["amount"].median()
    assert size["SMB"] < size["Mid-Market"] < size["Enterprise"]
    cycle = (won.close_date - won.created_date).dt.days.groupby(won.segment).median()
    assert cycle["SMB"] < cycle["Mid-Market"] < cycle["Enterprise"]
    for seg in demo.SEGMENTS:  # each segment's won deal size is near its set median (skill shifts it a little)
        assert size[seg.name] == pytest.approx(seg.deal_median, rel=0.25)
    # Eventual win rate of mature cohorts (created more than a year before the as-of date) near the set rate.
    mature = o[o.created_date < pd.Timestamp(AS_OF) - pd.Timedelta(days=365)]
    rate = (mature.status == "won").groupby(mature.segment).mean()
    for seg in demo.SEGMENTS:
        assert rate[seg.name] == pytest.approx(seg.win_rate, abs=0.06)


def test_lost_deals_close_on_their_own_clock(company):
    o = company["opportunities"]
    days = (o.close_date - o.created_date).dt.days
    smb = o.segment == "SMB"
    won_med = days[smb & (o.status == "won")].median()
    lost_med = days[smb & (o.status == "lost")].median()
    assert lost_med > 1.3 * won_med


def test_quarter_end_rush(company):
    o = company["opportunities"]
    won = o[o.status == "won"]
    _, end = zip(*[calendar.period_bounds(p) for p in calendar.period_of(won.close_date)], strict=True)
    to_end = (pd.DatetimeIndex(end) - pd.DatetimeIndex(won.close_date)).days
    start = pd.DatetimeIndex(won.close_date).to_period("Q").start_time
    from_start = (pd.DatetimeIndex(won.close_date) - start).days
    assert (to_end < 7).sum() > 2 * (from_start < 7).sum()


def test_deals_only_while_employed_and_hires_ramp(company):
    o, reps = company["opportunities"], company["reps"].set_index("rep_id")
    hire, end = o.owner_id.map(reps.hire_date), o.owner_id.map(reps.end_date)
    assert not (o.created_date < hire).any() and not (o.created_date >= end).any()
    assert reps.end_date.notna().sum() >= 5 and (reps.hire_date > pd.Timestamp(AS_OF) - pd.Timedelta(days=180)).sum() >= 2
    # Hires with 13 full months inside the window: the same exposure at every tenure month.
    first = pd.Timestamp(AS_OF) - pd.DateOffset(years=3)
    stay = reps.end_date.fillna(pd.Timestamp(AS_OF))
    hires = reps[(reps.hire_date > first) & (reps.hire_date + pd.DateOffset(months=13) <= stay)]
    assert len(hires) >= 5
    x = o[o.owner_id.isin(hires.index)]
    tenure = (x.created_date - x.owner_id.map(hires.hire_date)).dt.days // 30
    per_month = tenure.value_counts().reindex(range(13), fill_value=0)
    assert per_month[0] < 0.6 * per_month[8:13].mean()  # ramping: first month well below ramped output
    assert per_month[8:13].mean() == pytest.approx(per_month[6:13].mean(), rel=0.2)  # ramped: flat


def test_monthly_seasonality(company):
    o = company["opportunities"]
    by_month = o.groupby(o.created_date.dt.month).size()
    assert by_month[8] < by_month[1] and by_month[12] < by_month[1]


def test_open_pipeline_stage_history_and_leads_are_consistent(company):
    o, h, leads = company["opportunities"], company["stage_history"], company["leads"]
    assert (o.status == "open").sum() > 0.03 * len(o)
    assert o.loc[o.status == "open", "close_date"].isna().all() and o.loc[o.status == "open", "expected_close_date"].notna().all()
    last = h.drop_duplicates("opportunity_id", keep="last").set_index("opportunity_id")
    closed = o[o.status != "open"].set_index("opportunity_id")
    assert (last.loc[closed.index, "stage"] == np.where(closed.status == "won", "Closed Won", "Closed Lost")).all()
    assert (last.loc[closed.index, "entered_date"] == closed.close_date).all()
    assert (h.groupby("opportunity_id")["entered_date"].diff().dropna() >= pd.Timedelta(0)).all()
    assert (o.set_index("opportunity_id").stage == last.stage.reindex(o.opportunity_id).to_numpy()).all()
    conv = leads.dropna(subset=["opportunity_id"]).merge(o, on="opportunity_id", suffixes=("_lead", ""))
    assert len(conv) == leads.opportunity_id.notna().sum() and (conv.created_date_lead <= conv.created_date).all()
    assert leads.opportunity_id.notna().mean() == pytest.approx(demo.LEAD_CONVERSION, abs=0.05)


def test_spend_quotas_goals_and_targets(company):
    spend, quotas, goals, targets, reps = (company[k] for k in ("spend", "quotas", "goals", "targets", "reps"))
    months = spend.groupby("month")["category"].agg(set)
    assert (months.map(len) == 2).all() and len(months) >= 35
    nxt = calendar.next_period(AS_OF)
    assert set(goals.period) == {nxt} and set(goals.rep_id) <= set(reps[reps.end_date.isna()].rep_id)
    company_target = targets[(targets.period == nxt) & targets.team.isna()].target.iloc[0]
    team_targets = targets[(targets.period == nxt) & targets.team.notna()].target
    assert team_targets.sum() == pytest.approx(company_target, rel=0.01)
    assert nxt not in set(quotas.period) and (quotas.quota >= 0).all()
