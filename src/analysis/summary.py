"""Words and small tables for the reports: headers, data freshness, the leadership headline numbers.

Everything here reads the tables the stages produced (dataset, metrics table) and formats them; nothing
is estimated here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.calendar import last_complete_period, period_of, shift_period
from analysis.data import Dataset
from analysis.definitions import definitions
from analysis.present import MISSING, Label, money, multiple, share
from analysis.sections import STALE_DAYS

MODEL_NAMES = {
    "pipeline": "pipeline model",
    "pipeline_recalibrated": "recalibrated pipeline model",
    "combined": "combination of models",
    "ets": "ETS",
    "sarimax": "SARIMAX",
    "seasonal_naive": "seasonal naive",
}


def chance(p: float) -> str:
    """A probability from simulations in words: ``65%``, but ``over 99%`` / ``under 1%`` at the ends (a simulation
    never proves certainty)."""
    if p is None or pd.isna(p):
        return MISSING
    if p > 0.99:
        return "over 99%"
    if p < 0.01:
        return "under 1%"
    return share(p)


def source_name(source: str) -> str:
    """The source as a page names it: a database URL (password already hidden) as it is, a folder by its own name
    only — a page never carries a path of the machine it was made on."""
    text = str(source)
    if "://" in text:
        return text
    from pathlib import PurePath

    return PurePath(text.rstrip("/\\")).name or text


def header(title: str, period: str, as_of: str, ds: Dataset) -> str:
    """Markdown: what the page is, the period, the data's as-of date and source."""
    return (
        f"# {title}: {period}\n\n"
        f"**Data as of {pd.Timestamp(as_of).date()}** · source `{source_name(ds.source)}` (mapping: {ds.mapping}) · "
        f"fiscal year starts in month {ds.fiscal_year_start}"
    )


def freshness(ds: Dataset) -> pd.DataFrame:
    """Per table: rows used, last date seen, and days between it and the as-of date."""
    s = ds.summary()
    dated = s["last_date"].map(lambda v: v if hasattr(v, "year") else None)  # quotas, goals, targets hold quarters, not dates
    last = pd.to_datetime(dated, errors="coerce")
    lag = (ds.as_of_date - last).dt.days
    return pd.DataFrame(
        {
            "table": s["table"],
            "rows used": s["rows_used"],
            "quarantined": s["rows_quarantined"],
            "from": s["first_date"].astype("str"),
            "to": s["last_date"].astype("str"),
            "days before as-of": lag.astype("Int64"),
        }
    )


def headline(metrics: pd.DataFrame, as_of: str, fiscal_year_start: int = 1) -> pd.DataFrame:
    """The handful of numbers leadership reads first, for the last complete quarter (company level):
    ``number``, ``value``, ``compared with``, ``metric`` (the definition key). A number the data cannot give says
    why in words (no quotas, no spend, open deals without amounts, no deal closed yet), never ``0`` or ``nan``."""
    q = last_complete_period(pd.Timestamp(as_of), fiscal_year_start)
    prev, year_ago = shift_period(q, -1, fiscal_year_start), shift_period(q, -4, fiscal_year_start)
    c = metrics[(metrics["dimension"] == "company")].set_index(["metric", "period"])

    def get(metric: str, period: str = q) -> float:
        v = c["value"].get((metric, period), np.nan)
        return float(v) if v is not None and not (isinstance(v, str)) and pd.notna(v) else np.nan

    def note(metric: str, period: str = q) -> str:
        v = c["note"].get((metric, period), "") if "note" in c else ""
        return "" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)

    def closed_by(period: str) -> bool:
        """Had any deal closed in ``period`` (so its bookings, even 0, are a real number)?"""
        return (get("won_deals", period) + get("lost_deals", period)) > 0 if pd.notna(get("won_deals", period)) else False

    known = set(c.index.get_level_values("period")) if len(c) else set()
    first = min((p for p in known if p and p[:4].isdigit() and "Q" in p), default=None)

    def bookings(period: str) -> str:
        if first is None or period < first:
            return f"{period}: before the data begin"
        return f"{money(get('bookings', period))} in {period}" if closed_by(period) else f"no deal closed in {period}"

    booked = money(get("bookings")) if closed_by(q) else "no deal closed"
    cohort = share(get("win_rate_cohort")) if pd.notna(get("win_rate_cohort")) else "not known yet"
    naive = get("win_rate_cohort_naive")
    had_quotas = bool(len(c)) and (c.index.get_level_values("metric") == "attainment_rate").any()
    attain = (
        share(get("attainment_rate")) if pd.notna(get("attainment_rate")) else f"no quotas for {q}" if had_quotas else "no quotas given"
    )
    if pd.notna(get("pipeline_coverage")):
        cover = multiple(get("pipeline_coverage"))
        req = get("required_coverage")
        cover_vs = (
            f"required {multiple(req)} to expect to hit the target"
            if pd.notna(req)
            else "required coverage unknown: no open deal has a chance yet"
        )
    elif "no amount" in note("pipeline_open_amount"):
        cover, cover_vs = "not available", "open deals carry no amount"
    elif pd.isna(get("pipeline_open_amount")):
        cover, cover_vs = "not available", f"no deal was open at the end of {q}"
    else:
        cover, cover_vs = "not available", "no target or quotas for the next quarter to compare the pipeline with"
    size = money(get("avg_deal_size")) if pd.notna(get("avg_deal_size")) else "no won deal"
    median = f"typical (median) deal {money(get('median_deal_size'))}" if pd.notna(get("median_deal_size")) else ""
    cac = (
        money(get("cac_lagged"))
        if pd.notna(get("cac_lagged"))
        else "no spend given"
        if not (c.index.get_level_values(0) == "cac").any()
        else "not available"
    )
    rows = [
        ("Bookings " + q, booked, f"{bookings(prev)}, {bookings(year_ago)}", "bookings"),
        (
            "Win rate of deals created in " + q,
            cohort,
            f"closed-only figure {share(naive)} (overstates while deals are open)"
            if pd.notna(naive)
            else "none of these deals has closed yet",
            "win_rate_cohort",
        ),
        (
            "Reps at or above quota, " + q,
            attain,
            f"{share(get('attainment_rate', prev))} in {prev}" if pd.notna(get("attainment_rate", prev)) else "",
            "attainment_rate",
        ),
        ("Pipeline coverage at the end of " + q, cover, cover_vs, "pipeline_coverage"),
        ("Average won deal, " + q, size, median, "avg_deal_size"),
        ("Cost to acquire a customer, " + q, cac, f"same-quarter figure {money(get('cac'))}" if pd.notna(get("cac")) else "", "cac_lagged"),
    ]
    return pd.DataFrame(rows, columns=["number", "value", "compared with", "metric"])


def definitions_markdown(metrics: list[str]) -> str:
    """Markdown list of the plain-words definitions of ``metrics`` (from docs/metrics.md)."""
    d = definitions().set_index("metric")
    lines = [f"- **{m}**: {d.loc[m, 'definition']}" for m in dict.fromkeys(metrics) if m in d.index]
    return "**What the numbers mean**\n\n" + "\n".join(lines)


def metric_labels(columns: dict[str, tuple[str, str]]) -> dict[str, Label]:
    """Headings for table columns that hold a metric of docs/metrics.md (column → heading, metric), each with the
    metric's definition."""
    d = definitions().set_index("metric")["definition"]
    return {c: Label(text, d.get(m, "").replace("`", "")) for c, (text, m) in columns.items()}


def forecast_sentence(
    forecast: pd.DataFrame, reach: pd.DataFrame, period: str, pipeline_method: str = "pipeline", notes: dict[str, str] | None = None
) -> str:
    """The company forecast's median and 80 % range from ``pipeline_method``'s simulations — the same draws that give
    the chance of reaching the target (``reach``) and the quotas, so the median and the chance always agree — and,
    where there is one, the combination of models as a comparison, named as such."""
    notes = notes or {}
    if "forecast_basis" in notes:
        return f"**{period} bookings forecast: not available.** {notes['forecast_basis']}"
    f = forecast[(forecast["level"] == "company") & (forecast["period"] == period)]
    combined = f[f["method"] == "combined"] if "method" in f else f.iloc[0:0]
    shown = f[f["method"] == pipeline_method] if "method" in f else f
    if shown.empty:
        return f"**{period} bookings forecast: not available.**"
    c = shown.iloc[0]
    name = MODEL_NAMES.get(str(c.get("method", pipeline_method)), str(c.get("method", "")))
    text = f"**{period} bookings forecast: {money(c['p50'])}** (80 % range {money(c['p10'])} to {money(c['p90'])}; {name})."
    t = reach[reach["level"] == "company"] if len(reach) else reach
    if len(t):
        r = t.iloc[0]
        text += f" Company target {money(r['target'])}: the same simulations put the chance of reaching it at {chance(r['p_reach'])}."
    elif len(reach) and (reach["level"] == "team").any():
        text += " No company target was given; the teams' targets and their chances are on the forecast page."
    else:
        text += " " + notes.get("versus_target", "No company target was given for this period.")
    if len(combined):
        k = combined.iloc[0]
        text += (
            f" For comparison, the backtest-weighted combination with the time-series models puts the median at {money(k['p50'])} "
            f"(80 % range {money(k['p10'])} to {money(k['p90'])}); the quotas and chances use the {name}'s simulations."
        )
    return text


def nowcast_sentence(forecast: pd.DataFrame, pipeline, method: str = "pipeline") -> str:
    """Where the quarter under way at the as-of date will land: booked so far (the fitted ``pipeline`` model's
    :meth:`booked`) and its nowcast (the ``forecast`` table's company row for that quarter, from ``method``). Empty
    when the as-of date is the quarter's last day."""

    now = period_of(pipeline.as_of_, pipeline.fiscal_year_start_)
    f = forecast[(forecast["level"] == "company") & (forecast["period"] == now) & (forecast["method"] == method)]
    if f.empty:
        return ""
    booked = float(pipeline.booked(now)["value"].sum())
    c = f.iloc[0]
    return (
        f"**{now}, under way:** {money(booked)} booked by {pipeline.as_of_:%d %B %Y}; with the open pipeline and the deals "
        f"still to be created it should land at **{money(c['p50'])}** (80 % range {money(c['p10'])} to {money(c['p90'])})."
    )


def calendar_sentence(pipeline) -> str:
    """What the fitted pipeline model learned about the calendar, the owners and the deal features, in words."""
    parts = []
    rho = pipeline.closing_.rho
    parts.append(
        f"Quarter-end rush: {rho:.0%} of the wins due in a quarter's first {pipeline.closing_.pull_days} days are pulled into the "
        "quarter before."
        if rho > 0
        else "No quarter-end rush is visible in the wins of the last two years (or too little history to tell)."
    )
    c = pipeline.creation_.summary()
    if (c["factor"] != 1).any():
        lo, hi = c.loc[c["factor"].idxmin()], c.loc[c["factor"].idxmax()]
        parts.append(
            f"New deals are created at {lo['factor']:.0%} of the average pace in {pd.Timestamp(2000, int(lo['month']), 1):%B} and "
            f"{hi['factor']:.0%} in {pd.Timestamp(2000, int(hi['month']), 1):%B}."
        )
    trend = float(c["trend"].iloc[0])
    if trend != 1:
        parts.append(f"Deals created per rep change by {trend - 1:+.0%} a year.")
    r = pipeline.reps_.loc[pipeline.reps_["active"], "owner_ratio"]
    if len(r) and r.std() > 0:
        parts.append(
            f"Reps win between {r.quantile(0.1):.2f}× and {r.quantile(0.9):.2f}× their segment's average (10th to 90th percentile, shrunk)."
        )
    left = pipeline.features_left_out_
    if pipeline.recalibrate and left:
        names = {"stage": "stage", "log_stage_days": "days in stage", "log_amount": "amount"}
        by_reason: dict[str, list[str]] = {}
        for feature, why in left.items():
            by_reason.setdefault(why, []).append(names.get(feature, feature))
        parts.append("The recalibration does not use " + "; nor ".join(f"{' and '.join(f)} ({why})" for why, f in by_reason.items()) + ".")
    return " ".join(parts)


def quantity(value: float, quota_type: str = "bookings") -> str:
    """A quota-type value in words: money for bookings and margin, a count otherwise."""
    if quota_type in {"bookings", "margin"}:
        return money(value)
    return "n/a" if pd.isna(value) else f"{value:,.0f} {quota_type.replace('_', ' ')}"


def weights_sentence(weights: pd.DataFrame, pipeline_method: str = "pipeline") -> str:
    """Which forecasting model carries how much weight, per level, in words (``series.combination_weights``), and
    which pipeline variant the quotas' per-rep draws come from."""
    names = {
        "pipeline": "pipeline model",
        "pipeline_recalibrated": "recalibrated pipeline",
        "ets": "ETS",
        "sarimax": "SARIMAX",
        "seasonal_naive": "seasonal naive",
    }
    source = (
        f"\n\nThe per-rep simulations behind the quotas come from the **{names.get(pipeline_method, pipeline_method)}**, "
        "the pipeline variant with the lower backtest loss at company level."
    )
    if weights.empty:
        return (
            "The forecast shown is the pipeline model alone: the history is too short to backtest and weigh "
            "time-series models against it." + source
        )
    lines = []
    for level, g in weights.groupby("level", sort=False):
        used = g[g["weight"] > 0].sort_values("weight", ascending=False)
        parts = ", ".join(f"{names.get(m, m)} {w:.0%}" for m, w in zip(used["method"], used["weight"], strict=True))
        dropped = g[(g["weight"] == 0) & (g["method"] != "seasonal_naive")]["method"].map(lambda m: names.get(m, m)).tolist()
        line = f"- **{level}**: {parts}"
        if dropped:
            line += f" ({', '.join(dropped)} did not beat the seasonal naive in the backtest, so get none)"
        lines.append(line)
    return (
        "The forecast shown combines the models, each weighted by how well it forecast the past quarters "
        "(inverse pinball loss of its 10th, 50th and 90th percentiles):\n" + "\n".join(lines) + source
    )


def calibration_sentence(cal: pd.DataFrame) -> str:
    """Expected against actual wins of the deals open at past quarter ends (``backtest.calibration``)."""
    if cal.empty:
        return "Too little history to check the deal probabilities yet."
    expected, won = float(cal["pi"].sum()), int(cal["won"].sum())
    return (
        f"Of {len(cal):,} deals open at the last {cal['cutoff'].nunique()} quarter ends, the model expected "
        f"{expected:,.0f} to be won in the next quarter; {won:,} were ({expected / won - 1:+.0%} "
        f"{'over' if expected > won else 'under'}-predicted)."
        if won
        else f"Of {len(cal):,} deals open at past quarter ends the model expected {expected:,.0f} wins; none came."
    )


#: Where a page that shows only some of the plan's warnings sends the reader for the rest.
REST_OF_WARNINGS = "the quota page lists the teams with the largest gaps, quotas.xlsx every one"


#: What the plan says when no forecast stands behind the quotas (no deal has ever been won).
NO_FORECAST = (
    "no deal has ever been won, so no rep has a forecast to set a quota from and no chance of attaining them can be "
    "stated; set them by hand (the quota page shows the budget ÷ active reps split beside them)"
)


def plan_sentence(record: dict, most_warnings: int | None = None, rest: str = REST_OF_WARNINGS) -> str:
    """How realistic the quota plan is, in words, with the gap if there is one (``quota.plan_record``); without a
    company target, what the quotas rest on instead. ``most_warnings``: show at most that many of the plan's warnings
    (one per team out of reach) and count the rest, saying where they are (``rest``): the leadership page, and the
    quota page of a company with many teams. A plan with no forecast behind it (``no_forecast``: nothing was ever
    won) says so instead: its chances, and its warnings, all about chances, would be those of an empty forecast."""
    kind = record.get("quota_type", "bookings")

    def q(v: float) -> str:
        return quantity(v, kind)

    what = "" if kind == "bookings" else f" ({kind.replace('_', ' ')})"
    reps = f"{record['reps']:,} rep{'s' * (record['reps'] != 1)}"
    teams = record.get("teams_with_own_target") or []
    if record.get("no_forecast"):
        target = f" for a target of {q(record['target'])}" if record.get("target") is not None else ""
        return f"**Quota plan {record['period']}{what}:** quotas for {reps} add up to {q(record['total'])}{target}, but {NO_FORECAST}."
    if record.get("target") is None and teams:
        text = (
            f"**Quota plan {record['period']}{what}:** no company target was given; {len(teams):,} team{'s' * (len(teams) != 1)} "
            f"with their own target {'are' if len(teams) != 1 else 'is'} planned against it, the other reps at the "
            f"{share(record.get('attainment_share', 0.65))} share; quotas for {reps} add up to {q(record['total'])}, and across all "
            f"reps the expected share attaining is **{share(record['p_hat'])}**."
        )
    elif record.get("target") is None:
        text = (
            f"**Quota plan {record['period']}{what}:** no target was given, so the quotas for {reps} are set where each has a "
            f"**{share(record['p_hat'])} chance** of reaching them (realistic mode); they add up to {q(record['total'])}."
        )
    else:
        if teams:
            chance_text = (
                f"teams with their own target ({len(teams):,}) are planned first; across all reps the expected share "
                f"attaining is **{share(record['p_hat'])}**"
            )
        else:
            chance_text = (
                f"every rep has a **{share(record['p_hat'])} chance** of reaching quota, so about {share(record['p_hat'])} "
                f"of reps are expected to attain"
            )
        text = (
            f"**Quota plan {record['period']}{what}:** quotas for {reps} add up to {q(record['total'])} for a "
            f"target of {q(record['target'])}; {chance_text}."
        )
    warnings = list(record["warnings"])
    if most_warnings is not None and len(warnings) > most_warnings:
        more = len(warnings) - most_warnings
        warnings = [
            *warnings[:most_warnings],
            f"…and {more:,} more warning{'s' * (more != 1)} of the same kind: {rest}.",
        ]
    if warnings:
        text += "\n\n" + "\n\n".join(f"⚠ {w}" for w in warnings)
    return text


def ramp_sentence(view: pd.DataFrame) -> str:
    """Ramp capacity in words (``quota.ramp_view``)."""
    t = view[view["team"] == "all teams"].iloc[0]
    if t["ramping"] == 0:
        return "No rep is ramping next quarter: capacity is the full headcount."
    return (
        f"**{int(t['ramping']):,} of {int(t['reps']):,} reps are ramping.** Headcount × a full quota would suggest "
        f"{money(t['headcount_capacity'])} of capacity; counted at their ramp it is {money(t['ramped_capacity'])} "
        f"({money(t['ramp_shortfall'])} less)."
    )


def cost_sentence(table: pd.DataFrame, plan_name: str, variable: float) -> str:
    """What the recommended quotas cost under a pay plan, in words (``compensation.compensation_table``)."""
    c = table[(table["level"] == "company")].set_index("method")
    r = c.loc["equal chance"]
    text = (
        f"**Under the pay plan “{plan_name}”, the recommended quotas are expected to cost {money(r['expected_payout'])} in "
        f"variable pay** (80 % range {money(r['payout_p10'])} to {money(r['payout_p90'])}), **{share(r['cost_of_sales'])} of "
        f"bookings** ({share(r['cost_of_sales_p10'])} to {share(r['cost_of_sales_p90'])}); about "
        f"{share(r['p_reach_on_target_variable'])} of reps are expected to earn at least their on-target variable of {money(variable)}."
    )
    if "budget ÷ active reps" in c.index:
        b = c.loc["budget ÷ active reps"]
        text += f" Budget ÷ reps would cost {money(b['expected_payout'])} ({share(b['cost_of_sales'])} of bookings)."
    return text


def what_if_markdown(h: dict) -> str:
    """A what-if headline (``scenarios.what_if``) as a short Markdown list."""
    lines = [
        f"- **Share of reps expected to attain: {share(h['expected_share_attaining'])}** (aim: {share(h['attainment_share'])})",
        f"- Quotas add up to {money(h['quota_total'])} for target {money(h['target'])} × (1 + {h['overassignment']:.0%})",
        f"- Gap to a realistic plan: {money(h['gap'])}" if pd.notna(h["gap"]) else "- No target to reconcile with",
        f"- Expected bookings {money(h['expected_bookings'])}; chance of reaching the target {share(h['p_reach_target'])}",
    ]
    if pd.notna(h.get("cost_of_sales")):
        lines.append(
            f"- Variable pay ({h['comp_plan']}): {money(h['expected_variable_pay'])} expected "
            f"(80 % range {money(h['variable_pay_p10'])} to {money(h['variable_pay_p90'])}), cost of sales "
            f"{share(h['cost_of_sales'])}; {share(h['share_reaching_on_target_variable'])} of reps earn their on-target variable"
        )
    return "\n".join(lines)


def goals_sentence(rollup: pd.DataFrame, tau: float, coefficients: tuple[float, float, float]) -> str:
    """The collective goal against forecast and target in words (``goals.goals_rollup``), and the Gonik quantile."""
    c = rollup[rollup["level"] == "company"].iloc[0]
    text = (
        f"**{int(c['reps_with_goal']):,} reps set goals adding up to {money(c['goals'])}.** Their own forecasts add up to "
        f"{money(c['forecast_p50'])} (median; 80 % range {money(c['forecast_p10'])} to {money(c['forecast_p90'])}), "
        f"a {share(c['p_reach_goals'])} chance of reaching the goals together."
    )
    if pd.notna(c["target"]) and pd.notna(c["goals_vs_target"]):
        text += f" Against the leader's target of {money(c['target'])} the goals are {c['goals_vs_target']:+.0%}."
    b, a, g = coefficients
    text += (
        f" Paid Gonik-style (β {b:g}, α {a:g}, γ {g:g}), a rep earns most by stating the {tau:.0%} quantile of what "
        f"they believe they will book."
    )
    return text


#: The most teams a risk names (the rest are counted): the leadership page summarises, the forecast page lists.
MOST_TEAMS_NAMED = 5


def top_risks(
    plan: dict,
    reach: pd.DataFrame,
    metrics: pd.DataFrame,
    accounting: pd.DataFrame,
    coaching: pd.DataFrame,
    as_of: str,
    fiscal_year_start: int = 1,
) -> list[str]:
    """The risks leadership should see first, most serious first, each with its number. Reads the run's tables:
    the quota plan record (with its attainment-share setting), the forecast against targets, the metrics, the row
    accounting and the coaching list. A plan with no forecast behind it (nothing was ever won) has one risk where the
    chances of the plan and of the targets would be: that there is no forecast."""
    risks: list[tuple[float, str]] = []
    attainment_share = plan.get("attainment_share", 0.65)
    if plan.get("no_forecast"):
        risks.append((1.0, "No deal has ever been won, so there is no forecast of bookings and no quota can be set from one."))
        reach = reach.iloc[0:0]
    elif plan.get("target") is not None and plan["p_hat"] < attainment_share:
        risks.append(
            (
                1.0,
                f"The target is out of reach for most reps: about {share(plan['p_hat'])} of reps are expected to "
                f"attain, against the {share(attainment_share)} the plan aims for.",
            )
        )
    teams = reach[(reach["level"] == "team") & (reach["p_reach"] < 0.25)].sort_values("p_reach")
    if len(teams):
        shown = teams.head(MOST_TEAMS_NAMED)
        names = ", ".join(f"{g} ({share(p)})" for g, p in zip(shown["group"], shown["p_reach"], strict=True))
        rest = f"; {len(teams) - len(shown):,} more on the forecast page" if len(teams) > len(shown) else ""
        what = f"{len(teams):,} teams have" if len(teams) > 1 else "1 team has"
        risks.append((0.8, f"{what} less than a 25% chance of reaching their target (chance in brackets): {names}{rest}."))
    q = last_complete_period(pd.Timestamp(as_of), fiscal_year_start)
    c = metrics[(metrics["dimension"] == "company") & (metrics["period"] == q)].set_index("metric")["value"]
    cov, req = c.get("pipeline_coverage", float("nan")), c.get("required_coverage", float("nan"))
    if pd.notna(cov) and pd.notna(req) and cov < req:
        risks.append(
            (0.7, f"Pipeline at the end of {q} covers {cov:.1f}x next quarter's target; {req:.1f}x is needed to expect to hit it.")
        )
    if len(coaching):
        risks.append(
            (0.5, f"{len(coaching):,} reps have missed quota two or more quarters in a row (total gap {money(coaching['gap'].sum())}).")
        )
    if "table" in accounting and "last_date" in accounting:
        opp = accounting[accounting["table"] == "opportunities"]
        last = pd.to_datetime(opp["last_date"], errors="coerce").max() if len(opp) else pd.NaT
        lag = (pd.Timestamp(as_of) - last).days if pd.notna(last) else 0
        if lag > STALE_DAYS:
            risks.append(
                (
                    0.9,
                    f"The extract's last deal record is dated {last.date()}, {lag:,} days before the as-of date: the plan "
                    "reads a stale pipeline.",
                )
            )
    rows_in = accounting["rows_in"].sum()
    bad = accounting["rows_quarantined"].sum() / rows_in if rows_in else 0.0
    if bad > 0.02:
        risks.append((0.4 + bad, f"{share(bad)} of the input rows were quarantined: the numbers rest on less data than was sent."))
    return [text for _, text in sorted(risks, key=lambda r: -r[0])]
