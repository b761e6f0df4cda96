"""Charts for the reports (seaborn). They draw what the stages return and compute nothing new.

Each function takes the tidy table it draws (the metrics table, a dataset's tables) and returns the
matplotlib ``Axes`` (or ``Figure``) so a notebook can show it. A chart of reps draws each rep up to
:data:`analysis.shortlist.MOST_LISTED` reps and a summary above (a distribution, or one mark per team), so that its
height stays the same at 40 reps and at 2,000.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import MaxNLocator

from analysis.present import axis_format, axis_money, axis_share, count, money, share
from analysis.shortlist import MOST_BARS, at_scale

sns.set_theme(style="whitegrid", context="notebook")


def _metric(table: pd.DataFrame, metric: str, dimension: str = "company") -> pd.DataFrame:
    return table[(table["metric"] == metric) & (table["dimension"] == dimension)].sort_values("period")


def bookings_trend(table: pd.DataFrame, ax=None):
    """Bookings per period (company), with the number of won deals as labels."""
    ax = ax or plt.subplots(figsize=(8, 3.2))[1]
    b = _metric(table, "bookings")
    sns.barplot(data=b, x="period", y="value", color=sns.color_palette()[0], ax=ax)
    ax.set(title="Bookings per quarter", xlabel="", ylabel="bookings")
    ax.tick_params(axis="x", rotation=45)
    axis_money(ax)
    return ax


def win_rates(table: pd.DataFrame, ax=None):
    """The naive closed-only win rate beside the censoring-aware cohort estimate, with its interval."""
    ax = ax or plt.subplots(figsize=(8, 3.2))[1]
    series = {
        "won / closed (deals closed in the quarter)": _metric(table, "win_rate"),
        "won / closed (deals created in the quarter)": _metric(table, "win_rate_cohort_naive"),
        "eventual win rate, open deals counted (estimate)": _metric(table, "win_rate_cohort"),
    }
    for (label, frame), style in zip(series.items(), ["--", ":", "-"], strict=True):
        ax.plot(frame["period"], frame["value"], style, marker="o", label=label)
        if label.startswith("eventual"):
            ax.fill_between(frame["period"], frame["lower"], frame["upper"], alpha=0.2)
    ax.set(title="Win rate: naive beside censoring-aware", ylabel="win rate", ylim=(0, None))
    axis_share(ax)
    ax.tick_params(axis="x", rotation=45)
    ax.legend(fontsize=8, loc="lower left")
    return ax


def deal_sizes(opportunities: pd.DataFrame, ax=None):
    """Distribution of won deal amounts by segment (log scale): skewed, so mean and median differ. Takes the
    opportunities, or won deals only (``segment``, ``amount``)."""
    ax = ax or plt.subplots(figsize=(8, 3.2))[1]
    won = opportunities[(opportunities["status"] == "won") & (opportunities["amount"] > 0)] if "status" in opportunities else opportunities
    sns.histplot(data=won, x="amount", hue="segment", log_scale=True, element="step", stat="density", common_norm=False, ax=ax)
    ax.set(title="Won deal size by segment", xlabel="amount (log scale)")
    axis_money(ax, "x")
    return ax


def cycle_curves(curves: pd.DataFrame, ax=None):
    """Cumulative share of eventual winners won by day t (one line per group): ``group``, ``time``, ``share``."""
    ax = ax or plt.subplots(figsize=(8, 3.2))[1]
    sns.lineplot(data=curves, x="time", y="share", hue="group", drawstyle="steps-post", ax=ax)
    ax.axhline(0.5, color="grey", lw=0.8, ls=":")
    ax.set(title="Time to win among eventual winners", xlabel="days since created", ylabel="share of wins", ylim=(0, 1))
    axis_share(ax)
    return ax


def stage_funnel(table: pd.DataFrame, ax=None):
    """Eventual win rate from entering each stage, latest complete quarter with data."""
    ax = ax or plt.subplots(figsize=(8, 3))[1]
    s = _metric(table, "stage_win_rate")
    if s.empty:
        ax.text(0.5, 0.5, "no stage history", ha="center", transform=ax.transAxes)
        return ax
    latest = s.groupby("group")["value"].mean().sort_values()
    sns.barplot(x=latest.values, y=latest.index, color=sns.color_palette()[2], ax=ax)
    ax.set(
        title="Chance of winning once a deal has entered a stage (average over quarters)",
        xlabel="eventual win rate",
        ylabel="",
        xlim=(0, 1),
    )
    axis_share(ax, "x")
    return ax


def cac(table: pd.DataFrame, ax=None):
    """CAC (blended, lagged, paid) per period."""
    ax = ax or plt.subplots(figsize=(8, 3.2))[1]
    for metric, style in [("cac", "-"), ("cac_lagged", "--"), ("cac_paid", ":")]:
        m = _metric(table, metric)
        ax.plot(m["period"], m["value"], style, marker="o", label=metric)
    ax.set(title="Customer acquisition cost", ylabel="per new customer")
    axis_money(ax)
    ax.tick_params(axis="x", rotation=45)
    ax.legend(fontsize=8)
    return ax


def attainment(table: pd.DataFrame, ax=None):
    """Share of reps at or above quota per quarter, with its interval."""
    ax = ax or plt.subplots(figsize=(8, 3.2))[1]
    a = _metric(table, "attainment_rate")
    ax.plot(a["period"], a["value"], marker="o")
    ax.fill_between(a["period"], a["lower"], a["upper"], alpha=0.2)
    ax.set(title="Share of reps reaching quota", ylabel="share", ylim=(0, 1))
    axis_share(ax)
    ax.tick_params(axis="x", rotation=45)
    return ax


def coverage(table: pd.DataFrame, ax=None):
    """Pipeline coverage at each quarter end beside the coverage actually required."""
    ax = ax or plt.subplots(figsize=(8, 3.2))[1]
    for metric, label in [
        ("pipeline_coverage", "pipeline / next quarter's target"),
        ("required_coverage", "required (1 / chance to win in the quarter)"),
    ]:
        m = _metric(table, metric)
        ax.plot(m["period"], m["value"], marker="o", label=label)
    ax.set(title="Pipeline coverage at quarter end", ylabel="x target")
    axis_format(ax, "multiple")
    ax.tick_params(axis="x", rotation=45)
    ax.legend(fontsize=8)
    return ax


def quarantine(summary: pd.DataFrame, ax=None):
    """Quarantined rows by table and reason."""
    ax = ax or plt.subplots(figsize=(8, max(1.5, 0.35 * len(summary) + 0.8)))[1]
    if summary.empty:
        ax.text(0.5, 0.5, "no rows quarantined", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return ax
    labels = summary["table"] + ": " + summary["reason"]
    ax.barh(labels, summary["rows"], color=sns.color_palette()[3])
    ax.invert_yaxis()
    ax.set(title="Rows quarantined, by reason", xlabel="rows")
    axis_format(ax, "count", "x")
    return ax


def close(fig_or_ax) -> None:
    """Close a figure once shown (keeps memory flat over many charts)."""
    fig = fig_or_ax.figure if hasattr(fig_or_ax, "figure") else fig_or_ax
    plt.close(fig)


def forecast_fan(history: pd.DataFrame, forecast: pd.DataFrame, target: float | None = None, ax=None):
    """Company bookings per quarter (``period``, ``bookings``) and the forecast's p10–p90 range and median."""
    ax = ax or plt.subplots(figsize=(8, 3.4))[1]
    h = history.sort_values("period")
    ax.plot(h["period"], h["bookings"], marker="o", label="booked")
    f = forecast[forecast["level"] == "company"]
    x = list(f["period"])
    ax.errorbar(
        x,
        f["p50"],
        yerr=[f["p50"] - f["p10"], f["p90"] - f["p50"]],
        fmt="s",
        color=sns.color_palette()[1],
        capsize=6,
        label="forecast: median and 80 % range",
    )
    if target is not None and pd.notna(target):
        ax.axhline(target, color="grey", ls="--", lw=1, label="target")
    ax.set(title="Bookings: history and the quarters ahead", ylabel="bookings")
    axis_money(ax)
    ax.tick_params(axis="x", rotation=45)
    ax.legend(fontsize=8)
    return ax


def team_ranges(forecast: pd.DataFrame, targets: pd.Series | None = None, ax=None):
    """Each team's forecast p10–p90 and median, with its target where one is set."""
    t = forecast[forecast["level"] == "team"].sort_values("p50")
    ax = ax or plt.subplots(figsize=(8, 0.45 * len(t) + 1.2))[1]
    ax.hlines(t["group"], t["p10"], t["p90"], lw=6, alpha=0.4)
    ax.plot(t["p50"], t["group"], "o", label="median")
    if targets is not None and len(targets):
        tt = t["group"].map(targets)
        ax.plot(tt, t["group"], "k|", markersize=16, label="target")
    ax.set(title="Next quarter by team: 80 % range", xlabel="bookings")
    axis_money(ax, "x")
    ax.legend(fontsize=8)
    return ax


def ranges_against_targets(ranges: pd.DataFrame, ax=None):
    """The company's and the shown teams' 80 % ranges and medians, each with its target where one is set: the company
    and the teams each on their own scale (a company of 250 teams is a hundred times any one of them), unless one
    ``ax`` is given."""
    company = ranges[ranges["group"] == "Company"]
    parts = [p for p in (company, ranges[ranges["group"] != "Company"]) if len(p)] if ax is None else [ranges]
    if ax is None:
        fig, grid = plt.subplots(
            len(parts), 1, figsize=(5.4, 0.34 * len(ranges) + 1.5 + 0.4 * (len(parts) - 1)), height_ratios=[len(p) + 0.6 for p in parts]
        )
        axes = list(grid) if len(parts) > 1 else [grid]
    else:
        axes = [ax]
    for a, part in zip(axes, parts, strict=True):
        t = part.iloc[::-1]
        a.hlines(t["group"], t["p10"], t["p90"], lw=7, alpha=0.4, color=sns.color_palette()[0], label="80 % range")
        a.plot(t["p50"], t["group"], "o", ms=5, color=sns.color_palette()[0], label="median")
        if "target" in t and t["target"].notna().any():
            a.plot(t["target"], t["group"], "k|", markersize=14, mew=2, label="target")
        a.set(ylabel="", ylim=(-0.6, len(t) - 0.4))
        axis_money(a, "x")
        a.xaxis.set_major_locator(MaxNLocator(5))
        a.tick_params(labelsize=8)
    axes[0].set_title("Next quarter: the forecast against the targets")
    axes[-1].set_xlabel("bookings", fontsize=9)
    fig = axes[0].figure
    if ax is None:  # the key under the chart, clear of every range
        fig.legend(*axes[-1].get_legend_handles_labels(), loc="lower center", ncol=3, frameon=False, fontsize=7)
        fig.tight_layout(rect=(0, 0.3 / fig.get_figheight(), 1, 1))
    else:
        ax.legend(fontsize=7, loc="best")
    return axes[0]


def plan_realism(methods: pd.DataFrame, aim: float | None = None, ax=None):
    """The share of reps expected to attain under each way of setting quotas (``quota_methods.csv``: equal chance,
    budget ÷ reps, last year + growth), each labelled with the quotas' total, against the share the plan aims for."""
    m = methods.dropna(subset=["expected_share_attaining"]).iloc[::-1]
    ax = ax or plt.subplots(figsize=(5.4, 0.45 * len(m) + 1.5))[1]
    labels = [f"{name}\n(quotas {money(total)})" for name, total in zip(m["method"], m["total"], strict=True)]
    ax.barh(labels, m["expected_share_attaining"], alpha=0.7)
    if aim is not None:
        ax.axvline(aim, color="k", lw=1.5, label=f"aim: {share(aim)} of reps attain")
        ax.legend(fontsize=7, loc="lower right")
    ax.set(title="How realistic the quotas are: reps expected to attain", xlim=(0, 1))
    axis_share(ax, "x")
    ax.tick_params(labelsize=8)
    ax.figure.tight_layout()
    return ax


def backtest_chart(bt: pd.DataFrame, ax=None, method: str | None = None):
    """Company backtest: each past quarter's forecast range against what was booked (one method: ``combined``
    when the backtest has it, else the pipeline model)."""
    b = bt[bt["level"] == "company"]
    if "method" in b:
        method = method or ("combined" if (b["method"] == "combined").any() else "pipeline")
        b = b[b["method"] == method]
    ax = ax or plt.subplots(figsize=(8, 3.2))[1]
    ax.errorbar(
        b["period"], b["p50"], yerr=[b["p50"] - b["p10"], b["p90"] - b["p50"]], fmt="s", capsize=6, label="forecast made the quarter before"
    )
    ax.plot(b["period"], b["actual"], "o", color="black", label="booked")
    ax.set(title="How past forecasts did (rolling origin)", ylabel="bookings")
    axis_money(ax)
    ax.legend(fontsize=8)
    return ax


def _unit(quotas: pd.DataFrame) -> str:
    return str(quotas["quota_type"].iloc[0]) if "quota_type" in quotas and len(quotas) else "bookings"


def quota_vs_forecast(quotas: pd.DataFrame, teams: pd.DataFrame | None = None, ax=None):
    """Each rep's forecast range (p10–p90, median) and recommended quota; with more reps than can be drawn one by
    one and ``teams`` given (``shortlist.team_totals``), each team's quotas against its forecast instead."""
    if at_scale(len(quotas)) and teams is not None and len(teams):
        return team_quotas_vs_forecast(teams, _unit(quotas), ax)
    q = quotas.sort_values("forecast_p50")
    ax = ax or plt.subplots(figsize=(8, 0.28 * len(q) + 1.5))[1]
    ax.hlines(q["name"], q["forecast_p10"], q["forecast_p90"], lw=5, alpha=0.35, label="forecast 80 % range")
    ax.plot(q["forecast_p50"], q["name"], "o", ms=4, label="forecast median")
    ax.plot(q["quota"], q["name"], "k|", ms=12, label="recommended quota")
    if "quota_budget_per_rep" in q:
        ax.plot(q["quota_budget_per_rep"], q["name"], "rx", ms=5, label="budget ÷ reps")
    unit = q["quota_type"].iloc[0] if "quota_type" in q and len(q) else "bookings"
    ax.set(title="Quota against each rep's own forecast", xlabel=unit.replace("_", " "), ylabel="")
    if unit in {"bookings", "margin"}:
        axis_money(ax, "x")
    ax.tick_params(axis="y", labelsize=7)
    ax.legend(fontsize=8, loc="lower right")
    return ax


def team_quotas_vs_forecast(teams: pd.DataFrame, unit: str = "bookings", ax=None):
    """Each team's quotas added up against the team's forecast (``shortlist.team_totals``): the median as a point, the
    80 % range as a line; above the diagonal the quotas ask more than the median. The five teams furthest above it
    are named in the top-left corner, which a plan leaves empty (quotas far above a small forecast)."""
    ax = ax or plt.subplots(figsize=(8, 5))[1]
    t = teams.dropna(subset=["forecast_p50"])
    ax.hlines(t["quota"], t["forecast_p10"], t["forecast_p90"], lw=1, alpha=0.25, color=sns.color_palette()[0], label="forecast 80 % range")
    ax.plot(t["forecast_p50"], t["quota"], "o", ms=3.5, alpha=0.8, color=sns.color_palette()[0], label="team: forecast median, quotas")
    top = float(max(t["quota"].max(), t["forecast_p90"].max())) * 1.05 if len(t) else 1.0
    ax.plot([0, top], [0, top], color="grey", ls="--", lw=1, label="quotas = forecast median")
    furthest = t.assign(stretch=t["quota"] - t["forecast_p50"]).nlargest(5, "stretch").sort_values("quota", ascending=False)
    for i, r in enumerate(furthest.itertuples()):  # named in a column in the empty top-left corner, a line to each
        ax.annotate(
            str(r.team),
            (r.forecast_p50, r.quota),
            xytext=(0.03, 0.95 - 0.065 * i),
            textcoords="axes fraction",
            fontsize=7,
            va="center",
            arrowprops={"arrowstyle": "-", "lw": 0.5, "color": "grey"},
        )
    ax.set(
        title=f"Each team's quotas against its forecast ({count(len(teams))} teams)",
        xlabel=f"forecast {unit.replace('_', ' ')}",
        ylabel="quotas added up",
        xlim=(0, top),
        ylim=(0, top),
    )
    if unit in {"bookings", "margin"}:
        axis_money(ax, "x")
        axis_money(ax)
    ax.legend(fontsize=8, loc="lower right")
    above = int((t["quota"] > t["forecast_p50"]).sum())
    ax.figure.set_label(  # the chart in words (the page's alt text)
        f"Chart: each team's quotas against its forecast ({count(len(teams))} teams): {count(above)} ask more than their "
        f"forecast median; furthest above it: {', '.join(map(str, furthest['team']))}."
    )
    return ax


_CHANCES_BY_METHOD = {
    "p_attain": "equal chance",
    "p_attain_budget_per_rep": "budget ÷ active reps",
    "p_attain_last_year_plus_growth": "last year + growth",
}


def attainment_chances(quotas: pd.DataFrame, ax=None):
    """Distribution of reps' chance of attaining under each method: equal chance vs the baselines (one dot per rep;
    with more reps than can be drawn one by one, how many reps have each chance)."""
    ax = ax or plt.subplots(figsize=(8, 3))[1]
    long = pd.concat(
        [pd.DataFrame({"method": label, "P(attain)": quotas[c]}) for c, label in _CHANCES_BY_METHOD.items() if c in quotas],
        ignore_index=True,
    ).dropna()
    if at_scale(len(quotas)):
        sns.histplot(data=long, x="P(attain)", hue="method", bins=np.linspace(0, 1, 21), element="step", fill=False, lw=1.6, ax=ax)
        ax.set(
            title=f"Reps' chance of reaching quota, by method ({count(len(quotas))} reps)",
            xlim=(0, 1),
            ylabel="reps",
            xlabel="chance of attaining",
        )
        axis_format(ax, "count")
        ax.get_legend().set_title(None)
    else:
        sns.stripplot(data=long, x="P(attain)", y="method", alpha=0.6, ax=ax)
        ax.set(title="Each rep's chance of reaching quota, by method", xlim=(0, 1), ylabel="")
    axis_share(ax, "x")
    return ax


#: Attainment bands of the summary chart of many reps' attainment: lower bound, label (red below quota, green above).
ATTAINMENT_BANDS = ((0.0, "under 50%"), (0.5, "50–80%"), (0.8, "80–100%"), (1.0, "100–150%"), (1.5, "150% or more"))


def attainment_bands(history: pd.DataFrame, ax=None):
    """The share of reps in each attainment band, quarter by quarter (``monitoring.attainment_history``): the
    summary of :func:`attainment_history` when there are too many reps to draw one row each."""
    h = history.dropna(subset=["attainment"])
    edges = [b for b, _ in ATTAINMENT_BANDS]
    band = pd.cut(h["attainment"], [*edges, np.inf], right=False, labels=[name for _, name in ATTAINMENT_BANDS])
    shares = pd.crosstab(h["period"], band, normalize="index").reindex(columns=[name for _, name in ATTAINMENT_BANDS], fill_value=0)
    ax = ax or plt.subplots(figsize=(8, 3.4))[1]
    colours = sns.color_palette("RdYlGn", len(ATTAINMENT_BANDS))
    bottom = np.zeros(len(shares))
    for name, colour in zip(shares.columns, colours, strict=True):
        ax.bar(shares.index.astype(str), shares[name], bottom=bottom, color=colour, label=name, width=0.7)
        bottom += shares[name].to_numpy()
    reps = h.groupby("period")["rep_id"].nunique() if "rep_id" in h else h.groupby("period").size()
    ax.set(title=f"Attainment by quarter: share of reps in each band ({count(reps.max())} reps)", ylabel="share of reps", ylim=(0, 1))
    axis_share(ax)
    ax.tick_params(axis="x", rotation=45)
    ax.legend(fontsize=7, title="attainment", title_fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.figure.tight_layout()
    return ax


def attainment_history(history: pd.DataFrame, ax=None):
    """Heatmap of each rep's attainment by quarter (``monitoring.attainment_history``), 100 % at the centre; with
    more reps than can be drawn one row each, the share of reps in each attainment band (:func:`attainment_bands`)."""
    if at_scale(history["rep_id"].nunique() if "rep_id" in history else len(history)):
        return attainment_bands(history, ax)
    wide = history.assign(label=history["team"] + " · " + history["name"]).pivot(index="label", columns="period", values="attainment")
    ax = ax or plt.subplots(figsize=(8, 0.22 * len(wide) + 1.5))[1]
    sns.heatmap(
        wide * 100,
        center=100,
        cmap="RdYlGn",
        vmin=0,
        vmax=200,
        annot=len(wide.columns) <= 10,
        fmt=".0f",
        annot_kws={"size": 6},
        cbar_kws={"label": "attainment %"},
        ax=ax,
    )
    ax.set(title="Attainment by quarter (%): red below quota, green above", xlabel="", ylabel="")
    ax.tick_params(axis="y", labelsize=7)
    return ax


def goal_places(positions: pd.DataFrame, ax=None):
    """How many reps' goals sit where in their own forecast (``goals.goal_positions``): below its 25th percentile a
    goal may be sandbagging, above its 90th over-reach — the summary of :func:`goals_vs_forecast` for many reps."""
    ax = ax or plt.subplots(figsize=(8, 3.2))[1]
    ax.axvspan(0, 0.25, color="tab:blue", alpha=0.08, label="below the forecast's p25 (sandbagging?)")
    ax.axvspan(0.9, 1, color="tab:orange", alpha=0.12, label="above its p90 (over-reach?)")
    counts, _, _ = ax.hist(
        positions["goal_quantile"].dropna().clip(0, 1), bins=np.linspace(0, 1, 21), color=sns.color_palette()[0], alpha=0.8
    )
    ax.set_ylim(0, max(float(counts.max()), 1.0) * 1.3)  # headroom for the key above the bars
    ax.set(
        title=f"Where each rep's own goal sits in their forecast ({count(len(positions))} reps)",
        xlabel="share of the rep's simulated quarters below the goal",
        ylabel="reps",
        xlim=(0, 1),
    )
    axis_share(ax, "x")
    axis_format(ax, "count")
    ax.legend(fontsize=7, loc="upper center", ncol=2)
    return ax


def goals_vs_forecast(quotas: pd.DataFrame, positions: pd.DataFrame | None = None, ax=None):
    """Each rep's own goal against their forecast range and recommended quota (reps with a goal); with more reps than
    can be drawn one by one and ``positions`` given (``goals.goal_positions``), :func:`goal_places` instead."""
    if at_scale(int(quotas["goal"].notna().sum())) and positions is not None and len(positions):
        return goal_places(positions, ax)
    q = quotas[quotas["goal"].notna()].sort_values("forecast_p50")
    ax = ax or plt.subplots(figsize=(8, 0.28 * len(q) + 1.5))[1]
    ax.hlines(q["name"], q["forecast_p10"], q["forecast_p90"], lw=5, alpha=0.35, label="forecast 80 % range")
    ax.plot(q["goal"], q["name"], "D", ms=4, color="tab:orange", label="rep's own goal")
    ax.plot(q["quota"], q["name"], "k|", ms=12, label="recommended quota")
    ax.set(
        title="Bottom-up goals against each rep's forecast",
        xlabel=q["quota_type"].iloc[0] if "quota_type" in q and len(q) else "bookings",
        ylabel="",
    )
    if ("quota_type" not in q or not len(q)) or q["quota_type"].iloc[0] in {"bookings", "margin"}:
        axis_money(ax, "x")
    ax.tick_params(axis="y", labelsize=7)
    ax.legend(fontsize=8, loc="lower right")
    return ax


def ramp_capacity(view: pd.DataFrame, ax=None):
    """Capacity by team: headcount × full quota against the ramp-adjusted capacity (``quota.ramp_view``); with more
    than :data:`~analysis.shortlist.MOST_BARS` teams, those whose ramping hires take most off their capacity."""
    teams = view[view["team"] != "all teams"]
    title = "Capacity next quarter: ramping hires counted at their ramp"
    if len(teams) > MOST_BARS:
        teams = teams.sort_values("ramp_shortfall", ascending=False, kind="stable").head(MOST_BARS)
        title = f"Capacity next quarter: the {MOST_BARS} of {count(len(view) - 1)} teams with the most lost to ramp"
    v = teams.melt(id_vars="team", value_vars=["headcount_capacity", "ramped_capacity"], var_name="capacity")
    v["capacity"] = v["capacity"].map({"headcount_capacity": "headcount × full quota", "ramped_capacity": "with ramp"})
    ax = ax or plt.subplots(figsize=(8, max(3.2, 0.3 * len(teams) + 1.2)))[1]
    sns.barplot(data=v, y="team", x="value", hue="capacity", ax=ax)
    ax.set(title=title, xlabel="quota capacity", ylabel="")
    axis_money(ax, "x")
    ax.legend(fontsize=8)
    return ax


def policy_replay(replay: pd.DataFrame, target_share: float | None = None, ax=None):
    """Policy backtest: share of reps who attained each past quarter, by method, against the share aimed for."""
    ax = ax or plt.subplots(figsize=(8, 3.2))[1]
    sns.lineplot(data=replay, x="period", y="realised_share", hue="method", marker="o", ax=ax)
    if target_share is not None:
        ax.axhline(target_share, color="black", ls="--", lw=1, label="share aimed for")
    ax.set(title="Past quarters replayed: share of reps who reached quota", ylabel="reps attaining", xlabel="", ylim=(0, 1))
    axis_share(ax)
    ax.legend(fontsize=7)
    return ax


def _ranges(frame: pd.DataFrame, x: str, y: str, ax) -> None:
    """Per group of ``y``: the middle half of ``x`` as a thick bar, its 10th to 90th percentiles as a thin line, the
    median as a dot — a box plot without the outliers, which at 2,000 reps would be hundreds of dots."""
    groups = list(dict.fromkeys(frame[y]))[::-1]
    q = frame.groupby(y)[x].quantile([0.1, 0.25, 0.5, 0.75, 0.9]).unstack().reindex(groups)
    ax.hlines(groups, q[0.1], q[0.9], lw=1.5, color=sns.color_palette()[0], label="10th to 90th percentile")
    ax.hlines(groups, q[0.25], q[0.75], lw=10, alpha=0.5, color=sns.color_palette()[0], label="middle half of the reps")
    ax.plot(q[0.5], groups, "o", color="black", ms=5, label="median")
    ax.set_ylim(-0.6, len(groups) - 0.4)


def payout_by_method(table: pd.DataFrame, variable: float | None = None, ax=None):
    """Each rep's expected variable pay under each quota method (``compensation.compensation_table``): one dot per
    rep, or with more reps than can be drawn one by one, the middle half, the 10th to 90th percentiles and the median."""
    reps = table[table["level"] == "rep"]
    ax = ax or plt.subplots(figsize=(8, 3))[1]
    if at_scale(int(reps.groupby("method").size().max()) if len(reps) else 0):
        _ranges(reps, "expected_payout", "method", ax)
    else:
        sns.stripplot(data=reps, x="expected_payout", y="method", alpha=0.6, ax=ax)
    if variable is not None:
        ax.axvline(variable, color="black", ls="--", lw=1, label="on-target variable")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    ax.set(title="Expected variable pay per rep next quarter, by quota method", xlabel="expected variable pay", ylabel="")
    axis_money(ax, "x")
    return ax


def what_if_sweep(sweep: pd.DataFrame, x: str = "target", axes=None):
    """Share of reps expected to attain and cost of sales against ``x`` (one line per over-assignment when the
    sweep varies it), today's plan marked with a star (``scenarios.sweep``)."""
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    hue = "over-assignment" if x != "overassignment" and sweep["overassignment"].nunique() > 1 else None
    today = sweep[sweep["today"]]
    order = [share(v) for v in sorted(sweep["overassignment"].dropna().unique())]
    sweep = sweep.assign(**{"over-assignment": sweep["overassignment"].map(share)})  # the key in percent, not 0.1
    for ax, y, label in (
        (axes[0], "expected_share_attaining", "share of reps expected to attain"),
        (axes[1], "cost_of_sales", "cost of sales"),
    ):
        if sweep[y].isna().all():
            ax.set_visible(False)
            continue
        sns.lineplot(data=sweep, x=x, y=y, hue=hue, hue_order=order if hue else None, marker="o", ax=ax, palette="viridis" if hue else None)
        ax.plot(today[x], today[y], "*", color="red", ms=14, label="today's plan", zorder=5)
        ax.set(ylabel=label, xlabel=x.replace("_", " "))
        axis_format(ax, "money" if x == "target" else "share", "x")
        axis_share(ax)
        ax.legend(fontsize=7, title="over-assignment" if hue else None, title_fontsize=7)
    axes[0].axhline(sweep["attainment_share"].iloc[0], color="black", ls="--", lw=1)
    axes[0].set(ylim=(0, 1), title="How realistic the plan is")
    axes[1].set(title="What it costs (variable pay ÷ bookings)")
    return axes[0]


def reliability_chart(table: pd.DataFrame, ax=None):
    """Predicted chance against observed share won, per bin (``backtest.reliability``); the diagonal is honest."""
    ax = ax or plt.subplots(figsize=(5, 4))[1]
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
    ax.scatter(table["predicted"], table["observed"], s=20 + 200 * table["deals"] / table["deals"].max(), alpha=0.7)
    top = float(max(table["predicted"].max(), table["observed"].max(), 0.05)) * 1.15
    ax.set(
        xlim=(0, top),
        ylim=(0, top),
        xlabel="chance the model gave",
        ylabel="share actually won",
        title="Open deals at past quarter ends: won next quarter",
    )
    axis_share(ax, "x")
    axis_share(ax)
    return ax
