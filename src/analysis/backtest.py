"""Rolling-origin backtests on as-of snapshots (docs/methods.md §3.4): each cutoff sees only what was known then.

:func:`backtest` rebuilds the data as of each of the last ``n`` quarter ends, forecasts the next quarter and
compares it with what happened, as a long table with a ``cutoff`` column; :func:`scores` summarises it per
level: MASE (scaled by the in-sample error of the seasonal naive forecast), bias, pinball loss at
p10/p50/p90 and the coverage of the 80 % interval.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor

import numpy as np
import pandas as pd

from analysis.calendar import period_of
from analysis.data import Dataset
from analysis.history import origins
from analysis.pipeline_model import PipelineForecaster
from analysis.reliability import calibration as deal_calibration

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
    group = {
        "company": pd.Series("all", index=won.index),
        "team": won["owner_id"].map(team).fillna("unassigned"),
        "segment": won["segment"],
        "rep": won["owner_id"],
    }[level]
    frame = pd.DataFrame(
        {"group": group.astype(str), "period": period_of(won["close_date"], ds.fiscal_year_start).astype(str), "bookings": won["amount"]}
    )
    return frame.groupby(["group", "period"], as_index=False)["bookings"].sum()


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
    return start_backtest(ds, n, levels, make)()


def start_backtest(
    ds: Dataset,
    n: int = 6,
    levels=("company", "team", "segment"),
    make: Callable[[], PipelineForecaster] | None = None,
    pool: Executor | None = None,
    keep_rep_draws: bool = True,
) -> Callable[[], pd.DataFrame]:
    """:func:`backtest` with its origins handed to ``pool`` now (each draws from its own seeded stream: the same rows
    as one after the other); returns the function that waits for them and gives the table. ``keep_rep_draws``: keep
    each origin's rep draws in the memo, for the quota step to replay its quotas on (:func:`rep_forecast`)."""
    make = make or (lambda: PipelineForecaster(draws=1000, seed=0))
    booked = {level: quarterly_bookings(ds, level) for level in levels}
    todo = origins(ds, n)
    if pool is None:
        parts = [_origin_rows(ds, booked, target, cutoff, make, levels, keep_rep_draws) for target, cutoff in todo]
        return lambda: pd.DataFrame([row for part in parts for row in part])
    jobs = [pool.submit(_origin_rows, ds, booked, target, cutoff, make, levels, keep_rep_draws) for target, cutoff in todo]
    return lambda: pd.DataFrame([row for job in jobs for row in job.result()])


def _origin_rows(ds: Dataset, booked: dict, target: str, cutoff: pd.Timestamp, make, levels, keep_rep_draws: bool) -> list[dict]:
    snap = ds.as_of(cutoff)
    draws = make().fit(snap).predict(target)
    if keep_rep_draws:
        ds.memo[rep_draws_key(make(), target, cutoff)] = draws.by("rep")  # the quota step replays its quotas on them
    table = draws.table(levels)
    rows = []
    for level in levels:
        hist = quarterly_bookings(snap, level)
        actual = booked[level]
        actual = actual[actual["period"] == target].set_index("group")["bookings"]
        t = table[table["level"] == level].set_index("group")
        scale = {g: naive_scale(h.sort_values("period")["bookings"]) for g, h in hist.groupby("group")}
        for group in t.index.union(actual.index):
            f = t.loc[group] if group in t.index else None
            rows.append(
                {
                    "cutoff": cutoff.date().isoformat(),
                    "level": level,
                    "group": group,
                    "period": target,
                    "actual": float(actual.get(group, 0.0)),
                    **{c: float(f[c]) if f is not None else 0.0 for c in ("mean", "p10", "p50", "p90")},
                    "scale": scale.get(group, np.nan),
                }
            )
    return rows


def rep_draws_key(model: PipelineForecaster, target: str, cutoff: pd.Timestamp) -> tuple:
    """The key in :attr:`Dataset.memo <analysis.data.Dataset.memo>` of a backtest origin's rep draws (reps, reps ×
    draws): the same model, settings, quarter and cutoff give the same draws, whichever step asks."""
    return ("rep_draws", target, pd.Timestamp(cutoff).isoformat(), type(model).__name__, repr(sorted(model.get_params().items())))


def rep_forecast(ds: Dataset, snap: Dataset, target: str, cutoff: pd.Timestamp, make: Callable[[], PipelineForecaster]):
    """A backtest origin's rep draws (reps, reps × draws) of ``target`` from the model ``make`` fitted on ``snap``:
    read from the memo where a backtest already made them, else made (and kept there)."""
    key = rep_draws_key(make(), target, cutoff)
    if key not in ds.memo:
        ds.memo[key] = make().fit(snap).predict(target).by("rep")
    return ds.memo[key]


def scores(bt: pd.DataFrame) -> pd.DataFrame:
    """Per level: ``mase`` (mean |actual − p50| / scale), ``bias`` (Σ(p50 − actual) / Σ actual),
    ``pinball_p10``/``_p50``/``_p90`` (mean, scaled like MASE), ``coverage_80`` (share of actuals within
    p10–p90) and ``n`` (cutoff × group pairs)."""
    out = []
    bt = bt.astype({c: "float64" for c in ("actual", "mean", "p10", "p50", "p90", "scale")})  # an empty part can leave them as objects
    for level, b in bt.groupby("level", sort=False):
        ok = b["scale"] > 0
        scale = b["scale"].where(ok)
        row = {
            "level": level,
            "n": len(b),
            "mase": float((np.abs(b["actual"] - b["p50"]) / scale)[ok].mean()) if ok.any() else np.nan,
            "bias": float((b["p50"] - b["actual"]).sum() / b["actual"].sum()) if b["actual"].sum() else np.nan,
            "coverage_80": float(((b["actual"] >= b["p10"]) & (b["actual"] <= b["p90"])).mean()),
        }
        for col, tau in QUANTILES.items():
            row[f"pinball_{col}"] = float((pinball(b["actual"], b[col], tau) / scale)[ok].mean()) if ok.any() else np.nan
        out.append(row)
    return pd.DataFrame(out)


def calibration(ds: Dataset, n: int = 6, make: Callable[[], PipelineForecaster] | None = None) -> pd.DataFrame:
    """:func:`analysis.reliability.calibration` with the pipeline model's defaults when ``make`` is not given."""
    return deal_calibration(ds, n, make or (lambda: PipelineForecaster(draws=10, seed=0)))
