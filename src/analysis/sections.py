"""What each report section needs, and what its page says when the data lack it.

Every section of the scheduled pages is listed once in :data:`SECTIONS` with the tables and history it needs
(``docs/data-contract.md``, "What each report needs", is checked against this list). :func:`facts` reads once
what a dataset holds; :func:`missing` gives, for every section the data cannot serve, the one plain sentence the
page prints instead — what is missing and what the section would show. ``quotacast validate`` lists them, so a
user knows before the run which parts of the report will be empty and why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from analysis.calendar import last_complete_period, period_bounds, period_of
from analysis.data import Dataset
from analysis.history import complete_quarters, last_record, replayable_quarters

#: Complete quarters of bookings the time-series models need (``series.SeriesForecaster.min_quarters``).
SERIES_MIN_QUARTERS = 6
#: Backtest quarters below which a page shows the replay but makes no claim about accuracy.
MIN_SCORED_QUARTERS = 3
#: Complete quarters of data a snapshot needs before the pipeline model can be replayed from it.
PIPELINE_MIN_QUARTERS = 1


@dataclass(frozen=True)
class Facts:
    """What a dataset holds, as the report sections need it."""

    period: str
    last_complete: str
    quarters: int  # complete quarters covered by the data up to the last complete one
    deals: int
    open_deals: int
    open_priced: int  # open deals with an amount
    closed: int
    won: int
    won_priced: int  # won deals with a positive amount
    has_stage_history: bool
    has_spend: bool
    has_leads: bool
    quota_quarters: int  # complete quarters with an assigned quota
    target: bool  # a company target for the period in the quota type's unit
    team_targets: bool  # team targets for the period in the quota type's unit
    bookings_target: bool  # a company bookings target for the period (what the forecast page compares with)
    bookings_team_targets: bool
    goals: bool  # goals for the period
    hire_dates: bool
    quota_type: str
    as_of_is_quarter_end: bool
    backtest_quarters: int  # forecast backtest quarters the data allow (pipeline model)
    series_backtest_quarters: int  # the same for the time-series models
    policy_quarters: int  # quota policy backtest quarters the data allow
    last_closed_in_quarter: int  # deals closed in the last complete quarter
    stale_days: int  # days from the data's last record to the as-of date


def facts(ds: Dataset, period: str, quota_type: str = "bookings", backtest_quarters: int = 6, policy_quarters: int = 6) -> Facts:
    """Read what ``ds`` holds for a run planning ``period``."""
    fy = ds.fiscal_year_start
    o = ds.opportunities
    status = o["status"]
    is_open, won = status.eq("open"), status.eq("won")
    last = last_complete_period(ds.as_of_date, fy)
    company, teams = ds.targets_for(period, quota_type)
    b_company, b_teams = ds.targets_for(period, "bookings")
    last_seen = last_record(ds)
    quotas = ds.quotas
    quota_q = 0
    if len(quotas):
        done = [p for p in quotas["period"].unique() if period_bounds(p, fy)[1] <= ds.as_of_date]
        quota_q = len(done)
    l_start, l_end = period_bounds(last, fy)
    closed_last = int(((o["close_date"] >= l_start) & (o["close_date"] <= l_end) & ~is_open).sum())
    return Facts(
        period=period,
        last_complete=last,
        quarters=len(complete_quarters(ds)),
        deals=len(o),
        open_deals=int(is_open.sum()),
        open_priced=int((is_open & o["amount"].notna()).sum()),
        closed=int((~is_open).sum()),
        won=int(won.sum()),
        won_priced=int((won & (o["amount"] > 0)).sum()),
        has_stage_history=ds.has("stage_history"),
        has_spend=ds.has("spend"),
        has_leads=ds.has("leads"),
        quota_quarters=quota_q,
        target=company is not None,
        team_targets=len(teams) > 0,
        bookings_target=b_company is not None,
        bookings_team_targets=len(b_teams) > 0,
        goals=bool(len(ds.goals) and (ds.goals["period"] == period).any()),
        hire_dates=bool(ds.reps["hire_date"].notna().any()),
        quota_type=quota_type,
        as_of_is_quarter_end=bool(period_bounds(period_of(ds.as_of_date, fy), fy)[1] == ds.as_of_date),
        backtest_quarters=replayable_quarters(ds, backtest_quarters, PIPELINE_MIN_QUARTERS),
        series_backtest_quarters=replayable_quarters(ds, backtest_quarters, SERIES_MIN_QUARTERS),
        policy_quarters=replayable_quarters(ds, policy_quarters, PIPELINE_MIN_QUARTERS),
        last_closed_in_quarter=closed_last,
        stale_days=int((ds.as_of_date - last_seen).days) if last_seen is not None else 0,
    )


@dataclass(frozen=True)
class Section:
    """One section of a page: ``needs`` in words (for the docs), and ``why_not(facts)`` the sentence the page
    prints when the data cannot serve it (None when they can)."""

    key: str
    page: str
    title: str
    needs: str
    why_not: Callable[[Facts], str | None]


def _q(n: int) -> str:
    return f"{n} complete quarter{'s' * (n != 1)}"


def _unit(f: Facts) -> str:
    """The quota type in words before "target": "" for bookings, else e.g. "won deals "."""
    return "" if f.quota_type == "bookings" else f.quota_type.replace("_", " ") + " "


def _no_won(f: Facts, shows: str) -> str | None:
    if f.won == 0:
        return f"No deal has been won yet, so there is nothing to show here; with won deals this would show {shows}."
    return None


SECTIONS: list[Section] = [
    # 20-measure-pipeline
    Section("bookings", "20-measure-pipeline", "Bookings per quarter", "won deals", lambda f: _no_won(f, "bookings per quarter")),
    Section(
        "win_rates",
        "20-measure-pipeline",
        "Win rate",
        "closed (won or lost) deals",
        lambda f: (
            None
            if f.closed
            else "No deal has closed yet (won or lost), so there is no win rate; once deals close this "
            "shows it per quarter beside the estimate that counts the open deals."
        ),
    ),
    Section(
        "deal_sizes",
        "20-measure-pipeline",
        "Deal size",
        "won deals with an amount",
        lambda f: (
            _no_won(f, "the spread of won deal sizes")
            or (None if f.won_priced else "No won deal carries an amount above 0, so deal sizes cannot be shown.")
        ),
    ),
    Section("cycle", "20-measure-pipeline", "Sales cycle", "won deals", lambda f: _no_won(f, "how long eventual winners take to close")),
    Section(
        "stage_funnel",
        "20-measure-pipeline",
        "Stage funnel",
        "the optional table stage_history",
        lambda f: (
            None
            if f.has_stage_history
            else "No stage history was given (table stage_history), so the chance of winning once a deal enters each stage cannot be shown."
        ),
    ),
    Section(
        "coverage",
        "20-measure-pipeline",
        "Pipeline coverage",
        "open deals with amounts at a past quarter end, and a target or quotas for the quarter after it",
        lambda f: "No quarter has ended since the data begin, so there is no pipeline coverage to show." if f.quarters == 0 else None,
    ),
    Section(
        "attainment",
        "20-measure-pipeline",
        "Quota attainment",
        "the optional table quotas (assigned quotas of past quarters)",
        lambda f: (
            None
            if f.quota_quarters
            else "No quota history was given (table quotas), so attainment cannot be shown; with "
            "it this shows the share of reps reaching quota each quarter."
        ),
    ),
    Section(
        "cac",
        "20-measure-pipeline",
        "Customer acquisition cost",
        "the optional table spend, and won deals",
        lambda f: (
            "No spend was given (table spend), so the cost to acquire a customer cannot be shown."
            if not f.has_spend
            else _no_won(f, "the cost to acquire a customer")
        ),
    ),
    Section(
        "segments",
        "20-measure-pipeline",
        "By segment, last complete quarter",
        "deals closed in the last complete quarter",
        lambda f: (
            None
            if f.last_closed_in_quarter
            else f"No deal closed in {f.last_complete}, the last complete quarter, so there is no segment comparison for it."
        ),
    ),
    # 30-forecast-bookings
    Section(
        "forecast_basis",
        "30-forecast-bookings",
        "What the forecast rests on",
        "won deals; open deals; complete quarters",
        lambda f: (
            "No deal has ever been won, so the forecast has no win chances or deal sizes to learn from: every "
            "simulation books nothing, and no forecast is shown."
            if f.won == 0
            else None
        ),
    ),
    Section(
        "versus_target",
        "30-forecast-bookings",
        "Chance of reaching the target",
        "a company target for the period (table targets)",
        lambda f: (
            None
            if f.bookings_target or f.bookings_team_targets
            else f"No bookings target was given for {f.period} (table targets), so there is no chance of reaching one to show."
        ),
    ),
    Section(
        "nowcast",
        "30-forecast-bookings",
        "The quarter under way",
        "an as-of date inside a quarter",
        lambda f: "The as-of date is the last day of its quarter: no quarter is under way." if f.as_of_is_quarter_end else None,
    ),
    Section(
        "time_series",
        "30-forecast-bookings",
        "Time-series models",
        f"{SERIES_MIN_QUARTERS} complete quarters of bookings",
        lambda f: (
            None
            if f.quarters >= SERIES_MIN_QUARTERS and f.won
            else "No deal has ever been won, so there are no bookings for the time-series models to read."
            if not f.won
            else f"The time-series models need {_q(SERIES_MIN_QUARTERS)} of bookings and the data hold {f.quarters}, so only the "
            "pipeline model forecasts."
        ),
    ),
    Section(
        "backtest",
        "30-forecast-bookings",
        "How past forecasts did",
        f"at least {PIPELINE_MIN_QUARTERS + 1} complete quarters (one to learn from, one to check); "
        f"{MIN_SCORED_QUARTERS} replayed quarters before accuracy is scored",
        lambda f: (
            None
            if f.backtest_quarters
            else f"The data hold {_q(f.quarters)}: too few to replay a past quarter (one to learn from and one to check "
            "are needed), so the forecast's accuracy cannot be checked yet."
        ),
    ),
    Section(
        "calibration",
        "30-forecast-bookings",
        "Are the deal probabilities honest?",
        "past quarter ends with open deals",
        lambda f: (
            None
            if f.backtest_quarters and f.won
            else "Too little history to check the deal probabilities against what happened at past quarter ends."
        ),
    ),
    # 40-recommend-quotas
    Section(
        "quota_target",
        "40-recommend-quotas",
        "Quotas against the target",
        "a company target for the period (table targets)",
        lambda f: (
            None
            if f.target or f.team_targets
            else f"No {_unit(f)}target was given for {f.period}, so quotas are set where each rep has the same, stated chance "
            "of reaching them (realistic mode), with no target to reconcile."
        ),
    ),
    Section(
        "pay",
        "40-recommend-quotas",
        "What the plan costs",
        "bookings quotas",
        lambda f: (
            None
            if f.quota_type == "bookings"
            else f"Pay is computed for bookings quotas; these quotas count {f.quota_type.replace('_', ' ')}."
        ),
    ),
    Section(
        "what_if",
        "40-recommend-quotas",
        "What if the settings move?",
        "a company target for the period",
        lambda f: None if f.target else f"Without a company {_unit(f)}target there is nothing to move: the what-if sweep needs one.",
    ),
    Section(
        "ramp",
        "40-recommend-quotas",
        "Ramping hires",
        "hire dates in reps",
        lambda f: None if f.hire_dates else "No hire dates were given (reps.hire_date), so every rep is treated as fully ramped.",
    ),
    Section(
        "goals",
        "40-recommend-quotas",
        "Bottom-up goals",
        "the optional table goals, for the period",
        lambda f: (
            f"Goals are in bookings and these quotas count {f.quota_type.replace('_', ' ')}, so the goals are not compared."
            if f.quota_type != "bookings"
            else None
            if f.goals
            else f"No goals were submitted for {f.period} (table goals), so there is no bottom-up view."
        ),
    ),
    Section(
        "policy_backtest",
        "40-recommend-quotas",
        "Past quarters replayed",
        f"at least {PIPELINE_MIN_QUARTERS + 1} complete quarters",
        lambda f: (
            None
            if f.policy_quarters and f.won
            else f"The data hold {_q(f.quarters)}: too few to replay a past quarter's quotas against what reps booked."
        ),
    ),
    Section(
        "attainment_history",
        "40-recommend-quotas",
        "Attainment history, misses and leaderboard",
        "the optional table quotas (assigned quotas of past quarters)",
        lambda f: (
            None
            if f.quota_quarters
            else "No quota history was given (table quotas), so attainment history, reps "
            "missing quota in a row and the leaderboard cannot be shown."
        ),
    ),
]

BY_KEY = {s.key: s for s in SECTIONS}


class Notes(dict):
    """Section key → the sentence its page prints instead. A page may ask for one key in several places (a chart
    and its table); :meth:`say` gives the sentence the first time only, so the page says it once."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.said: set[str] = set()

    def say(self, key: str) -> str:
        if key in self.said:
            return ""
        self.said.add(key)
        return self[key]


def missing(f: Facts) -> Notes:
    """Section key → the sentence its page prints instead, for every section the data cannot serve."""
    out = Notes()
    for s in SECTIONS:
        why = s.why_not(f)
        if why:
            out[s.key] = why
    return out


def table(f: Facts | None = None) -> pd.DataFrame:
    """Every section with what it needs, and (given ``facts``) whether these data serve it: ``key``, ``page``,
    ``section``, ``needs`` and ``shown`` / ``why not``."""
    rows = []
    gaps = missing(f) if f is not None else {}
    for s in SECTIONS:
        row = {"key": s.key, "page": s.page, "section": s.title, "needs": s.needs}
        if f is not None:
            row["shown"] = "yes" if s.key not in gaps else "no"
            row["why not"] = gaps.get(s.key, "")
        rows.append(row)
    return pd.DataFrame(rows)


#: Days between the data's last record and the as-of date beyond which the extract is called stale.
STALE_DAYS = 45


def describe_history(f: Facts) -> str:
    """One sentence on how much history the numbers rest on (and on a stale extract)."""
    text = "The data do not yet cover one complete quarter." if f.quarters == 0 else f"The data cover {_q(f.quarters)}."
    if f.stale_days > STALE_DAYS:
        text += (
            f" Their last record is {f.stale_days:,} days before the as-of date: the extract may be stale, and everything "
            "here reads the pipeline as it stood then."
        )
    return text
