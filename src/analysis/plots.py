"""Charts for the reports (seaborn). They draw what the stages return and compute nothing new.

Each function takes the tidy table it draws (the metrics table, a dataset's tables) and returns the
matplotlib ``Axes`` (or ``Figure``) so a notebook can show it.
"""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

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
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v / 1e6:.1f}M" if v >= 1e6 else f"{v / 1e3:.0f}k"))
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
    ax.tick_params(axis="x", rotation=45)
    ax.legend(fontsize=8, loc="lower left")
    return ax


def deal_sizes(opportunities: pd.DataFrame, ax=None):
    """Distribution of won deal amounts by segment (log scale): skewed, so mean and median differ."""
    ax = ax or plt.subplots(figsize=(8, 3.2))[1]
    won = opportunities[(opportunities["status"] == "won") & (opportunities["amount"] > 0)]
    sns.histplot(data=won, x="amount", hue="segment", log_scale=True, element="step", stat="density", common_norm=False, ax=ax)
    ax.set(title="Won deal size by segment", xlabel="amount (log scale)")
    return ax


def cycle_curves(curves: pd.DataFrame, ax=None):
    """Cumulative share of eventual winners won by day t (one line per group): ``group``, ``time``, ``share``."""
    ax = ax or plt.subplots(figsize=(8, 3.2))[1]
    sns.lineplot(data=curves, x="time", y="share", hue="group", drawstyle="steps-post", ax=ax)
    ax.axhline(0.5, color="grey", lw=0.8, ls=":")
    ax.set(title="Time to win among eventual winners", xlabel="days since created", ylabel="share of wins", ylim=(0, 1))
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
    ax.set(title="Chance of winning once a deal has entered a stage (average over quarters)", xlabel="eventual win rate", ylabel="", xlim=(0, 1))
    return ax


def cac(table: pd.DataFrame, ax=None):
    """CAC (blended, lagged, paid) per period."""
    ax = ax or plt.subplots(figsize=(8, 3.2))[1]
    for metric, style in [("cac", "-"), ("cac_lagged", "--"), ("cac_paid", ":")]:
        m = _metric(table, metric)
        ax.plot(m["period"], m["value"], style, marker="o", label=metric)
    ax.set(title="Customer acquisition cost", ylabel="per new customer")
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
    ax.tick_params(axis="x", rotation=45)
    return ax


def coverage(table: pd.DataFrame, ax=None):
    """Pipeline coverage at each quarter end beside the coverage actually required."""
    ax = ax or plt.subplots(figsize=(8, 3.2))[1]
    for metric, label in [("pipeline_coverage", "pipeline / next quarter's target"), ("required_coverage", "required (1 / chance to win in the quarter)")]:
        m = _metric(table, metric)
        ax.plot(m["period"], m["value"], marker="o", label=label)
    ax.set(title="Pipeline coverage at quarter end", ylabel="x target")
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
    return ax


def close(fig_or_ax) -> None:
    """Close a figure once shown (keeps memory flat over many charts)."""
    fig = fig_or_ax.figure if hasattr(fig_or_ax, "figure") else fig_or_ax
    plt.close(fig)
