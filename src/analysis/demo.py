"""A seeded synthetic company in the data contract's format, for the demo report, tests and benchmarks.

What it simulates (parameters in ``SEGMENTS``): segments with different deal sizes, cycle lengths and win
rates; lost deals closing on their own clock; reps with different skill (win rate, deal size) and activity
(creation rate); hires who ramp and reps who leave; monthly seasonality and a quarter-end rush of won deals;
pipeline still open at the as-of date; stage history; marketing and sales spend with leads; past top-down
quotas; reps' own goals and company / team targets for the next quarter. ``dirty=True`` appends a known
number of bad rows of each kind (``DIRTY_ROWS``) as new rows, so each breaks exactly one rule.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.calendar import DAYS_PER_MONTH, next_period, period_bounds, period_of, period_range, quarter_freq


@dataclass(frozen=True)
class Segment:
    name: str
    share: float  # share of teams
    creation_per_month: float  # opportunities per fully ramped rep
    win_rate: float  # eventual win probability of an average rep
    deal_median: float
    deal_sigma: float
    won_days: float  # median days to win
    lost_days: float  # median days to lose
    ramp_months: int


SEGMENTS = (
    Segment("SMB", 0.45, 14.0, 0.32, 6_000, 0.7, 25, 40, 3),
    Segment("Mid-Market", 0.35, 6.0, 0.25, 22_000, 0.7, 55, 70, 4),
    Segment("Enterprise", 0.20, 2.5, 0.20, 80_000, 0.8, 110, 120, 6),
)
SEASON = np.array([1.10, 1.05, 1.00, 1.00, 1.00, 0.95, 0.85, 0.80, 1.00, 1.05, 1.00, 0.80])  # creation by month
STAGES = ("Qualification", "Discovery", "Proposal", "Negotiation")
STAGE_PROBABILITY = (0.10, 0.25, 0.50, 0.75)
SOURCES = ("paid_search", "events", "content", "outbound", "partner")
SOURCE_P = (0.25, 0.15, 0.15, 0.35, 0.10)
MARGIN_RATIO = {"Core": 0.72, "Analytics": 0.80, "Platform": 0.60}  # gross margin / amount by product
MARKETING = {"paid_search": 150.0, "events": 400.0, "content": 100.0}  # cost per lead
LEAD_CONVERSION = 0.20
REP_MONTHLY_COST = 12_000.0
RUSH_SHARE = 0.35  # won deals due early in a quarter pulled into the last week of the previous one

#: Bad rows appended by ``dirty=True``: rule code (as in quarantine.csv) -> count.
DIRTY_ROWS = {
    "opportunities.duplicate": 5,
    "opportunities.created_date.unparseable": 4,
    "opportunities.close_before_create": 4,
    "opportunities.amount.negative": 3,
    "opportunities.won_without_amount": 3,
    "opportunities.status.unparseable": 3,
    "opportunities.unknown_owner": 3,
    "opportunities.closed_without_close_date": 3,
    "opportunities.open_with_close_date": 3,
    "opportunities.created_date.future": 3,
    "opportunities.amount.unparseable": 2,
    "reps.duplicate": 2,
    "reps.hire_date.unparseable": 2,
    "stage_history.unknown_opportunity": 3,
    "spend.month.unparseable": 2,
    "spend.amount.negative": 2,
    "leads.created_date.unparseable": 2,
    "quotas.unknown_rep": 2,
    "goals.goal.negative": 2,
    "activities.count.negative": 2,
}


def _ramp(tenure_months: np.ndarray, ramp_months: np.ndarray) -> np.ndarray:
    """Share of full productivity after ``tenure_months`` (linear ramp, then 1)."""
    return np.clip((tenure_months + 1.0) / (ramp_months + 1.0), 0.0, 1.0)


def generate(
    seed: int = 7,
    reps: int = 40,
    years: float = 3.0,
    as_of: str | pd.Timestamp = "2026-11-15",
    fiscal_year_start: int = 1,
    dirty: bool = False,
    activities: bool = True,
    volume: float = 1.0,
    growth: float = 0.0,
    rush: float = RUSH_SHARE,
) -> dict[str, pd.DataFrame]:
    """The tables of a synthetic company (contract column names), as of ``as_of``.

    ``volume`` multiplies every rep's opportunity creation rate (benchmarks use it to reach 1M deals);
    ``growth`` is the yearly growth of every rep's creation rate (0.2: 20 % more deals a year, at the as-of
    date's level), a known trend for tests; ``rush`` the share of won deals due in a quarter's first three weeks
    that are pulled into the last week of the one before.
    """
    rng = np.random.default_rng(seed)
    as_of = pd.Timestamp(as_of).normalize()
    start = (as_of - pd.DateOffset(days=int(round(years * 365.25)))).to_period("M").to_timestamp()
    months = pd.period_range(start, as_of, freq="M")

    # ---- teams and reps ---------------------------------------------------------------------------
    n_teams = max(3, int(round(reps / 8)))
    shares = np.array([s.share for s in SEGMENTS])
    team_seg = np.repeat(np.arange(len(SEGMENTS)), np.maximum(1, np.round(shares * n_teams).astype(int)))[:n_teams]
    if len(team_seg) < n_teams:
        team_seg = np.concatenate([team_seg, np.zeros(n_teams - len(team_seg), int)])
    team_names = np.array([f"{SEGMENTS[s].name} {i + 1}" for i, s in enumerate(team_seg)])
    # Initial reps, then a leaver replaced by a hire about a month later (about 20 % turnover a year).
    r_team = rng.integers(0, n_teams, reps)
    r_hire = start - pd.to_timedelta(rng.integers(90, 2000, reps), unit="D")
    r_hire = pd.Series(r_hire).where(rng.random(reps) > 0.15)  # some long-tenured reps have no hire date
    span = (as_of - start).days
    leaves = rng.random(reps) < min(0.9, 0.2 * years)
    r_end = pd.Series(pd.NaT, index=range(reps), dtype="datetime64[us]")
    r_end[leaves] = start + pd.to_timedelta(rng.integers(30, max(31, span - 10), leaves.sum()), unit="D")
    n_new = int(leaves.sum())
    new_hire = r_end[leaves].to_numpy() + pd.to_timedelta(rng.integers(14, 60, n_new), unit="D")
    keep = new_hire <= as_of
    all_team = np.concatenate([r_team, r_team[leaves][keep]])
    all_hire = pd.concat([r_hire, pd.Series(new_hire[keep])], ignore_index=True).astype("datetime64[us]")
    all_end = pd.concat([r_end, pd.Series(pd.NaT, index=range(int(keep.sum())))], ignore_index=True).astype("datetime64[us]")
    # A few recent hires still ramping at the as-of date.
    n_rec = max(1, reps // 15)
    all_team = np.concatenate([all_team, rng.integers(0, n_teams, n_rec)])
    all_hire = pd.concat([all_hire, pd.Series(as_of - pd.to_timedelta(rng.integers(20, 150, n_rec), unit="D"))], ignore_index=True)
    all_end = pd.concat([all_end, pd.Series(pd.NaT, index=range(n_rec))], ignore_index=True).astype("datetime64[us]")
    n_reps = len(all_team)
    rep_ids = np.array([f"R{i + 1:04d}" for i in range(n_reps)])
    skill = rng.normal(0.0, 1.0, n_reps)
    activity = rng.lognormal(0.0, 0.3, n_reps)
    rep_seg = team_seg[all_team]
    reps_df = pd.DataFrame(
        {
            "rep_id": rep_ids,
            "name": [f"Rep {i + 1}" for i in range(n_reps)],
            "team": team_names[all_team],
            "region": np.where(all_team % 2 == 0, "East", "West"),
            "hire_date": all_hire,
            "end_date": all_end,
            "manager_id": [f"M{t + 1:03d}" for t in all_team],
            "role": "AE",
            "fte": 1.0,
        }
    )

    # ---- opportunities created: Poisson per rep-month ---------------------------------------------
    m_start = months.to_timestamp().to_numpy()
    m_end = (months + 1).to_timestamp().to_numpy()
    hire = all_hire.fillna(start - pd.Timedelta(days=3650)).to_numpy()
    end = all_end.fillna(as_of + pd.Timedelta(days=1)).to_numpy()
    lo = np.maximum(m_start[None, :], hire[:, None])
    hi = np.minimum(np.minimum(m_end[None, :], end[:, None]), np.datetime64(as_of + pd.Timedelta(days=1)))
    days_in = np.maximum((hi - lo) / np.timedelta64(1, "D"), 0.0)
    frac = days_in / ((m_end - m_start) / np.timedelta64(1, "D"))[None, :]
    tenure = ((m_start[None, :] - hire[:, None]) / np.timedelta64(1, "D")) / DAYS_PER_MONTH
    ramp = _ramp(np.maximum(tenure, 0.0), np.array([SEGMENTS[s].ramp_months for s in rep_seg])[:, None])
    base = np.array([SEGMENTS[s].creation_per_month for s in rep_seg])
    trend = (1.0 + growth) ** (((m_start - np.datetime64(as_of)) / np.timedelta64(1, "D")) / 365.25)
    rate = volume * base[:, None] * activity[:, None] * (SEASON[months.month.to_numpy() - 1] * trend)[None, :] * ramp * frac
    counts = rng.poisson(rate)
    n = int(counts.sum())
    o_rep = np.repeat(np.repeat(np.arange(n_reps), len(months)), counts.ravel())
    cell_lo = np.repeat(lo.ravel(), counts.ravel())
    cell_days = np.repeat(days_in.ravel(), counts.ravel())
    created = cell_lo + (rng.random(n) * cell_days * 86400).astype("timedelta64[s]")
    created = created.astype("datetime64[D]")

    seg_idx = rep_seg[o_rep]
    p_seg = np.array([s.win_rate for s in SEGMENTS])[seg_idx]
    logit = np.log(p_seg / (1 - p_seg)) + 0.45 * skill[o_rep]
    won = rng.random(n) < 1 / (1 + np.exp(-logit))
    med = np.array([s.deal_median for s in SEGMENTS])[seg_idx]
    sig = np.array([s.deal_sigma for s in SEGMENTS])[seg_idx]
    amount = np.round(np.exp(np.log(med) + 0.15 * skill[o_rep] + sig * rng.standard_normal(n)), -1)
    won_days = np.array([s.won_days for s in SEGMENTS])[seg_idx]
    lost_days = np.array([s.lost_days for s in SEGMENTS])[seg_idx]
    dur = np.where(won, won_days * np.exp(0.6 * rng.standard_normal(n)), lost_days * np.exp(0.8 * rng.standard_normal(n)))
    dur = np.maximum(np.ceil(dur), 1).astype("int64")
    close = created + dur.astype("timedelta64[D]")
    # Quarter-end rush: won deals due in the first three weeks of a quarter, pulled into the last week before it.
    freq = quarter_freq(fiscal_year_start)
    close_ts = pd.DatetimeIndex(close)
    q_start = close_ts.to_period(freq).start_time.to_numpy().astype("datetime64[D]")
    early = won & ((close - q_start) < np.timedelta64(21, "D")) & (rng.random(n) < rush)
    pulled = q_start - rng.integers(1, 8, n).astype("timedelta64[D]")
    early &= pulled > created
    close = np.where(early, pulled, close)

    # Stage path: every deal starts in Qualification; won deals pass every stage, lost ones stop early.
    last_stage = np.where(won, len(STAGES) - 1, rng.integers(0, len(STAGES), n))
    n_entries = last_stage + 2  # stages entered + the closing stage
    total = (close - created).astype("int64")
    rows = np.repeat(np.arange(n), n_entries)
    pos = np.arange(len(rows)) - np.repeat(np.cumsum(n_entries) - n_entries, n_entries)
    frac_pos = np.where(pos == 0, 0.0, rng.random(len(rows)))
    # Sort within each deal so stage entry times increase; the closing entry is at the close date.
    order = np.lexsort((frac_pos, rows))
    frac_pos = frac_pos[order]
    frac_pos[pos == 0] = 0.0
    is_close = pos == np.repeat(n_entries - 1, n_entries)
    entered = created[rows] + np.floor(frac_pos * total[rows]).astype("int64").astype("timedelta64[D]")
    entered = np.where(is_close, close[rows], entered)
    names = np.array(STAGES + ("Closed Won", "Closed Lost"))
    stage_code = np.where(is_close, np.where(won[rows], len(STAGES), len(STAGES) + 1), pos)
    seen = entered <= np.datetime64(as_of.date())
    hist = pd.DataFrame({"opportunity_id": rows[seen], "stage": names[stage_code[seen]], "entered_date": entered[seen]})
    current = hist.drop_duplicates("opportunity_id", keep="last").set_index("opportunity_id")["stage"]

    is_open = close > np.datetime64(as_of.date())
    status = np.where(is_open, "open", np.where(won, "won", "lost"))
    opp_ids = np.char.add("O", np.char.zfill(np.arange(1, n + 1).astype(str), 7))
    amount_out = amount.copy()
    amount_out[(status == "lost") & (rng.random(n) < 0.2)] = np.nan
    stage_now = current.reindex(np.arange(n)).to_numpy()
    prob = np.full(n, np.nan)
    stage_idx = pd.Series(stage_now).map({s: i for i, s in enumerate(STAGES)}).to_numpy()
    prob[is_open] = np.array(STAGE_PROBABILITY)[stage_idx[is_open].astype(int)]
    expected = np.where(
        is_open,
        np.maximum(created + won_days.astype("int64").astype("timedelta64[D]"), np.datetime64(as_of.date()) + np.timedelta64(14, "D")),
        np.datetime64("NaT"),
    )
    source = rng.choice(SOURCES, n, p=SOURCE_P)
    n_accounts = max(50, n // 3)
    account = rng.integers(0, n_accounts, n)
    opps = pd.DataFrame(
        {
            "opportunity_id": opp_ids,
            "owner_id": rep_ids[o_rep],
            "created_date": created,
            "close_date": np.where(is_open, np.datetime64("NaT"), close),
            "status": status,
            "amount": amount_out,
            "account_id": np.char.add("A", np.char.zfill(account.astype(str), 6)),
            "segment": np.array([s.name for s in SEGMENTS])[seg_idx],
            "lead_source": source,
            "stage": stage_now,
            "expected_close_date": expected,
            "probability": prob,
            "product": rng.choice(["Core", "Analytics", "Platform"], n, p=[0.6, 0.25, 0.15]),
            "region": reps_df["region"].to_numpy()[o_rep],
        }
    ).sort_values(["created_date", "opportunity_id"], kind="stable")
    opps = opps.reset_index(drop=True)
    # Gross margin by product, from a stream of its own so the other columns do not change with it.
    mrng = np.random.default_rng([seed, 11])
    ratio = opps["product"].map(MARGIN_RATIO).to_numpy(dtype=float) * mrng.lognormal(0, 0.05, len(opps))
    opps["margin"] = np.round(opps["amount"].to_numpy() * ratio, 2)
    hist["opportunity_id"] = opp_ids[hist["opportunity_id"].to_numpy()]

    # ---- leads and marketing spend ----------------------------------------------------------------
    mk = opps["lead_source"].isin(list(MARKETING)).to_numpy()
    conv = opps.loc[mk, ["opportunity_id", "created_date", "lead_source"]]
    conv_created = conv["created_date"].to_numpy() - rng.integers(0, 15, len(conv)).astype("timedelta64[D]")
    n_un = int(len(conv) * (1 - LEAD_CONVERSION) / LEAD_CONVERSION)
    un_idx = rng.integers(0, max(len(conv), 1), n_un)
    un_created = conv["created_date"].to_numpy()[un_idx] - rng.integers(0, 30, n_un).astype("timedelta64[D]")
    leads = pd.DataFrame(
        {
            "created_date": np.concatenate([conv_created, un_created]),
            "source": np.concatenate([conv["lead_source"].to_numpy(), conv["lead_source"].to_numpy()[un_idx]]),
            "opportunity_id": np.concatenate([conv["opportunity_id"].to_numpy(), np.full(n_un, None)]),
        }
    )
    leads = leads[leads["created_date"] >= np.datetime64(start)].sort_values("created_date", kind="stable").reset_index(drop=True)
    leads.insert(0, "lead_id", np.char.add("L", np.char.zfill(np.arange(1, len(leads) + 1).astype(str), 8)))
    complete = months[months.to_timestamp(how="end") <= as_of]
    lead_month = leads["created_date"].dt.to_period("M")
    per = leads.groupby([lead_month, "source"]).size().rename("leads").reset_index()
    per = per[per["created_date"].isin(complete)]
    per["amount"] = np.round(per["leads"] * per["source"].map(MARKETING) * rng.lognormal(0, 0.1, len(per)), 2)
    mspend = pd.DataFrame(
        {"month": per["created_date"].astype(str), "category": "marketing", "channel": per["source"], "amount": per["amount"]}
    )
    heads = (frac > 0.5).sum(axis=0)
    month_idx = np.array([months.get_loc(m) for m in complete], dtype=int)
    sspend = pd.DataFrame(
        {
            "month": complete.astype(str),
            "category": "sales",
            "channel": "salaries",
            "amount": np.round(heads[month_idx] * REP_MONTHLY_COST * rng.lognormal(0, 0.02, len(complete)), 2),
        }
    )
    spend = pd.concat([mspend, sspend], ignore_index=True).sort_values(["month", "category", "channel"]).reset_index(drop=True)

    # ---- quotas (top-down, by segment norm and ramp), targets and goals ---------------------------
    nominal = np.array([s.creation_per_month * 3 * s.win_rate * s.deal_median * np.exp(s.deal_sigma**2 / 2) for s in SEGMENTS])
    first_q = period_of(pd.Timestamp(start), fiscal_year_start)
    nxt = next_period(as_of, fiscal_year_start)
    still = all_end.fillna(pd.Timestamp("2262-01-01")).to_numpy()  # employed with no end date: in every later period
    quota_rows, target_rows = [], []
    for period in period_range(first_q, nxt, fiscal_year_start)[1:]:
        p_start, _ = period_bounds(period, fiscal_year_start)
        active = (hire <= np.datetime64(p_start)) & (still > np.datetime64(p_start))
        ten = ((np.datetime64(p_start) - hire) / np.timedelta64(1, "D")) / DAYS_PER_MONTH + 1.5
        r = _ramp(ten, np.array([SEGMENTS[s].ramp_months for s in rep_seg]))
        q = np.round(nominal[rep_seg] * 1.10 * r, -2)
        if period != nxt:
            quota_rows.append(pd.DataFrame({"rep_id": rep_ids[active], "period": period, "quota": q[active]}))
        target_rows.append({"period": period, "target": float(np.round(q[active].sum() / 1.10, -3)), "team": None})
        if period == nxt:
            for t in range(n_teams):
                sel = active & (all_team == t)
                if sel.any():
                    target_rows.append({"period": period, "target": float(np.round(q[sel].sum() / 1.10, -3)), "team": team_names[t]})
            bias = rng.choice([0.7, 1.0, 1.4], active.sum(), p=[0.2, 0.65, 0.15])
            goals = pd.DataFrame(
                {
                    "rep_id": rep_ids[active],
                    "period": period,
                    "goal": np.round(q[active] / 1.1 * bias * rng.lognormal(0, 0.2, active.sum()), -2),
                }
            )
    quotas = pd.concat(quota_rows, ignore_index=True)
    targets = pd.DataFrame(target_rows)

    tables = {
        "reps": reps_df,
        "opportunities": opps,
        "stage_history": hist.sort_values(["opportunity_id", "entered_date"], kind="stable").reset_index(drop=True),
        "spend": spend,
        "leads": leads,
        "quotas": quotas,
        "goals": goals,
        "targets": targets,
    }
    if activities:
        tables["activities"] = _activities(rng, reps_df, activity, start, as_of)
    if dirty:
        tables = add_dirty_rows(tables, rng, as_of)
    return tables


def _activities(
    rng: np.random.Generator, reps: pd.DataFrame, activity: np.ndarray, start: pd.Timestamp, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Weekly counts of calls, emails and meetings per employed rep (dated on the week's Monday)."""
    weeks = pd.date_range(start + pd.offsets.Week(weekday=0), as_of, freq="W-MON").to_numpy()
    hire = reps["hire_date"].fillna(start - pd.Timedelta(days=3650)).to_numpy()
    end = reps["end_date"].fillna(as_of + pd.Timedelta(days=1)).to_numpy()
    emp = (weeks[None, :] >= hire[:, None]) & (weeks[None, :] < end[:, None])
    r, w = np.nonzero(emp)
    kinds = {"call": 40.0, "email": 60.0, "meeting": 6.0}
    parts = []
    for kind, mean in kinds.items():
        parts.append(
            pd.DataFrame(
                {
                    "rep_id": reps["rep_id"].to_numpy()[r],
                    "date": weeks[w],
                    "type": kind,
                    "count": rng.poisson(mean * activity[r]).astype(float),
                }
            )
        )
    return pd.concat(parts, ignore_index=True).sort_values(["date", "rep_id", "type"], kind="stable").reset_index(drop=True)


def add_dirty_rows(tables: dict[str, pd.DataFrame], rng: np.random.Generator, as_of: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """Append ``DIRTY_ROWS`` bad rows as text (new ids, so nothing else refers to them)."""
    out = {k: _as_text(v) for k, v in tables.items()}
    opps, reps = out["opportunities"], out["reps"]
    closed_won = opps[opps["status"] == "won"]
    rep0 = reps["rep_id"].iloc[0]
    future = str((as_of + pd.Timedelta(days=400)).date())
    bad: dict[str, list[dict]] = {k: [] for k in out}
    counter = iter(range(1, 10_000))

    def opp(**changes) -> dict:
        row = closed_won.iloc[int(rng.integers(len(closed_won)))].to_dict()
        row["opportunity_id"] = f"DIRTY{next(counter):04d}"
        row.update(changes)
        return row

    for rule, count in DIRTY_ROWS.items():
        for _ in range(count):
            if rule == "opportunities.duplicate":
                row = opps.iloc[int(rng.integers(len(opps)))].to_dict()
                bad["opportunities"].append(row)
            elif rule == "opportunities.created_date.unparseable":
                bad["opportunities"].append(opp(created_date="31/02/2024"))
            elif rule == "opportunities.close_before_create":
                r = opp()
                r["close_date"] = str((pd.Timestamp(r["created_date"]) - pd.Timedelta(days=5)).date())
                bad["opportunities"].append(r)
            elif rule == "opportunities.amount.negative":
                bad["opportunities"].append(opp(amount="-1200"))
            elif rule == "opportunities.won_without_amount":
                bad["opportunities"].append(opp(amount=""))
            elif rule == "opportunities.status.unparseable":
                bad["opportunities"].append(opp(status="pending"))
            elif rule == "opportunities.unknown_owner":
                bad["opportunities"].append(opp(owner_id="NOBODY"))
            elif rule == "opportunities.closed_without_close_date":
                bad["opportunities"].append(opp(close_date=""))
            elif rule == "opportunities.open_with_close_date":
                bad["opportunities"].append(opp(status="open"))
            elif rule == "opportunities.created_date.future":
                bad["opportunities"].append(opp(created_date=future, close_date="", status="open"))
            elif rule == "opportunities.amount.unparseable":
                bad["opportunities"].append(opp(amount="12k"))
            elif rule == "reps.duplicate":
                bad["reps"].append(reps.iloc[int(rng.integers(len(reps)))].to_dict())
            elif rule == "reps.hire_date.unparseable":
                bad["reps"].append({**reps.iloc[0].to_dict(), "rep_id": f"DIRTY-R{next(counter)}", "hire_date": "someday"})
            elif rule == "stage_history.unknown_opportunity":
                bad["stage_history"].append(
                    {"opportunity_id": f"NO-SUCH-DEAL-{next(counter)}", "stage": "Discovery", "entered_date": "2025-01-01"}
                )
            elif rule == "spend.month.unparseable":
                bad["spend"].append({"month": "2025-13", "category": "marketing", "channel": f"dirty{next(counter)}", "amount": "100"})
            elif rule == "spend.amount.negative":
                bad["spend"].append({"month": "2025-01", "category": "marketing", "channel": f"dirty{next(counter)}", "amount": "-100"})
            elif rule == "leads.created_date.unparseable":
                bad["leads"].append(
                    {"lead_id": f"DIRTY-L{next(counter)}", "created_date": "yesterday", "source": "events", "opportunity_id": ""}
                )
            elif rule == "quotas.unknown_rep":
                bad["quotas"].append({"rep_id": f"NOBODY-{next(counter)}", "period": out["quotas"]["period"].iloc[0], "quota": "1000"})
            elif rule == "goals.goal.negative":
                bad["goals"].append({"rep_id": rep0, "period": f"{1990 + next(counter) % 30}Q1", "goal": "-5"})
            elif rule == "activities.count.negative":
                bad["activities"].append({"rep_id": rep0, "date": "2025-01-06", "type": f"dirty{next(counter)}", "count": "-3"})
            else:  # pragma: no cover - DIRTY_ROWS and this function must agree
                raise KeyError(rule)
    for name, rows in bad.items():
        if rows:
            extra = pd.DataFrame(rows, columns=out[name].columns).fillna("")
            out[name] = pd.concat([out[name], extra], ignore_index=True)
    return out


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    for col in frame.columns:
        s = frame[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            out[col] = s.dt.strftime("%Y-%m-%d").fillna("")
        elif pd.api.types.is_float_dtype(s):
            out[col] = s.map(lambda v: "" if pd.isna(v) else f"{v:g}" if abs(v) < 1e15 else str(v)).astype(object)
        else:
            out[col] = s.astype(object).where(s.notna(), "").astype(str)
    return out


def write(tables: dict[str, pd.DataFrame], folder: str | Path, fmt: str = "csv", meta: dict | None = None) -> list[Path]:
    """Write each table as ``<name>.csv`` or ``<name>.parquet``; ``meta`` goes to ``demo.json``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, frame in tables.items():
        for old in folder.glob(f"{name}.*"):
            old.unlink()
        path = folder / f"{name}.{fmt}"
        if fmt == "csv":
            frame.to_csv(path, index=False, date_format="%Y-%m-%d")
        elif fmt == "parquet":
            frame.to_parquet(path, index=False)
        else:
            raise ValueError(f"format must be csv or parquet, got {fmt!r}")
        paths.append(path)
    if meta is not None:
        (folder / "demo.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return paths
