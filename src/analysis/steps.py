"""The quarterly run's steps: check the data, measure, forecast, plan quotas, summarise.

Each step takes the loaded :class:`~analysis.data.Dataset` and the run's :class:`~analysis.config.Settings`, computes
everything its page shows, and returns a result object: tables, the sentences the page prints, and ``notes`` — for
every section the data cannot serve, the one sentence the page prints instead (:mod:`analysis.sections`). With
``out`` it writes its tables through the outputs registry (:mod:`analysis.outputs`). A scheduled notebook is its
parameters, one call to its step, and display; :func:`run_all` runs every step in one process (tests, benchmarks).

No step fails for lack of optional data or history: what validates (:mod:`analysis.preflight`) completes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis import compensation, goals, monitoring, outputs, present, quota, scenarios, sections, series, shortlist, summary
from analysis.backtest import calibration, scores
from analysis.calendar import is_month_label, last_complete_period, period_bounds, shift_period
from analysis.config import Settings
from analysis.data import Dataset
from analysis.draws import versus_target
from analysis.forecast import ForecastReport, forecast_report
from analysis.metrics import metrics_table
from analysis.present import Label, money
from analysis.reliability import reliability
from analysis.survival import winner_curves_by


def _facts(ds: Dataset, settings: Settings, period: str) -> sections.Facts:
    return sections.facts(ds, period, settings.quota_type, settings.backtest_quarters, settings.policy_backtest_quarters)


def _page(notes: dict[str, str], page: str) -> sections.Notes:
    keys = {s.key for s in sections.SECTIONS if s.page == page}
    return sections.Notes({k: v for k, v in notes.items() if k in keys})


def _has_values(table: pd.DataFrame, metric: str, dimension: str = "company") -> bool:
    v = table.loc[(table["metric"] == metric) & (table["dimension"] == dimension), "value"].to_numpy(dtype=float)
    return bool(np.isfinite(v).any())


# --------------------------------------------------------------------------------------------------
# 10: check the data
# --------------------------------------------------------------------------------------------------
@dataclass
class Checked:
    """What the data check page shows: ``freshness`` per table, the quarantine by reason, the report sections the
    data can and cannot serve (``sections``), and a sentence on the history."""

    freshness: pd.DataFrame
    quarantine: pd.DataFrame
    sections: pd.DataFrame
    history: str
    notes: dict[str, str] = field(default_factory=dict)


def check(ds: Dataset, settings: Settings, period: str, out: Path | None = None) -> Checked:
    present.set_currency(settings.currency)  # every amount this step writes or shows, in the run's currency
    f = _facts(ds, settings, period)
    result = Checked(summary.freshness(ds), ds.quarantine_summary(), sections.table(f), sections.describe_history(f))
    if out is not None:
        outputs.write(out, "quarantine.csv", ds.quarantine)
        outputs.write(out, "accounting.csv", ds.summary())
        outputs.write(out, "sections.csv", result.sections)
    return result


# --------------------------------------------------------------------------------------------------
# 20: measure the pipeline
# --------------------------------------------------------------------------------------------------
SEGMENT_METRICS = ["bookings", "win_rate", "win_rate_cohort", "avg_deal_size", "median_deal_size", "median_cycle_days", "cycle_days_cohort"]
SEGMENT_FORMATS = {
    "bookings": "money",
    "win_rate": "share",
    "win_rate_cohort": "share",
    "avg_deal_size": "money",
    "median_deal_size": "money",
    "median_cycle_days": "days",
    "cycle_days_cohort": "days",
}


@dataclass
class Measured:
    """The metrics table (``metrics.csv``) and what the pipeline page draws from it."""

    metrics: pd.DataFrame
    last: str
    segments: pd.DataFrame
    curves: pd.DataFrame
    won: pd.DataFrame
    definitions: str
    notes: dict[str, str] = field(default_factory=dict)


def measure(ds: Dataset, settings: Settings, period: str, out: Path | None = None) -> Measured:
    present.set_currency(settings.currency)  # every amount this step writes or shows, in the run's currency
    table = metrics_table(ds, interval=settings.interval)
    notes = _page(sections.missing(_facts(ds, settings, period)), "20-measure-pipeline")
    if "coverage" not in notes and not _has_values(table, "pipeline_coverage"):
        said = table.loc[(table["metric"] == "pipeline_coverage") & (table["dimension"] == "company"), "note"]
        if said.empty:
            notes["coverage"] = "No deal was open at the end of any past quarter, so there is no pipeline coverage to show."
        elif said.str.contains("no amount").all():
            notes["coverage"] = "Pipeline coverage is not available: open deals carry no amount."
        else:
            notes["coverage"] = (
                "Pipeline coverage needs a target (table targets) or quotas for the quarter after each quarter end; "
                "there is none, so open pipeline ÷ target cannot be shown."
            )
    if "cac" not in notes and not any(_has_values(table, m) for m in ("cac", "cac_lagged", "cac_paid")):
        notes["cac"] = "No quarter has both spend and new customers, so the cost to acquire a customer cannot be shown."
    if "attainment" not in notes and not _has_values(table, "attainment_rate"):
        notes["attainment"] = "No past quarter has quotas for its reps, so attainment cannot be shown."
    last = last_complete_period(ds.as_of_date, ds.fiscal_year_start)
    seg = table[(table["dimension"] == "segment") & (table["period"] == last) & table["metric"].isin(SEGMENT_METRICS)]
    wide = seg.pivot(index="group", columns="metric", values="value") if len(seg) else pd.DataFrame()
    wide = wide[[m for m in SEGMENT_METRICS if m in wide.columns]].rename_axis("segment").reset_index() if len(wide) else wide
    o = ds.opportunities
    won = o[(o["status"] == "won") & (o["amount"] > 0)][["segment", "amount"]]
    curves = winner_curves_by(o, ds.as_of_date, "segment") if "cycle" not in notes else pd.DataFrame(columns=["group", "time", "share"])
    if "cycle" not in notes and curves.empty:
        notes["cycle"] = "Too few won deals to draw how long eventual winners take."
    shown = [
        *SEGMENT_METRICS,
        "stage_win_rate",
        "pipeline_coverage",
        "required_coverage",
        "attainment_rate",
        "cac",
        "cac_lagged",
        "cac_paid",
    ]
    result = Measured(table, last, wide, curves, won, summary.definitions_markdown(shown), notes)
    if out is not None:
        outputs.write(out, "metrics.csv", table)
    return result


# --------------------------------------------------------------------------------------------------
# 30: forecast bookings
# --------------------------------------------------------------------------------------------------
@dataclass
class Forecasted:
    """The forecast of the planned period and the quarters ahead, its backtest and what the page says about it.
    ``rep_draws`` (long: ``rep_id``, ``draw``, ``bookings``) are the simulations the quotas are set from."""

    period: str
    table: pd.DataFrame
    headline: pd.DataFrame
    reach: pd.DataFrame
    rep_draws: pd.DataFrame
    history: pd.DataFrame
    backtest: pd.DataFrame
    scores: pd.DataFrame
    weights: pd.DataFrame
    calibration: pd.DataFrame
    reliability: pd.DataFrame
    monthly: pd.DataFrame
    fan: pd.DataFrame
    quarters_ahead: pd.DataFrame
    target: float | None
    team_targets: pd.Series
    sentence: str
    basis: str
    nowcast: str
    calendar: str
    weights_text: str
    backtest_text: str
    calibration_text: str
    pipeline_method: str
    notes: dict[str, str] = field(default_factory=dict)


def forecast(ds: Dataset, settings: Settings, period: str, out: Path | None = None) -> Forecasted:
    present.set_currency(settings.currency)  # every amount this step writes or shows, in the run's currency
    f = _facts(ds, settings, period)
    notes = _page(sections.missing(f), "30-forecast-bookings")
    report = forecast_report(
        ds,
        period,
        settings.horizon,
        settings.draws,
        settings.seed,
        f.backtest_quarters,
        tuple(settings.ramp_schedule),
        settings.recalibrate_quarters,
    )
    table = report.table
    headline = report.headline()
    headline = headline[headline["level"] != "rep"].reset_index(drop=True)
    target, teams = ds.targets_for(period)
    reach = versus_target(report.sims, target, teams, report.pipeline_method)
    rep_draws = report.sims.rep_draws()
    quarters = table[~table["period"].map(is_month_label)]
    method = report.pipeline_method  # the fan, the headline, the chances and the quotas: one set of draws
    ahead = quarters[quarters["method"] == method]
    bt = report.backtest
    n_bt = int(bt["cutoff"].nunique()) if len(bt) else 0
    score_table = pd.DataFrame()
    if n_bt >= sections.MIN_SCORED_QUARTERS:
        score_table = bt.groupby("method").apply(scores, include_groups=False).reset_index(level=0).reset_index(drop=True)
    if n_bt == 0:
        backtest_text = "" if "backtest" in notes else "No past quarter could be replayed."
    elif n_bt < sections.MIN_SCORED_QUARTERS:
        backtest_text = (
            f"Only {n_bt} past quarter{'s' * (n_bt != 1)} could be replayed: shown below, but too few to judge the "
            f"forecast's accuracy ({sections.MIN_SCORED_QUARTERS} are needed), so no accuracy is claimed."
        )
    else:
        backtest_text = f"The replay covers the last {n_bt} complete quarters."
    cal = calibration(ds, f.backtest_quarters) if "calibration" not in notes else pd.DataFrame()
    if "calibration" not in notes and cal.empty:
        notes["calibration"] = "No past quarter end had enough deals to check the deal probabilities against."
    rel = reliability(cal) if len(cal) else pd.DataFrame()
    monthly = table[(table["level"] == "company") & (table["method"] == report.pipeline_method) & table["period"].map(is_month_label)]
    monthly = monthly[["period", "mean", "p10", "p50", "p90"]].reset_index(drop=True)
    pivot = quarters[quarters["level"] == "company"].pivot(index="period", columns="method", values="p50").reset_index()
    basis = forecast_basis(f, report, n_bt, ahead)
    result = Forecasted(
        period=period,
        table=table,
        headline=headline,
        reach=reach,
        rep_draws=rep_draws,
        history=series.history(ds),
        backtest=bt,
        scores=score_table,
        weights=report.weights,
        calibration=cal,
        reliability=rel,
        monthly=monthly,
        fan=ahead,
        quarters_ahead=pivot,
        target=target,
        team_targets=teams,
        sentence=summary.forecast_sentence(table, reach, period, report.pipeline_method, notes),
        basis=basis,
        nowcast=summary.nowcast_sentence(table, report.pipeline, report.pipeline_method)
        if not {"nowcast", "forecast_basis"} & set(notes)
        else "",
        calendar=summary.calendar_sentence(report.pipeline) if "forecast_basis" not in notes else "",
        weights_text=summary.weights_sentence(report.weights, report.pipeline_method),
        backtest_text=backtest_text,
        calibration_text=summary.calibration_sentence(cal),
        pipeline_method=report.pipeline_method,
        notes=notes,
    )
    if out is not None:
        outputs.write(out, "forecast.csv", table.assign(headline=table["method"] == report.pipeline_method))
        outputs.write(out, "rep_draws.parquet", rep_draws)
        outputs.write(out, "forecast_vs_target.csv", reach)
        outputs.write(out, "backtest.csv", bt)
        outputs.write(out, "forecast_weights.csv", report.weights)
    return result


def forecast_basis(f: sections.Facts, report: ForecastReport, n_backtest: int, shown: pd.DataFrame) -> str:
    """What the forecast rests on, in a sentence or two: the history, the open pipeline, the models used."""
    parts = [sections.describe_history(f)]
    company = shown[(shown["level"] == "company") & (shown["period"] == f.period)]
    if f.won == 0:
        parts.append("No deal has ever been won, so there are no win chances or deal sizes to learn: the forecast books nothing.")
    elif len(company) and float(company["p90"].iloc[0]) <= 0:
        parts.append(
            f"The forecast books nothing in most simulations: {f.won:,} won deal{'s' * (f.won != 1)} in the data "
            "are too few to learn win chances from."
        )
    elif f.open_deals == 0:
        w = report.weights
        uses_series = bool(len(w) and (w["method"].isin(series.MODELS) & (w["weight"] > 0)).any())
        parts.append(
            "No deal is open at the as-of date, so the forecast rests on the deals each rep has yet to create"
            + (" and on the time-series models." if uses_series else ".")
        )
    elif f.open_priced < f.open_deals:
        parts.append(
            f"{f.open_deals - f.open_priced:,} of {f.open_deals:,} open deals carry no amount; each counts at the average "
            "won deal size of its segment."
        )
    if f.quarters < sections.SERIES_MIN_QUARTERS:
        parts.append(f"With fewer than {sections.SERIES_MIN_QUARTERS} complete quarters the time-series models are not used.")
    if n_backtest < sections.MIN_SCORED_QUARTERS:
        parts.append(
            "Its accuracy cannot be judged yet: "
            + (
                f"{n_backtest} past quarter{'s' * (n_backtest != 1)} could be replayed, {sections.MIN_SCORED_QUARTERS} are needed."
                if n_backtest
                else "no past quarter could be replayed."
            )
        )
    return " ".join(parts)


# --------------------------------------------------------------------------------------------------
# 40: recommend quotas
# --------------------------------------------------------------------------------------------------
#: The forecast page's table of the quarters ahead: each model's median, in money.
QUARTERS_AHEAD_FORMATS = dict.fromkeys(["combined", "pipeline", "pipeline_recalibrated", "ets", "sarimax", "seasonal_naive"], "money")
POOL_FORMATS = {"reps": "count", "target": "money", "asked": "money", "p_hat": "share", "total": "money", "gap": "money"}
METHOD_FORMATS = {
    "total": "money",
    "expected_share_attaining": "share",
    "p_attain_min": "share",
    "p_attain_max": "share",
    "p_attain_sd": "share",
}
COST_FORMATS = {
    "quota": "money",
    "total": "money",
    "expected_bookings": "money",
    "expected_payout": "money",
    "payout_p10": "money",
    "payout_p90": "money",
    "p_reach_on_target_variable": "share",
    "cost_of_sales": "share",
    "cost_of_sales_p10": "share",
    "cost_of_sales_p90": "share",
    "reps": "count",
}
RAMP_FORMATS = {
    "reps": "count",
    "ramping": "count",
    "full_quota": "money",
    "headcount_capacity": "money",
    "ramped_capacity": "money",
    "ramp_shortfall": "money",
}
ROLLUP_FORMATS = {
    "reps_with_goal": "count",
    "goals": "money",
    "forecast_p10": "money",
    "forecast_p50": "money",
    "forecast_p90": "money",
    "p_reach_goals": "share",
    "target": "money",
    "goals_vs_target": "share",
}
GONIK_FORMATS = {
    "goal": "money",
    "goal_quantile": "share",
    "truthful_goal": "money",
    "gonik_payout": "number",
    "gonik_payout_truthful": "number",
}
REPLAY_FORMATS = {"expected_share": "share", "realised_share": "share", "within_20pct": "share", "plan_vs_actual": "share"}
COACHING_FORMATS = {"misses": "count", "attainment": "share", "short_of_quota": "money"}
LEADERBOARD_FORMATS = {"attainment": "share", "bookings": "money", "win_rate": "share", "improvement": "share"}
QUOTA_COLUMNS = [
    "name",
    "team",
    "quota",
    "p_attain",
    "forecast_p10",
    "forecast_p50",
    "forecast_p90",
    "ramp_factor",
    "goal",
    "flags",
    "reason",
]


#: Every column the quota page's tables show: its heading and, where it needs one, what it means (shown when the
#: pointer rests on the heading). Columns holding a metric of docs/metrics.md are in :data:`PLAN_METRIC_LABELS`.
PLAN_LABELS = {
    "name": Label("Rep"),
    "team": Label("Team"),
    "pool": Label("Planned as", "A team with its own target, planned on its own; or the reps of the teams without a target, who share what is left of the company target."),
    "reps": Label("Reps", "Active reps counted."),
    "target": Label("Target", "The bookings goal for the quarter, from the targets table."),
    "asked": Label("Asked of the quotas", "What the quotas must add up to: the target plus over-assignment."),
    "p_hat": Label("Common chance", "The chance every rep of the team has of reaching their quota, solved so the quotas add up to what is asked."),
    "total": Label("Quotas' total", "The quotas added up."),
    "gap": Label("Gap", "How much the quotas ask beyond what would let the set share of reps attain (negative: room to spare)."),
    "method": Label("Method", "How quotas are set: the same chance for every rep (equal chance), the budget split evenly over active reps, or last year's bookings plus growth."),
    "expected_share_attaining": Label("Reps expected to attain", "The share of reps expected to reach quota: the average of their chances."),
    "p_attain_min": Label("Lowest chance", "The lowest chance any rep has of reaching their quota under this method."),
    "p_attain_max": Label("Highest chance", "The highest chance any rep has of reaching their quota under this method."),
    "p_attain_sd": Label("Spread of chances", "How unequal the reps' chances are: the standard deviation of their chances of reaching quota."),
    "listed_for": Label("Listed for", "Why the rep is among those shown here."),
    "quota": Label("Quota", "The recommended quota for the quarter."),
    "p_attain": Label("Chance of attaining", "The share of the rep's simulated quarters in which they reach this quota."),
    "forecast_p10": Label("Forecast, low (p10)", "The forecast's 10th percentile: 9 simulated quarters in 10 book more."),
    "forecast_p50": Label("Forecast median", "The forecast's median: half the simulated quarters book more, half less."),
    "forecast_p90": Label("Forecast, high (p90)", "The forecast's 90th percentile: 1 simulated quarter in 10 books more."),
    "ramp_factor": Label("Ramp", "The share of a fully ramped rep's pace this rep reaches next quarter (new hires ramp up by quarter of tenure)."),
    "goal": Label("Own goal", "The goal the rep set for the quarter (goals table)."),
    "flags": Label("Flags", "What to check: a goal far from the forecast, a quota held by the quarter-on-quarter cap, a forecast resting on the team's pace, a quota to set by hand."),
    "reason": Label("Why this quota", "How the quota was set, in words."),
    "expected_bookings": Label("Expected bookings", "The average bookings over the simulated quarters."),
    "expected_payout": Label("Expected variable pay", "The average variable pay over the simulated quarters, under the pay plan."),
    "payout_p10": Label("Variable pay, low (p10)", "The 10th percentile of the simulated quarters' variable pay."),
    "payout_p90": Label("Variable pay, high (p90)", "The 90th percentile of the simulated quarters' variable pay."),
    "p_reach_on_target_variable": Label("Reps earning on-target pay", "The expected share of reps who earn at least their on-target variable pay."),
    "cost_of_sales": Label("Cost of sales", "Expected variable pay ÷ expected bookings."),
    "cost_of_sales_p10": Label("Cost of sales, low (p10)", "The 10th percentile of the simulated quarters' variable pay ÷ bookings."),
    "cost_of_sales_p90": Label("Cost of sales, high (p90)", "The 90th percentile of the simulated quarters' variable pay ÷ bookings."),
    "ramping": Label("Ramping", "Reps below full pace next quarter (new hires)."),
    "full_quota": Label("Full quota", "The median quota of the team's fully ramped reps."),
    "headcount_capacity": Label("Capacity by headcount", "Reps × a full quota: the naive figure."),
    "ramped_capacity": Label("Capacity with ramp", "Each rep's ramp × a full quota, added up: what the team can carry."),
    "ramp_shortfall": Label("Lost to ramp", "Capacity by headcount minus capacity with ramp."),
    "level": Label("Level"),
    "group": Label("Who"),
    "reps_with_goal": Label("Reps with a goal"),
    "goals": Label("Goals' total", "The reps' own goals added up."),
    "p_reach_goals": Label("Chance of reaching the goals", "The share of simulated quarters in which these reps together book at least their goals' total."),
    "goals_vs_target": Label("Goals against target", "The goals' total against the target: +10% is 10 % above it."),
    "goal_quantile": Label("Goal's place in forecast", "The share of the rep's simulated quarters that book less than the goal: 0% is below every one, 100% above every one."),
    "truthful_goal": Label("Goal the scheme rewards", "The goal with the highest expected Gonik payout if the rep believed our forecast."),
    "gonik_payout": Label("Gonik payout", "The expected Gonik payout for the goal given, in percent of the standard bonus."),
    "gonik_payout_truthful": Label("Gonik payout, rewarded goal", "The expected Gonik payout for the goal the scheme rewards, in percent of the standard bonus."),
    "expected_share": Label("Expected to attain", "The share of reps the method expected to reach quota (the average of their chances)."),
    "realised_share": Label("Attained", "The share of reps who did reach quota."),
    "within_20pct": Label("Within ±20 % of quota", "The share of reps whose bookings came within 20 % of their quota, above or below."),
    "plan_vs_actual": Label("Quotas against bookings", "The quotas' total against what was booked: +20% means quotas 20 % above bookings."),
    "short_of_quota": Label("Short of quota", "How far the rep's bookings fell short of quota in the last complete quarter."),
    "pointer": Label("Where to look", "The driver that explains most of the shortfall against the team's typical rep: deals created, win rate or deal size."),
    "improvement": Label("Improvement", "Attainment against the quarter before, in points."),
    "recognition": Label("Recognition"),
}  # fmt: skip
#: The quota page's columns that hold a metric of docs/metrics.md: heading and metric (its definition is the tooltip).
PLAN_METRIC_LABELS = {
    "misses": ("Quarters missed in a row", "consecutive_misses"),
    "attainment": ("Attainment", "quota_attainment"),
    "bookings": ("Bookings", "bookings"),
    "win_rate": ("Win rate", "win_rate"),
}


def plan_labels() -> dict[str, Label]:
    """The quota page's column headings with their definitions (:data:`PLAN_LABELS`, the metrics' from docs/metrics.md)."""
    return {**PLAN_LABELS, **summary.metric_labels(PLAN_METRIC_LABELS)}


def quota_formats(quota_type: str) -> dict[str, str]:
    """Formats of the per-rep quota table: money for bookings and margin, plain numbers for counts."""
    unit = "money" if quota_type in {"bookings", "margin"} else "number"
    return {
        "quota": unit,
        "p_attain": "share",
        "forecast_p10": unit,
        "forecast_p50": unit,
        "forecast_p90": unit,
        "ramp_factor": "share",
        "goal": unit,
    }


def sweep_table(sweep: pd.DataFrame) -> pd.DataFrame:
    """The what-if sweep as target (rows) × over-assignment (columns) of the expected share attaining, as text."""
    if sweep.empty:
        return pd.DataFrame()
    wide = sweep.pivot_table(index="target", columns="overassignment", values="expected_share_attaining")
    out = wide.map(lambda v: summary.share(v))
    out.columns = [f"over-assignment {summary.share(c)}" for c in out.columns]
    return out.rename_axis("target").reset_index().assign(target=lambda d: d["target"].map(summary.money))


@dataclass
class Planned:
    """The quota plan and everything the quota page shows around it."""

    plan: quota.QuotaPlan
    record: dict
    inputs: quota.PlanInputs
    rep_draws: pd.DataFrame
    cost: pd.DataFrame
    pay_plan: compensation.CompPlan
    sweep: pd.DataFrame
    ramp: pd.DataFrame
    rollup: pd.DataFrame
    gonik: pd.DataFrame
    replay: pd.DataFrame
    replay_summary: pd.DataFrame
    history: pd.DataFrame
    coaching: pd.DataFrame
    leaderboard: pd.DataFrame
    sentence: str
    cost_text: str
    ramp_text: str
    goals_text: str
    quota_formats: dict[str, str]
    notes: dict[str, str] = field(default_factory=dict)
    labels: dict[str, Label] = field(default_factory=dict)  # every table's column headings, with their definitions
    teams: pd.DataFrame = field(default_factory=pd.DataFrame)  # each team's quotas against its forecast (many reps only)
    shown: dict[str, shortlist.Listed] = field(default_factory=dict)  # each table as the page shows it: all rows, or a shortlist


#: The plan's warnings a quota page shows when there are too many reps to list (the teams table has the rest).
MOST_WARNINGS = 3


def shown_tables(planned: Planned) -> dict[str, shortlist.Listed]:
    """Every table of the quota page as it shows it: whole up to :data:`shortlist.MOST_LISTED` reps or teams, else the
    ones that need attention with a sentence saying where the rest are."""
    p, whole = planned.plan, shortlist.Listed
    cost = planned.cost[planned.cost["level"] == "company"].drop(columns=["level", "rep_id"]).rename(columns={"quota": "total"})
    return {
        "pools": shortlist.pools(p.pools, p.attainment_share),
        "methods": whole(p.methods),
        "cost": whole(cost.reset_index(drop=True)),
        "what_if": whole(sweep_table(planned.sweep)),
        "ramp": shortlist.ramp(planned.ramp),
        "rollup": shortlist.rollup(planned.rollup),
        "goals": shortlist.goal_positions(planned.gonik, p.quotas),
        "replay": whole(planned.replay_summary),
        "coaching": shortlist.coaching(planned.coaching[["name", "team", "misses", "attainment", "gap", "pointer"]]),
        "leaderboard": whole(planned.leaderboard.drop(columns="rep_id")),
        "quotas": shortlist.quotas(p.quotas, QUOTA_COLUMNS),
    }


def plan(ds: Dataset, settings: Settings, period: str, rep_draws: pd.DataFrame, metrics: pd.DataFrame, out: Path | None = None) -> Planned:
    """Quotas for ``period`` from ``rep_draws`` (the forecast step's bookings draws; other quota types are forecast
    here) and the history in ``metrics`` (the measure step's table)."""
    present.set_currency(settings.currency)  # every amount this step writes or shows, in the run's currency
    f = _facts(ds, settings, period)
    notes = _page(sections.missing(f), "40-recommend-quotas")
    kind, fy = settings.quota_type, ds.fiscal_year_start
    ramp_schedule = tuple(settings.ramp_schedule)
    inputs = quota.plan_inputs(ds, period, ramp_schedule, kind)
    if kind != "bookings":
        rep_draws = quota.forecaster_for(kind, settings.draws, settings.seed, ramp_schedule).fit(ds).predict(period).rep_draws()
    recommender = quota.QuotaRecommender(
        overassignment=settings.overassignment,
        attainment_share=settings.attainment_share,
        max_change=settings.max_quota_change,
        quota_type=kind,
    )
    the_plan = recommender.recommend(
        rep_draws,
        inputs.target,
        reps=inputs.reps,
        last_year=inputs.last_year,
        goals=inputs.goals,
        period=period,
        team_targets=inputs.team_targets,
        previous=inputs.previous,
        history=quota.deal_counts(ds),
    )
    record = quota.plan_record(the_plan)
    # Whether a forecast stands behind the quotas: not when nothing was ever won (activity quotas are forecast from
    # activities). Every page and the console read it from the plan's record.
    record["no_forecast"] = bool(f.won == 0 and kind != "activities")
    pay_plan = compensation.resolve_plan(settings.comp_plan)
    start = period_bounds(period, fy)[0]
    cost = compensation.plan_costs(pay_plan, the_plan, rep_draws, inputs.reps, start)
    booked = cost.loc[(cost["level"] == "company") & (cost["method"] == "equal chance"), "expected_bookings"]
    if "pay" not in notes and (cost.empty or not (booked > 0).any()):
        notes["pay"] = "No rep's forecast books anything, so there is nothing to pay against: the plan's cost cannot be shown."
        cost = cost.iloc[0:0]
    sweep = pd.DataFrame(columns=scenarios.HEADLINE + ["today"])
    if "what_if" not in notes:
        base = scenarios.prepare(
            rep_draws,
            inputs.reps,
            inputs.target,
            start,
            inputs.team_targets,
            inputs.previous,
            settings.overassignment,
            settings.attainment_share,
            ramp_schedule,
            settings.max_quota_change,
            "plan",
            kind,
            pay_plan if kind == "bookings" else None,
        )
        sweep = scenarios.sweep(
            base, target=scenarios.target_grid(inputs.target), overassignment=sorted({0.0, 0.1, 0.2, settings.overassignment})
        )
    ramp = quota.ramp_view(the_plan)
    rollup, gonik = pd.DataFrame(columns=goals.ROLLUP_COLUMNS), pd.DataFrame()
    beta, alpha, gamma = settings.gonik_coefficients
    goals_text = ""
    if "goals" not in notes and the_plan.quotas["goal"].notna().any():
        rollup = goals.goals_rollup(rep_draws, inputs.goals, inputs.reps, inputs.target, inputs.team_targets)
        goals_text = summary.goals_sentence(rollup, goals.gonik_elicited_quantile(beta, alpha, gamma), (beta, alpha, gamma))
        gonik = goals.goal_positions(rep_draws, inputs.goals, the_plan.quotas.set_index("rep_id")["quota"], beta, alpha, gamma)
        gonik = gonik.sort_values("goal_quantile").reset_index(drop=True)
    elif "goals" not in notes:
        notes["goals"] = f"No rep with a goal for {period} has a forecast, so the goals cannot be compared."
    replay = pd.DataFrame(columns=quota.REPLAY_COLUMNS)
    if "policy_backtest" not in notes:
        replay = quota.policy_backtest(
            ds,
            n=f.policy_quarters,
            attainment_share=settings.attainment_share,
            overassignment=settings.overassignment,
            # the forecast step's backtest model, so that its draws are replayed rather than made again
            make=lambda: quota.forecaster_for(kind, min(settings.draws, 1000), settings.seed, ramp_schedule),
            quota_type=kind,
        )
        if replay.empty:
            notes["policy_backtest"] = "No past quarter had reps with a forecast and bookings to replay the quotas against."
    replay_summary = (
        replay.groupby("method")[["expected_share", "realised_share", "within_20pct", "plan_vs_actual"]].mean().reset_index()
        if len(replay)
        else pd.DataFrame()
    )
    last = last_complete_period(ds.as_of_date, fy)
    history = monitoring.attainment_history(metrics, ds.reps)
    attention = monitoring.coaching(metrics, ds.reps, last, min_misses=settings.consecutive_misses)
    board = monitoring.leaderboard(metrics, ds.reps, last, shift_period(last, -1, fy)).head(15)
    if "attainment_history" not in notes and history.empty:
        notes["attainment_history"] = "No rep had a quota in a complete quarter, so there is no attainment history."
    many = shortlist.at_scale(len(the_plan.quotas))  # too many reps to draw and list one by one: the page summarises
    result = Planned(
        plan=the_plan,
        record=record,
        inputs=inputs,
        rep_draws=rep_draws,
        cost=cost,
        pay_plan=pay_plan,
        sweep=sweep,
        ramp=ramp,
        rollup=rollup,
        gonik=gonik,
        replay=replay,
        replay_summary=replay_summary,
        history=history,
        coaching=attention,
        leaderboard=board,
        sentence=summary.plan_sentence(
            record,
            most_warnings=MOST_WARNINGS if many else None,
            rest="the table of targets team by team below lists the teams with the largest gaps, quotas.xlsx every one",
        ),
        cost_text=summary.cost_sentence(cost, pay_plan.name, pay_plan.variable) if len(cost) else "",
        ramp_text=summary.ramp_sentence(ramp),
        goals_text=goals_text,
        quota_formats=quota_formats(kind),
        notes=notes,
        labels=plan_labels(),
        teams=shortlist.team_totals(the_plan.quotas, rep_draws) if many else pd.DataFrame(),
    )
    result.shown = shown_tables(result)
    if out is not None:
        outputs.write(out, "quotas.csv", the_plan.quotas)
        outputs.write(out, "quota_methods.csv", the_plan.methods)
        outputs.write(out, "quotas.xlsx", the_plan)
        outputs.write(out, "quota_plan.json", record)
        outputs.write(out, "compensation.csv", cost)
        outputs.write(out, "scenarios.csv", sweep)
        outputs.write(out, "goals_rollup.csv", rollup)
        outputs.write(out, "policy_backtest.csv", replay)
        outputs.write(out, "coaching.csv", attention)
    return result


# --------------------------------------------------------------------------------------------------
# 50: summarise for leadership (reads the run's own tables: nothing is recomputed)
# --------------------------------------------------------------------------------------------------
@dataclass
class Summarised:
    """The leadership page: the forecast and plan sentences, the headline numbers, data quality and top risks."""

    title: str
    forecast: str
    plan: str
    cost: str
    numbers: pd.DataFrame
    quality: str
    risks: list[str]
    risks_text: str
    definitions: str
    notes: dict[str, str] = field(default_factory=dict)
    ranges: pd.DataFrame = field(default_factory=pd.DataFrame)  # the company and at most five teams: range, target, chance, gap
    methods: pd.DataFrame = field(default_factory=pd.DataFrame)  # each way of setting quotas: total, expected share attaining
    aim: float | None = None  # the share of reps the plan aims to see attaining
    teams_text: str = ""  # how many teams are out of reach, and their total gap
    sweep: pd.DataFrame = field(default_factory=pd.DataFrame)  # the plan re-made for other targets and over-assignments


#: The leadership page's table of the forecast against the targets.
RANGE_COLUMNS = {
    "group": "forecast for",
    "target": "target",
    "p10": "forecast p10",
    "p50": "forecast median",
    "p90": "forecast p90",
    "p_reach": "chance of reaching it",
    "gap": "median short of target",
}
RANGE_FORMATS = {"target": "money", "p10": "money", "p50": "money", "p90": "money", "p_reach": "share", "gap": "money"}
MOST_TEAMS_SHOWN = 5


def forecast_against_targets(table: pd.DataFrame, reach: pd.DataFrame, period: str) -> tuple[pd.DataFrame, str]:
    """The company's headline forecast and the teams with the largest gaps (at most five) against their targets,
    and a sentence summarising every team: how many have less than an even chance, and how far short they fall."""
    head = table[table["period"] == period]
    if "headline" in head:
        head = head[head["headline"].astype(str) == "True"]
    rows = head[head["level"].isin(["company", "team"])][["level", "group", "p10", "p50", "p90"]]
    rows = rows.merge(reach[["level", "group", "target", "p_reach"]], on=["level", "group"], how="left")
    rows["gap"] = (rows["target"] - rows["p50"]).clip(lower=0)
    company = rows[rows["level"] == "company"].assign(group="Company")
    teams = rows[(rows["level"] == "team") & rows["target"].notna()]
    short = teams[teams["p_reach"] < 0.5]
    text = ""
    if len(teams):
        text = f"{len(short):,} of {len(teams):,} teams with a target have less than an even chance of reaching it" + (
            f"; together their medians fall {money(float(short['gap'].sum()))} short." if len(short) else "."
        )
        if len(teams) > MOST_TEAMS_SHOWN:
            text += (
                f" The {MOST_TEAMS_SHOWN} largest gaps are shown; every team is on the forecast page, and in quotas.xlsx with its quotas."
            )
    shown = pd.concat([company, teams.sort_values(["gap", "group"], ascending=[False, True]).head(MOST_TEAMS_SHOWN)], ignore_index=True)
    return shown.drop(columns="level").reset_index(drop=True), text


def summarise(run_dir: Path, settings: Settings, period: str, as_of: str) -> Summarised:
    present.set_currency(settings.currency)  # every amount this step writes or shows, in the run's currency
    run_dir = Path(run_dir)
    metrics = outputs.read(run_dir, "metrics.csv")
    accounting = outputs.read(run_dir, "accounting.csv")
    table = outputs.read(run_dir, "forecast.csv")
    reach = outputs.read(run_dir, "forecast_vs_target.csv")
    record = outputs.read(run_dir, "quota_plan.json")
    cost = outputs.read(run_dir, "compensation.csv")
    attention = outputs.read(run_dir, "coaching.csv")
    gaps = outputs.read(run_dir, "sections.csv")
    gaps = gaps[gaps["shown"] == "no"]
    notes = sections.Notes(zip(gaps["key"], gaps["why not"], strict=True))
    numbers = summary.headline(metrics, as_of, settings.fiscal_year_start)
    pay = compensation.resolve_plan(settings.comp_plan)
    rows_in, used = int(accounting["rows_in"].sum()), int(accounting["rows_used"].sum())
    quality = f"**Data quality:** {used:,} of {rows_in:,} rows used; {rows_in - used:,} quarantined with a reason (see the data check)."
    shown = table[(table["period"] == period) & (table["headline"].astype(str) == "True")] if "headline" in table else table.iloc[0:0]
    pipeline_method = str(shown["method"].iloc[0]) if len(shown) else (str(reach["method"].iloc[0]) if len(reach) else "pipeline")
    ranges, teams_text = forecast_against_targets(table, reach, period)
    if "forecast_basis" in notes:  # the page says once why there is no forecast; its table against targets would be zeros
        teams_text, notes["versus_target"] = "", ""
    if record.get("no_forecast"):  # and the what-if sweep would re-plan chances of an empty forecast
        notes["what_if"] = "With no forecast there is nothing to re-plan."
    methods = outputs.read(run_dir, "quota_methods.csv")
    risks = summary.top_risks(record, reach, metrics, accounting, attention, as_of, settings.fiscal_year_start)
    return Summarised(
        title=f"## Planning {period} · data as of {pd.Timestamp(as_of).date()}",
        forecast=summary.forecast_sentence(table, reach, period, pipeline_method, notes),
        plan=summary.plan_sentence(record, most_warnings=2),
        cost=summary.cost_sentence(cost, pay.name, pay.variable) if len(cost) else "",
        numbers=numbers.drop(columns="metric"),
        quality=quality,
        risks=risks,
        risks_text="\n".join(f"{i}. {r}" for i, r in enumerate(risks, 1)) or "No risk stands out this quarter.",
        definitions=summary.definitions_markdown(
            [*numbers["metric"], "win_rate_cohort_naive", "required_coverage", "median_deal_size", "cac"]
        ),
        notes=notes,
        ranges=ranges,
        teams_text=teams_text,
        methods=methods,
        aim=record.get("attainment_share"),
        sweep=outputs.read(run_dir, "scenarios.csv"),
    )


# --------------------------------------------------------------------------------------------------
# The whole run in one process
# --------------------------------------------------------------------------------------------------
@dataclass
class RunResult:
    checked: Checked
    measured: Measured
    forecasted: Forecasted
    planned: Planned
    summarised: Summarised


def run_all(ds: Dataset, settings: Settings, period: str, out: Path) -> RunResult:
    """Every step in order, in this process, writing the run's tables into ``out`` (what the notebooks do, without
    kernels or rendering)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    checked = check(ds, settings, period, out)
    measured = measure(ds, settings, period, out)
    forecasted = forecast(ds, settings, period, out)
    planned = plan(ds, settings, period, forecasted.rep_draws, measured.metrics, out)
    summarised = summarise(out, settings, period, str(ds.as_of_date.date()))
    return RunResult(checked, measured, forecasted, planned, summarised)


def texts(result: Any) -> list[str]:
    """Every sentence a step result holds (for checks that no page prints ``nan`` or ``None``)."""
    out: list[str] = []
    for value in vars(result).values():
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
            out.extend(value.values())
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            out.extend(value)
    return out
