"""Time-to-event estimates for deals: won and lost as competing events, open deals censored.

:func:`cumulative_incidence` is the Aalen–Johansen estimator (METHODS §2.1), computed for many groups at once
with the same formulas (and standard error) as statsmodels' ``CumIncidenceRight``, which fits one group at a
time and is too slow for thousands of rep × quarter cohorts; ``tests/test_survival.py`` checks the two agree.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CENSORED, WON, LOST = 0, 1, 2


def deal_times(opps: pd.DataFrame, as_of: pd.Timestamp, origin: str = "created_date") -> pd.DataFrame:
    """Per deal: ``time`` (days from ``origin`` to close, or to ``as_of`` while open) and ``event`` (0/1/2).

    Deals closed after ``as_of`` count as open at ``as_of`` (so this also gives snapshots at period ends).
    """
    as_of = pd.Timestamp(as_of)
    closed = opps["close_date"].notna() & (opps["close_date"] <= as_of)
    end = opps["close_date"].where(closed, as_of)
    time = (end - opps[origin]).dt.days.astype("float64")
    event = np.where(~closed, CENSORED, np.where(opps["status"].eq("won"), WON, LOST))
    return pd.DataFrame({"time": time.to_numpy(), "event": event}, index=opps.index)


def _group_cumsum(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Cumulative sum restarting at each group (rows sorted by group), exact within each group."""
    return pd.Series(values).groupby(groups, sort=False).cumsum().to_numpy()


def cumulative_incidence(gid: np.ndarray, time: np.ndarray, event: np.ndarray) -> pd.DataFrame:
    """Aalen–Johansen curves per group.

    Input: one entry per deal — group code ``gid``, ``time`` and ``event`` (0 censored, 1 won, 2 lost).
    Returns one row per group and distinct time: ``gid``, ``time``, ``n_at_risk`` (just before the time),
    ``won``, ``lost`` (events at the time), ``cohort`` (deals in the group), ``surv`` (all-cause
    Kaplan–Meier after the time), ``cif_won``, ``cif_lost``, ``se_won`` (statsmodels' standard error).
    """
    frame = pd.DataFrame({"gid": gid, "time": time, "won": event == WON, "lost": event == LOST})
    if frame.empty:  # no deals: no curve (callers read an empty curve as "no chance known")
        return pd.DataFrame({c: pd.Series(dtype="int64" if c == "gid" else "float64")
                             for c in ("gid", "time", "n_at_risk", "won", "lost", "cohort", "surv", "cif_won", "cif_lost", "se_won")})
    agg = frame.groupby(["gid", "time"], sort=True).agg(total=("won", "size"), won=("won", "sum"), lost=("lost", "sum"))
    g = agg.index.get_level_values("gid").to_numpy()
    t = agg.index.get_level_values("time").to_numpy()
    total = agg["total"].to_numpy(dtype="float64")
    won = agg["won"].to_numpy(dtype="float64")
    lost = agg["lost"].to_numpy(dtype="float64")
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    sizes = np.diff(np.r_[starts, len(g)])
    cohort = np.repeat(np.add.reduceat(total, starts), sizes)
    n = cohort - (_group_cumsum(total, g) - total)
    d = won + lost
    surv = pd.Series(1.0 - d / n).groupby(g).cumprod().to_numpy()
    prev = np.r_[1.0, surv[:-1]]
    prev[starts] = 1.0
    sp0 = prev / n
    cif_won = _group_cumsum(sp0 * won, g)
    cif_lost = _group_cumsum(sp0 * lost, g)
    # Variance as in statsmodels.duration.survfunc._calc_incidence_right (delta method).
    with np.errstate(divide="ignore", invalid="ignore"):
        ra = np.where(n > d, d / (n * (n - d)), 0.0)
    f = cif_won
    v = f**2 * _group_cumsum(ra, g)
    v -= 2 * f * _group_cumsum(f * ra, g)
    v += _group_cumsum(f**2 * ra, g)
    v += _group_cumsum(sp0**2 * (n - won) * won / n, g)
    rb = sp0 * won / n
    v -= 2 * f * _group_cumsum(rb, g)
    v += 2 * _group_cumsum(f * rb, g)
    return pd.DataFrame(
        {
            "gid": g,
            "time": t,
            "n_at_risk": n,
            "won": won,
            "lost": lost,
            "cohort": cohort,
            "surv": surv,
            "cif_won": cif_won,
            "cif_lost": cif_lost,
            "se_won": np.sqrt(np.clip(v, 0.0, None)),
        }
    )


def risk_threshold(cohort: np.ndarray | pd.Series, min_at_risk: int = 50, min_share: float = 0.05) -> np.ndarray:
    """Deals that must still be at risk to read a curve: 50, or 5 % of the cohort if that is fewer (≥ 1)."""
    return np.maximum(np.minimum(min_at_risk, np.ceil(min_share * np.asarray(cohort, dtype=float))), 1.0)


def plateau(curves: pd.DataFrame, min_at_risk: int = 50, min_share: float = 0.05) -> pd.DataFrame:
    """Each group's curve read at ``t*``, the last time with enough deals at risk (METHODS check 1).

    Returns per ``gid``: ``t_star``, ``cif_won``, ``se_won``, ``cif_lost``, ``cohort``, ``n_at_risk``.
    """
    ok = curves["n_at_risk"].to_numpy() >= risk_threshold(curves["cohort"], min_at_risk, min_share)
    read = curves[ok].groupby("gid", sort=True).tail(1)
    return read.rename(columns={"time": "t_star"})[["gid", "t_star", "cif_won", "se_won", "cif_lost", "cohort", "n_at_risk"]].reset_index(drop=True)


def winner_cycle_quantiles(curves: pd.DataFrame, read: pd.DataFrame, qs: tuple[float, ...] = (0.25, 0.5, 0.75)) -> pd.DataFrame:
    """Quantiles of time to win among eventual winners: first t with F_won(t)/F_won(t*) ≥ q (METHODS check 2).

    Returns per ``gid`` one column per quantile (``q25``, ``q50``, ``q75``); missing where a group has no win.
    """
    c = curves.merge(read[["gid", "t_star", "cif_won"]].rename(columns={"cif_won": "f_star"}), on="gid")
    c = c[(c["time"] <= c["t_star"]) & (c["f_star"] > 0)]
    ratio = c["cif_won"] / c["f_star"]
    out = pd.DataFrame({"gid": read["gid"]})
    for q in qs:
        hit = c[ratio.to_numpy() >= q - 1e-12].groupby("gid")["time"].min()
        out[f"q{round(q * 100)}"] = out["gid"].map(hit)
    return out


def _step(curve: pd.DataFrame, column: str, x: np.ndarray, before: float) -> np.ndarray:
    """A right-continuous step curve read at ``x`` (``before`` ahead of its first time; flat after its last)."""
    t = curve["time"].to_numpy()
    if len(t) == 0:  # an empty curve (no deals): nothing has happened at any age
        return np.full(np.shape(x), before, dtype=float)
    idx = np.searchsorted(t, np.asarray(x, dtype=float), side="right") - 1
    return np.where(idx >= 0, curve[column].to_numpy()[np.clip(idx, 0, None)], before)


def cif_at(curve: pd.DataFrame, age: np.ndarray) -> np.ndarray:
    """F_won at the given ages (0 before the first event time)."""
    return _step(curve, "cif_won", age, 0.0)


def win_probability_between(curve: pd.DataFrame, age: np.ndarray, start: float, end: float) -> np.ndarray:
    """P(won at an age in (a + start, a + end] | open at age a) = [F_won(a+end) − F_won(a+start)] / S(a).

    ``curve`` is :func:`cumulative_incidence` for a single group (sorted by time). Beyond the last time the
    curve is flat (no more information), so the chance there is what the curve last showed.
    """
    age = np.asarray(age, dtype=float)
    s_a = _step(curve, "surv", age, 1.0)
    gain = cif_at(curve, age + end) - cif_at(curve, age + start)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(s_a > 0, np.clip(gain / s_a, 0.0, 1.0), 0.0)


def win_probability_within(curve: pd.DataFrame, age: np.ndarray, horizon: float) -> np.ndarray:
    """P(won in (a, a+h] | open at age a): :func:`win_probability_between` from 0 to ``horizon``."""
    return win_probability_between(curve, age, 0.0, horizon)


def winner_curves_by(opps: pd.DataFrame, as_of: pd.Timestamp, by: str, min_at_risk: int = 50) -> pd.DataFrame:
    """Time to win among eventual winners, per group of ``by`` (e.g. segment), all deals as of ``as_of``.

    Returns tidy ``group``, ``time``, ``share`` = F_won(t) / F_won(t*) for t ≤ t* (METHODS §2.2).
    """
    t = deal_times(opps, as_of)
    codes, names = pd.factorize(opps[by], sort=True)
    curves = cumulative_incidence(codes, t["time"].to_numpy(), t["event"].to_numpy())
    read = plateau(curves, min_at_risk)
    c = curves.merge(read[["gid", "t_star", "cif_won"]].rename(columns={"cif_won": "f_star"}), on="gid")
    c = c[(c["time"] <= c["t_star"]) & (c["f_star"] > 0)]
    return pd.DataFrame({"group": np.asarray(names, dtype=object)[c["gid"].to_numpy()], "time": c["time"].to_numpy(), "share": (c["cif_won"] / c["f_star"]).to_numpy()})
