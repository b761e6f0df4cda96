"""Monitoring: attainment history, misses caught early with a coaching pointer, and a leaderboard, all read from
the metrics table (``metrics.metrics_table``)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _rep_values(metrics: pd.DataFrame, metric: str, period: str, column: str = "value") -> pd.Series:
    m = metrics[(metrics["metric"] == metric) & (metrics["dimension"] == "rep") & (metrics["period"] == period)]
    return m.set_index("group")[column]


def attainment_history(metrics: pd.DataFrame, reps: pd.DataFrame, quarters: int = 8) -> pd.DataFrame:
    """Each rep's quota attainment over the last ``quarters`` quarters with a quota: ``rep_id``, ``name``,
    ``team``, ``period``, ``attainment`` (bookings / quota), ``quota``, ``missed`` (attainment below 1)."""
    a = metrics[(metrics["metric"] == "quota_attainment") & (metrics["dimension"] == "rep")]
    periods = sorted(a["period"].unique())[-quarters:]
    a = a[a["period"].isin(periods)]
    info = reps.set_index("rep_id")
    out = pd.DataFrame(
        {
            "rep_id": a["group"].to_numpy(),
            "period": a["period"].to_numpy(),
            "attainment": a["value"].to_numpy(dtype=float),
            "quota": a["n"].to_numpy(dtype=float),
        }
    )
    out.insert(1, "name", out["rep_id"].map(info["name"]).fillna(out["rep_id"]))
    out.insert(2, "team", out["rep_id"].map(info["team"]).fillna("unassigned"))
    out["missed"] = out["attainment"] < 1
    return out.sort_values(["team", "name", "period"]).reset_index(drop=True)


def coaching(metrics: pd.DataFrame, reps: pd.DataFrame, period: str, min_misses: int = 2) -> pd.DataFrame:
    """Reps with at least ``min_misses`` quarters in a row below quota up to ``period``, with the gap and the
    driver that explains most of their shortfall against their team.

    Bookings ≈ deals created × win rate × deal size, so log(rep / team) splits into the three log-ratios; the most
    negative is the pointer (shrunk per-rep rates, so one bad deal does not decide it). A cycle much longer than
    the team's is mentioned too. Returns ``rep_id``, ``name``, ``team``, ``misses``, ``attainment``, ``gap``,
    ``created_vs_team``, ``win_rate_vs_team``, ``deal_size_vs_team``, ``cycle_vs_team``, ``pointer``.
    """
    misses = _rep_values(metrics, "consecutive_misses", period)
    flagged = misses[misses >= min_misses].index
    if flagged.empty:
        return pd.DataFrame(
            columns=[
                "rep_id",
                "name",
                "team",
                "misses",
                "attainment",
                "gap",
                "created_vs_team",
                "win_rate_vs_team",
                "deal_size_vs_team",
                "cycle_vs_team",
                "pointer",
            ]
        )
    att = _rep_values(metrics, "quota_attainment", period)
    quota = _rep_values(metrics, "quota_attainment", period, "n")
    drivers = pd.DataFrame(
        {
            "created": _rep_values(metrics, "win_rate_cohort", period, "n"),
            "win_rate": _rep_values(metrics, "win_rate_shrunk", period),
            "deal_size": _rep_values(metrics, "avg_deal_size_shrunk", period),
            "cycle": _rep_values(metrics, "median_cycle_days", period),
        }
    )
    info = reps.set_index("rep_id")
    drivers["team"] = drivers.index.map(info["team"])
    team_mean = drivers.groupby("team")[["created", "win_rate", "deal_size", "cycle"]].transform("median")
    ratio = drivers[["created", "win_rate", "deal_size", "cycle"]] / team_mean
    labels = {"created": "opportunities created", "win_rate": "win rate", "deal_size": "deal size"}
    rows = []
    for rep in flagged:
        r = ratio.loc[rep] if rep in ratio.index else pd.Series(dtype=float)
        logs = {k: np.log(r[k]) for k in labels if k in r and pd.notna(r[k]) and r[k] > 0}
        if logs and min(logs.values()) < 0:
            worst = min(logs, key=logs.get)
            pointer = f"{labels[worst]} is {r[worst]:.0%} of the team's typical rep — the largest part of the shortfall"
        elif logs:
            pointer = "at or above the team on deals created, win rate and deal size: look at the quota itself, or timing"
        else:
            pointer = "no closed deals this quarter: look at pipeline creation first"
        if pd.notna(r.get("cycle")) and r["cycle"] > 1.25:
            pointer += f"; deals take {r['cycle']:.1f}x the team's time to win"
        a = att.get(rep, np.nan)
        rows.append(
            {
                "rep_id": rep,
                "name": info["name"].get(rep, rep),
                "team": info["team"].get(rep, "unassigned"),
                "misses": int(misses[rep]),
                "attainment": a,
                "gap": quota.get(rep, np.nan) * (1 - a) if pd.notna(a) else np.nan,
                "created_vs_team": r.get("created"),
                "win_rate_vs_team": r.get("win_rate"),
                "deal_size_vs_team": r.get("deal_size"),
                "cycle_vs_team": r.get("cycle"),
                "pointer": pointer,
            }
        )
    return pd.DataFrame(rows).sort_values(["misses", "gap"], ascending=[False, False]).reset_index(drop=True)


def leaderboard(metrics: pd.DataFrame, reps: pd.DataFrame, period: str, previous: str) -> pd.DataFrame:
    """Reps with a quota in ``period``: ``rep_id``, ``name``, ``team``, ``attainment``, ``bookings``, ``win_rate``,
    ``improvement`` (attainment change against ``previous``) and ``recognition`` (highest attainment, most improved)."""
    att = _rep_values(metrics, "quota_attainment", period)
    board = pd.DataFrame({"attainment": att})
    board["bookings"] = _rep_values(metrics, "bookings", period).reindex(board.index)
    board["win_rate"] = _rep_values(metrics, "win_rate", period).reindex(board.index)
    board["improvement"] = att - _rep_values(metrics, "quota_attainment", previous).reindex(board.index)
    info = reps.set_index("rep_id")
    board.insert(0, "team", board.index.map(info["team"]))
    board.insert(0, "name", board.index.map(info["name"]))
    board["recognition"] = ""
    if len(board):
        board.loc[board["attainment"].idxmax(), "recognition"] = "highest attainment"
        if board["improvement"].notna().any():
            best = board["improvement"].idxmax()
            board.loc[best, "recognition"] = (board.loc[best, "recognition"] + "; most improved").strip("; ")
    return board.rename_axis("rep_id").reset_index().sort_values("attainment", ascending=False).reset_index(drop=True)
