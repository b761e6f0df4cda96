"""Rolling-origin backtests on as-of snapshots (METHODS §3.4): each cutoff sees only what was known then.

:func:`backtest` rebuilds the data as of each of the last ``n`` quarter ends, forecasts the next quarter and
compares it with what happened, as a long table with a ``cutoff`` column; :func:`scores` summarises it per
level: MASE (scaled by the in-sample error of the seasonal naive forecast), bias, pinball loss at
p10/p50/p90 and the coverage of the 80 % interval.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from analysis.calendar import period_bounds, period_of, shift_period
from analysis.data import Dataset
from analysis.history import complete_quarters, replayable_quarters
from analysis.forecast import PipelineForecaster

QUANTILES = {"p10": 0.1, "p50": 0.5, "p90": 0.9}


def pinball(actual, forecast, tau: float) -> np.ndarray:
    """Pinball (quantile) loss of a forecast of the tau-quantile."""
    diff = np.asarray(actual, dtype=float) - np.asarray(forecast, dtype=float)
    return np.maximum(tau * diff, (tau - 1) * diff)


def naive_scale(history: pd.Series, season: int = 4) -> float:
    """In-sample mean absolute error of the seasonal naive forecast (lag ``season``; lag 1 if too short)."""
    y = history.to_numpy(dtype=float)
    lag = season if len(y) > season else 1
    if len(y) <= lag:
        return np.nan
    return float(np.mean(np.abs(y[lag:] - y[:-lag])))


def quarterly_bookings(ds: Dataset, level: str) -> pd.DataFrame:
    """Won bookings per quarter and group (``group``, ``period``, ``bookings``); rep level by owner, team by the
    owner's team, segment by the deal's segment, company ``all``."""
    o = ds.opportunities
    won = o[o["status"] == "won"]
    team = ds.reps.set_index("rep_id")["team"]
    group = {"company": pd.Series("all", index=won.index), "team": won["owner_id"].map(team).fillna("unassigned"),
             "segment": won["segment"], "rep": won["owner_id"]}[level]
    frame = pd.DataFrame({"group": group.astype(str), "period": period_of(won["close_date"], ds.fiscal_year_start).astype(str), "bookings": won["amount"]})
    return frame.groupby(["group", "period"], as_index=False)["bookings"].sum()


def rolling_origins(ds: Dataset, n: int = 6, min_quarters: int = 1):
    """The last ``n`` complete quarters the data cover, oldest first, each as (``period``, ``cutoff``, ``snapshot``):
    the cutoff is the last day of the quarter before, the snapshot the data as they stood then (nothing later
    visible). Only quarters with at least ``min_quarters`` complete quarters of data before them are replayed
    (:func:`analysis.history.replayable_quarters`), so a short history gives fewer origins, never empty ones."""
    fy = ds.fiscal_year_start
    covered = complete_quarters(ds)
    k = replayable_quarters(ds, n, min_quarters)
    for period in covered[len(covered) - k:] if k else []:
        cutoff = period_bounds(shift_period(period, -1, fy), fy)[1]
        yield period, cutoff, ds.as_of(cutoff)


def backtest(
    ds: Dataset,
    n: int = 6,
    levels=("company", "team", "segment"),
    make: Callable[[], PipelineForecaster] | None = None,
) -> pd.DataFrame:
    """Forecast the quarter after each of the last ``n`` complete quarter ends and compare with what happened.

    Returns per cutoff, level and group: ``cutoff``, ``level``, ``group``, ``period``, ``actual``, ``mean``,
    ``p10``, ``p50``, ``p90``, ``scale`` (in-sample seasonal-naive error up to the cutoff).
    """
    make = make or (lambda: PipelineForecaster(draws=1000, seed=0))
    rows = []
    for target, cutoff, snap in rolling_origins(ds, n):
        table = make().fit(snap).predict(target).table(levels)
        for level in levels:
            hist = quarterly_bookings(snap, level)
            actual = quarterly_bookings(ds, level)
            actual = actual[actual["period"] == target].set_index("group")["bookings"]
            t = table[table["level"] == level].set_index("group")
            scale = {g: naive_scale(h.sort_values("period")["bookings"]) for g, h in hist.groupby("group")}
            for group in t.index.union(actual.index):
                f = t.loc[group] if group in t.index else None
                rows.append({
                    "cutoff": cutoff.date().isoformat(), "level": level, "group": group, "period": target,
                    "actual": float(actual.get(group, 0.0)),
                    **{c: float(f[c]) if f is not None else 0.0 for c in ("mean", "p10", "p50", "p90")},
                    "scale": scale.get(group, np.nan),
                })
    return pd.DataFrame(rows)


def scores(bt: pd.DataFrame) -> pd.DataFrame:
    """Per level: ``mase`` (mean |actual − p50| / scale), ``bias`` (Σ(p50 − actual) / Σ actual),
    ``pinball_p10``/``_p50``/``_p90`` (mean, scaled like MASE), ``coverage_80`` (share of actuals within
    p10–p90) and ``n`` (cutoff × group pairs)."""
    out = []
    bt = bt.astype({c: "float64" for c in ("actual", "mean", "p10", "p50", "p90", "scale")})  # an empty part can leave them as objects
    for level, b in bt.groupby("level", sort=False):
        ok = b["scale"] > 0
        scale = b["scale"].where(ok)
        row = {"level": level, "n": len(b),
               "mase": float((np.abs(b["actual"] - b["p50"]) / scale)[ok].mean()) if ok.any() else np.nan,
               "bias": float((b["p50"] - b["actual"]).sum() / b["actual"].sum()) if b["actual"].sum() else np.nan,
               "coverage_80": float(((b["actual"] >= b["p10"]) & (b["actual"] <= b["p90"])).mean())}
        for col, tau in QUANTILES.items():
            row[f"pinball_{col}"] = float((pinball(b["actual"], b[col], tau) / scale)[ok].mean()) if ok.any() else np.nan
        out.append(row)
    return pd.DataFrame(out)


def calibration(ds: Dataset, n: int = 6, make: Callable[[], PipelineForecaster] | None = None) -> pd.DataFrame:
    """Are the open deals' win probabilities honest? At each rolling origin, every deal open at the cutoff with the
    chance π the model gave it of being won inside the next quarter, and whether it was: ``cutoff``, ``period``,
    ``opportunity_id``, ``segment``, ``age_days``, ``amount``, ``pi``, ``won``, and what the deal looked like then:
    ``stage``, ``stage_days``, ``cycle_days``, ``amount_rel``, ``owner_ratio``."""
    make = make or (lambda: PipelineForecaster(draws=10, seed=0))
    o = ds.opportunities.set_index("opportunity_id")
    parts = []
    for target, cutoff, snap in rolling_origins(ds, n):
        if (snap.opportunities["created_date"] > cutoff - pd.Timedelta(days=365)).sum() < 50:
            continue  # before the data (or almost): nothing to learn or check
        probs = make().fit(snap).open_deal_probabilities(target)
        start, end = period_bounds(target, ds.fiscal_year_start)
        close = probs["opportunity_id"].map(o["close_date"])
        won = (probs["opportunity_id"].map(o["status"]) == "won") & (close >= start) & (close <= end)
        parts.append(pd.DataFrame({"cutoff": cutoff.date().isoformat(), "period": target, "opportunity_id": probs["opportunity_id"],
                                   "segment": probs["segment"], "age_days": (cutoff - probs["created_date"]).dt.days,
                                   "amount": probs["amount"], "pi": probs["pi"], "won": won.to_numpy(), "stage": probs["stage"],
                                   "stage_days": probs["stage_days"], "cycle_days": probs["cycle_days"], "amount_rel": probs["amount_rel"], "owner_ratio": probs["owner_ratio"]}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["cutoff", "period", "opportunity_id", "segment", "age_days", "amount", "pi", "won", "stage", "stage_days", "cycle_days", "amount_rel", "owner_ratio"])


def reliability(cal: pd.DataFrame, by: str = "pi", edges=(0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0)) -> pd.DataFrame:
    """Predicted against observed, per bin of ``by`` (π, or e.g. ``age_days`` with other edges): ``bin``,
    ``deals``, ``predicted`` (mean π), ``observed`` (share won), ``z`` ((observed − predicted) / binomial SE of
    the prediction), and ``brier`` (mean squared error of π in the bin)."""
    c = cal.assign(bin=pd.cut(cal[by], bins=list(edges), include_lowest=True))
    g = c.groupby("bin", observed=True)
    out = g.agg(deals=("pi", "size"), predicted=("pi", "mean"), observed=("won", "mean")).reset_index()
    var = g["pi"].apply(lambda p: float((p * (1 - p)).sum())).to_numpy()
    out["z"] = (out["observed"] - out["predicted"]) * out["deals"] / np.sqrt(np.where(var > 0, var, np.nan))
    out["brier"] = g.apply(lambda d: float(((d["pi"] - d["won"]) ** 2).mean()), include_groups=False).to_numpy()
    out["bin"] = out["bin"].astype(str)
    return out
