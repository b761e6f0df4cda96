"""Time-to-event estimates for deals: won and lost as competing events, open deals censored.

:func:`cumulative_incidence` is the Aalen–Johansen estimator (docs/methods.md §2.1), computed for many groups at once
with the same formulas (and standard error) as statsmodels' ``CumIncidenceRight``, which fits one group at a
time and is too slow for thousands of rep × quarter cohorts; ``tests/test_survival.py`` checks the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit, log_ndtr, ndtr

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


def _time_codes(time: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize(time, sort=True)``: each time's rank among the distinct times (-1 if missing), and those times.
    Whole days over a span of fewer than ten million are ranked by counting, not hashing (at a million deals the
    stage metrics' two calls take 0.2 s less)."""
    finite = np.isfinite(time)
    t = time[finite]
    if len(t) and np.array_equal(t, np.floor(t)) and t.max() - t.min() < 10_000_000:
        low = t.min()
        offset = (t - low).astype(np.int64)
        present = np.bincount(offset) > 0
        rank = np.cumsum(present) - 1
        codes = np.full(len(time), -1, dtype=np.int64)
        codes[finite] = rank[offset]
        return codes, np.flatnonzero(present).astype("float64") + low
    return pd.factorize(time, sort=True)


def _group_cumsums(groups: np.ndarray, *values: np.ndarray) -> list[np.ndarray]:
    """Cumulative sums of each of ``values`` restarting at each group (rows sorted by group), exact within each
    group; several columns with one grouping."""
    sums = pd.DataFrame({i: v for i, v in enumerate(values)}).groupby(groups, sort=False).cumsum()
    return [sums[i].to_numpy() for i in range(len(values))]


def _event_counts(gid: np.ndarray, time: np.ndarray, event: np.ndarray, entries: bool = False) -> tuple[np.ndarray, ...]:
    """Per (group, time) with deals, sorted by both: ``gid``, ``time``, deals, wins, losses (what
    ``groupby(["gid", "time"]).agg(size, sum, sum)`` gives, without its cost on millions of rows); with ``entries``
    also each entry's place among them (-1 for a missing time; otherwise empty). Times are coded once; a small
    (group, time) grid is counted in place, a large one sorted once."""
    tcodes, times = _time_codes(time)
    keep = tcodes >= 0  # a missing time belongs to no curve
    nt = max(len(times), 1)
    low = int(gid[keep].min()) if keep.any() else 0  # codes may include -1 (a missing group is a group)
    key = (gid[keep].astype(np.int64) - low) * nt + tcodes[keep]
    ev = event[keep]
    size = (int(key.max()) + 1) if len(key) else 0
    entry = np.full(len(gid) if entries else 0, -1, dtype=np.int64)
    if size <= 4 * len(key) + 1_000_000:
        total = np.bincount(key, minlength=size)
        cells = np.flatnonzero(total)
        won, lost = (np.bincount(key[ev == e], minlength=size)[cells] for e in (WON, LOST))
        if entries:
            entry[keep] = (np.cumsum(total > 0) - 1)[key]
        total = total[cells]
    else:
        order = np.argsort(key, kind="stable")
        key, ev = key[order], ev[order]
        starts = np.r_[True, key[1:] != key[:-1]]
        first = np.flatnonzero(starts)
        cells = key[first]
        total = np.diff(np.r_[first, len(key)])
        won, lost = (np.add.reduceat((ev == e).astype(np.int64), first) if len(first) else first for e in (WON, LOST))
        if entries:
            entry[np.flatnonzero(keep)[order]] = np.cumsum(starts) - 1
    return (
        cells // nt + low,
        np.asarray(times, dtype="float64")[cells % nt],
        total.astype("float64"),
        won.astype("float64"),
        lost.astype("float64"),
        entry,
    )


def cumulative_incidence(gid: np.ndarray, time: np.ndarray, event: np.ndarray, rows: bool = False):
    """Aalen–Johansen curves per group (with ``rows``, also each entry's row of them: -1 for a missing time).

    Input: one entry per deal — group code ``gid``, ``time`` and ``event`` (0 censored, 1 won, 2 lost).
    Returns one row per group and distinct time: ``gid``, ``time``, ``n_at_risk`` (just before the time),
    ``won``, ``lost`` (events at the time), ``cohort`` (deals in the group), ``surv`` (all-cause
    Kaplan–Meier after the time), ``cif_won``, ``cif_lost``, ``se_won`` (statsmodels' standard error).
    """
    columns, entry = incidence_columns(gid, time, event, rows)
    curves = pd.DataFrame(columns)
    return (curves, entry) if rows else curves


CURVE_COLUMNS = ("gid", "time", "n_at_risk", "won", "lost", "cohort", "surv", "cif_won", "cif_lost", "se_won")


def incidence_columns(gid: np.ndarray, time: np.ndarray, event: np.ndarray, rows: bool = False) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """:func:`cumulative_incidence`'s columns as arrays (several sets of curves are put together before one frame is
    made of them), and the entries' rows."""
    gid, time, event = np.asarray(gid), np.asarray(time, dtype="float64"), np.asarray(event)
    g, t, total, won, lost, entry = _event_counts(gid, time, event, rows)
    if len(g) == 0:  # no deals: no curve (callers read an empty curve as "no chance known")
        return {c: np.zeros(0, dtype="int64" if c == "gid" else "float64") for c in CURVE_COLUMNS}, entry
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    sizes = np.diff(np.r_[starts, len(g)])
    cohort = np.repeat(np.add.reduceat(total, starts), sizes)
    n = cohort - (_group_cumsums(g, total)[0] - total)
    d = won + lost
    surv = pd.Series(1.0 - d / n).groupby(g).cumprod().to_numpy()
    prev = np.r_[1.0, surv[:-1]]
    prev[starts] = 1.0
    sp0 = prev / n
    # Variance as in statsmodels.duration.survfunc._calc_incidence_right (delta method). The running sums are taken
    # two groupings at a time rather than one each (the same sums: each group's own, in the same order).
    with np.errstate(divide="ignore", invalid="ignore"):
        ra = np.where(n > d, d / (n * (n - d)), 0.0)
    rb = sp0 * won / n
    cif_won, cif_lost, s_ra, s_won, s_rb = _group_cumsums(g, sp0 * won, sp0 * lost, ra, sp0**2 * (n - won) * won / n, rb)
    f = cif_won
    s_f_ra, s_f2_ra, s_f_rb = _group_cumsums(g, f * ra, f**2 * ra, f * rb)
    v = f**2 * s_ra
    v -= 2 * f * s_f_ra
    v += s_f2_ra
    v += s_won
    v -= 2 * f * s_rb
    v += 2 * s_f_rb
    return (
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
        },
        entry,
    )


def risk_threshold(cohort: np.ndarray | pd.Series, min_at_risk: int = 50, min_share: float = 0.05) -> np.ndarray:
    """Deals that must still be at risk to read a curve: 50, or 5 % of the cohort if that is fewer (≥ 1)."""
    return np.maximum(np.minimum(min_at_risk, np.ceil(min_share * np.asarray(cohort, dtype=float))), 1.0)


def plateau(curves: pd.DataFrame, min_at_risk: int = 50, min_share: float = 0.05) -> pd.DataFrame:
    """Each group's curve read at ``t*``, the last time with enough deals at risk (docs/methods.md check 1).

    Returns per ``gid``: ``t_star``, ``cif_won``, ``se_won``, ``cif_lost``, ``cohort``, ``n_at_risk``.
    """
    ok = curves["n_at_risk"].to_numpy() >= risk_threshold(curves["cohort"], min_at_risk, min_share)
    # Each group's last row with enough at risk, in the curves' order (``groupby("gid").tail(1)`` without the copy).
    idx = np.flatnonzero(ok)
    g = curves["gid"].to_numpy()[idx]
    if len(g) and (g[1:] < g[:-1]).any():  # groups not in runs: the last of each, found by a sort
        _, rev = np.unique(g[::-1], return_index=True)
        last = np.sort(idx[len(idx) - 1 - rev])
    else:
        last = idx[np.r_[g[1:] != g[:-1], True]] if len(g) else idx
    read = curves.iloc[last][["gid", "time", "cif_won", "se_won", "cif_lost", "cohort", "n_at_risk"]]
    return read.rename(columns={"time": "t_star"}).reset_index(drop=True)


def winner_cycle_quantiles(curves: pd.DataFrame, read: pd.DataFrame, qs: tuple[float, ...] = (0.25, 0.5, 0.75)) -> pd.DataFrame:
    """Quantiles of time to win among eventual winners: first t with F_won(t)/F_won(t*) ≥ q (docs/methods.md check 2).

    Returns per ``gid`` one column per quantile (``q25``, ``q50``, ``q75``); missing where a group has no win.
    """
    g, t, f = (curves[c].to_numpy() for c in ("gid", "time", "cif_won"))
    rg = read["gid"].to_numpy()
    low = min(g.min(initial=0), rg.min(initial=0))  # a missing group is coded -1: counted from 0, not from the end
    g, rg = g - low, rg - low
    size = int(max(g.max(initial=-1), rg.max(initial=-1))) + 1
    t_star, f_star = np.full(size, np.nan), np.full(size, np.nan)  # groups without a reading have no quantile
    t_star[rg], f_star[rg] = read["t_star"].to_numpy(), read["cif_won"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        keep = (t <= t_star[g]) & (f_star[g] > 0)
        ratio = f / f_star[g]
    out = pd.DataFrame({"gid": read["gid"]})
    for q in qs:
        hit = keep & (ratio >= q - 1e-12)
        first = np.full(size, np.inf)
        np.minimum.at(first, g[hit], t[hit])  # the first time each group reaches q
        at = first[rg]
        out[f"q{round(q * 100)}"] = np.where(np.isfinite(at), at, np.nan)
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

    Returns tidy ``group``, ``time``, ``share`` = F_won(t) / F_won(t*) for t ≤ t* (docs/methods.md §2.2).
    """
    t = deal_times(opps, as_of)
    codes, names = pd.factorize(opps[by], sort=True)
    curves = cumulative_incidence(codes, t["time"].to_numpy(), t["event"].to_numpy())
    read = plateau(curves, min_at_risk)
    c = curves.merge(read[["gid", "t_star", "cif_won"]].rename(columns={"cif_won": "f_star"}), on="gid")
    c = c[(c["time"] <= c["t_star"]) & (c["f_star"] > 0)]
    return pd.DataFrame(
        {
            "group": np.asarray(names, dtype=object)[c["gid"].to_numpy()],
            "time": c["time"].to_numpy(),
            "share": (c["cif_won"] / c["f_star"]).to_numpy(),
        }
    )


@dataclass(frozen=True)
class CycleModel:
    """A parametric model of deal outcomes (a mixture, fitted with censoring): won with probability ``p_won``
    after a lognormal time (``mu_won``, ``sd_won`` of log days), else lost after a lognormal time."""

    p_won: float
    mu_won: float
    sd_won: float
    mu_lost: float
    sd_lost: float
    p_won_se: float = 0.0  # standard error of p_won (Laplace approximation)

    def won_by(self, t: np.ndarray) -> np.ndarray:
        """P(won by age t)."""
        return self.p_won * ndtr((np.log(np.maximum(t, 1e-9) + 0.5) - self.mu_won) / self.sd_won)

    def survival(self, t: np.ndarray) -> np.ndarray:
        """P(still open at age t)."""
        lt = np.log(np.maximum(t, 1e-9) + 0.5)
        return self.p_won * ndtr(-(lt - self.mu_won) / self.sd_won) + (1 - self.p_won) * ndtr(-(lt - self.mu_lost) / self.sd_lost)


def fit_cycle_model(time: np.ndarray, event: np.ndarray, min_events: int = 5) -> CycleModel | None:
    """Maximum likelihood of :class:`CycleModel` on deals' ``time`` and ``event`` (0 open, 1 won, 2 lost): a won
    deal adds p·f_won(t), a lost one (1 − p)·f_lost(t), an open one p·S_won(t) + (1 − p)·S_lost(t). None with
    fewer than ``min_events`` wins or losses."""
    time, event = np.asarray(time, dtype=float), np.asarray(event)
    won, lost, open_ = event == WON, event == LOST, event == CENSORED
    if won.sum() < min_events or lost.sum() < min_events:
        return None
    lt = np.log(np.maximum(time, 0.0) + 0.5)
    # Times are whole days: the likelihood is a weighted sum over the distinct days of each outcome (exact, and fast
    # at a million deals).
    (tw, nw), (tl, nl), (to, no) = (np.unique(lt[m], return_counts=True) for m in (won, lost, open_))

    def nll(theta):
        p = expit(theta[0])
        mw, sw, ml, sl = theta[1], np.exp(theta[2]), theta[3], np.exp(theta[4])
        a = np.log(p) - 0.5 * ((tw - mw) / sw) ** 2 - np.log(sw)
        b = np.log1p(-p) - 0.5 * ((tl - ml) / sl) ** 2 - np.log(sl)
        c = np.logaddexp(np.log(p) + log_ndtr(-(to - mw) / sw), np.log1p(-p) + log_ndtr(-(to - ml) / sl))
        return -(nw @ a + nl @ b + no @ c)

    share = won.sum() / (won.sum() + lost.sum())
    prior_logit = np.log(share / (1 - share))

    def penalised(theta):  # a weak prior on the log-odds of winning (sd 1, at the share won among closed deals)
        return nll(theta) + 0.5 * (theta[0] - prior_logit) ** 2

    start = np.array(
        [np.log(share / (1 - share)), lt[won].mean(), np.log(max(lt[won].std(), 0.2)), lt[lost].mean(), np.log(max(lt[lost].std(), 0.2))]
    )
    bounds = [(-8, 8), (-2, 10), (np.log(0.05), np.log(4)), (-2, 10), (np.log(0.05), np.log(4))]
    res = minimize(penalised, start, method="L-BFGS-B", bounds=bounds)
    th = res.x
    p = float(expit(th[0]))
    return CycleModel(
        p, float(th[1]), float(np.exp(th[2])), float(th[3]), float(np.exp(th[4])), p_won_se=p * (1 - p) * _logit_se(penalised, th)
    )


def _logit_se(f, theta: np.ndarray, h: float = 1e-3) -> float:
    """Standard error of the first parameter at the optimum of ``f`` (a negative log-likelihood), from a numerical
    Hessian; 1 (on the log-odds scale) when the Hessian cannot be inverted."""
    k = len(theta)
    hess = np.zeros((k, k))
    for i in range(k):
        for j in range(i, k):
            e_i, e_j = np.eye(k)[i] * h, np.eye(k)[j] * h
            hess[i, j] = hess[j, i] = (f(theta + e_i + e_j) - f(theta + e_i - e_j) - f(theta - e_i + e_j) + f(theta - e_i - e_j)) / (
                4 * h * h
            )
    try:
        var = float(np.linalg.inv(hess)[0, 0])
    except np.linalg.LinAlgError:
        return 1.0
    return float(np.sqrt(var)) if np.isfinite(var) and var > 0 else 1.0


def extend_curve(
    curve: pd.DataFrame, model: CycleModel | None, min_at_risk: int = 50, min_share: float = 0.05, horizon: int = 1460
) -> pd.DataFrame:
    """One group's Aalen–Johansen curve, read as is while enough deals are at risk (:func:`risk_threshold`) and,
    after that last time t*, continued by ``model`` given a deal still open at t*:
    F_won(t) = F_won(t*) + S(t*)·[G_won(t) − G_won(t*)] / G_S(t*), S(t) = S(t*)·G_S(t) / G_S(t*), daily to
    ``horizon`` days. Without a model, or when the curve is read to its end, the curve is returned unchanged."""
    if model is None or curve.empty:
        return curve
    ok = curve["n_at_risk"].to_numpy() >= risk_threshold(curve["cohort"], min_at_risk, min_share)
    if not ok.any():
        return curve
    last = int(np.flatnonzero(ok)[-1])
    head = curve.iloc[: last + 1]
    t_star = float(head["time"].iloc[-1])
    if t_star >= horizon:
        return curve
    f_star, s_star, l_star = (float(head[c].iloc[-1]) for c in ("cif_won", "surv", "cif_lost"))
    g_s = float(model.survival(np.array([t_star]))[0])
    if g_s <= 1e-12:
        return head
    t = np.arange(np.floor(t_star) + 1, horizon + 1, dtype=float)
    won = f_star + s_star * (model.won_by(t) - model.won_by(np.array([t_star]))[0]) / g_s
    surv = s_star * model.survival(t) / g_s
    tail = pd.DataFrame(
        {
            "gid": head["gid"].iloc[-1],
            "time": t,
            "n_at_risk": np.nan,
            "won": np.nan,
            "lost": np.nan,
            "cohort": head["cohort"].iloc[-1],
            "surv": surv,
            "cif_won": won,
            "cif_lost": 1.0 - surv - won,
            "se_won": np.nan,
        }
    )
    return pd.concat([head, tail], ignore_index=True)
