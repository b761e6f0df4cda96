"""Quota recommendation from each rep's forecast distribution (METHODS §1.2, §1.5, §1.6).

Every rep gets the quota they reach with the same chance p: q_i = Quantile_{1−p}(S_i). In plan mode p̂ is
solved so the quotas sum to target × (1 + over-assignment); in realistic mode p is the set attainment share
and the gap to the target is reported, never spread. Baselines are computed beside it: budget ÷ active reps
and last year's bookings plus growth, each with every rep's chance of attaining.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize


def quantile_quotas(draws: np.ndarray, p: float) -> np.ndarray:
    """Quota each rep (row of ``draws``) reaches with probability ``p``: the (1 − p) quantile of their draws."""
    return np.quantile(draws, 1.0 - p, axis=1)


def attainment_chance(draws: np.ndarray, quotas: np.ndarray) -> np.ndarray:
    """P(S_i ≥ q_i) per rep, from the draws."""
    return (draws >= np.asarray(quotas, dtype=float)[:, None]).mean(axis=1)


def solve_common_chance(draws: np.ndarray, total: float, tol: float = 1e-12) -> float:
    """The common attainment chance p̂ with Σ_i q_i(p̂) = ``total`` (Σ q falls as p rises; METHODS check 7).

    Returns 0 or 1 at the ends when the total is out of the draws' range (then the sum cannot match).
    """
    lo_sum, hi_sum = quantile_quotas(draws, 1.0).sum(), quantile_quotas(draws, 0.0).sum()
    if total >= hi_sum:
        return 0.0
    if total <= lo_sum:
        return 1.0
    return float(optimize.brentq(lambda p: quantile_quotas(draws, p).sum() - total, 0.0, 1.0, xtol=tol, rtol=4 * np.finfo(float).eps))


def ramp_capacity(full_quota: float, starts: list[int | None], quarters: int = 4, schedule: tuple[float, ...] = (0.0, 0.5, 1.0)) -> float:
    """Capacity over ``quarters``: Σ_reps Σ_quarters r(k)·q_full, k = quarters since the rep started (METHODS
    check 13). ``starts``: for each rep the quarter index they start (0-based) or None if already ramped."""
    total = 0.0
    for start in starts:
        for q in range(quarters):
            if start is None:
                total += full_quota
            elif q >= start:
                k = q - start
                total += full_quota * (schedule[k] if k < len(schedule) else 1.0)
    return total


# ------------------------------------------------------------------------------------------------
# Bottom-up goals: Gonik's scheme and roll-ups
# ------------------------------------------------------------------------------------------------
def gonik_payout(forecast, actual, quota, beta: float = 1.2, alpha: float = 0.6, gamma: float = 1.8):
    """Payout in percent of the standard bonus (Gonik 1978; Weitzman's form, 0 < α < β < γ), floored at 0:
    100·[β·F + α·(A − F)]/Q if A ≥ F, else 100·[β·F − γ·(F − A)]/Q."""
    f, a, q = (np.asarray(x, dtype=float) for x in (forecast, actual, quota))
    above = 100 * (beta * f + alpha * (a - f)) / q
    below = 100 * (beta * f - gamma * (f - a)) / q
    return np.maximum(np.where(a >= f, above, below), 0.0)


def gonik_elicited_quantile(beta: float = 1.2, alpha: float = 0.6, gamma: float = 1.8) -> float:
    """The quantile of the rep's own belief that maximises expected payout: (β − α) / (γ − α) (the median for
    Gonik's 120/60/180; METHODS §1.2 — not the expectation)."""
    if not 0 < alpha < beta < gamma:
        raise ValueError(f"need 0 < alpha < beta < gamma, got alpha={alpha}, beta={beta}, gamma={gamma}")
    return (beta - alpha) / (gamma - alpha)


def roll_up(draws: np.ndarray, q: float = 0.5) -> float:
    """A team quantile from the rep draws: the quantile of the simulated **sum**, not the sum of quantiles
    (METHODS check 5)."""
    return float(np.quantile(draws.sum(axis=0), q))


# ------------------------------------------------------------------------------------------------
# The recommender
# ------------------------------------------------------------------------------------------------
@dataclass
class QuotaPlan:
    """A recommendation: ``quotas`` (one row per rep), ``methods`` (one row per method: expected share
    attaining, spread of P(attain), total), ``p_hat`` and ``warnings``."""

    period: str
    mode: str
    target: float
    quotas: pd.DataFrame
    methods: pd.DataFrame
    p_hat: float
    warnings: list[str] = field(default_factory=list)
    attainment_share: float = 0.65  # the share of reps the plan aims to see attaining (the setting)

    def summary(self) -> pd.DataFrame:
        return self.methods


class QuotaRecommender:
    """Equal-chance quotas. Settings in ``__init__``; ``recommend`` takes the draws and the target."""

    def __init__(self, overassignment: float = 0.10, attainment_share: float = 0.65, mode: str = "plan", growth: float = 0.10):
        if mode not in {"plan", "realistic"}:
            raise ValueError(f"mode must be 'plan' or 'realistic', got {mode!r}")
        self.overassignment = overassignment
        self.attainment_share = attainment_share
        self.mode = mode
        self.growth = growth

    def recommend(self, rep_draws: pd.DataFrame, target: float, reps: pd.DataFrame | None = None,
                  last_year: pd.Series | None = None, goals: pd.Series | None = None, period: str = "") -> QuotaPlan:
        """``rep_draws``: long ``rep_id``, ``draw``, ``bookings`` (active reps only). ``reps``: optional
        ``rep_id``, ``name``, ``team``, ``ramp_factor``. ``last_year``: bookings in the same quarter last year
        by rep_id; ``goals``: reps' own goals by rep_id."""
        wide = rep_draws.pivot(index="rep_id", columns="draw", values="bookings").sort_index()
        ids = wide.index.astype(str)
        m = wide.to_numpy(dtype=float)
        asked = target * (1 + self.overassignment)
        warnings = []
        if self.mode == "plan":
            p_hat = solve_common_chance(m, asked)
            quotas = quantile_quotas(m, p_hat)
            if p_hat < self.attainment_share:
                realistic = quantile_quotas(m, self.attainment_share).sum()
                warnings.append(
                    f"The plan is not realistic: with quotas summing to {asked:,.0f} (target {target:,.0f} plus "
                    f"{self.overassignment:.0%} over-assignment) each rep has a {p_hat:.0%} chance of attaining, so about "
                    f"{p_hat:.0%} of reps are expected to reach quota, not {self.attainment_share:.0%}. For "
                    f"{self.attainment_share:.0%} to attain, quotas could sum to {realistic:,.0f}, i.e. a target of "
                    f"{realistic / (1 + self.overassignment):,.0f}: a gap of {asked - realistic:,.0f} to close with hiring or pipeline."
                )
        else:
            p_hat = self.attainment_share
            quotas = quantile_quotas(m, p_hat)
            gap = asked - quotas.sum()
            if gap > 0:
                warnings.append(f"Realistic quotas sum to {quotas.sum():,.0f}, {gap:,.0f} short of target plus over-assignment ({asked:,.0f}); the gap is shown, not spread.")
        q10, q50, q90 = np.quantile(m, [0.1, 0.5, 0.9], axis=1)
        out = pd.DataFrame({"rep_id": ids, "period": period, "quota": quotas, "p_attain": attainment_chance(m, quotas),
                            "method": f"equal chance ({self.mode})", "forecast_p10": q10, "forecast_p50": q50, "forecast_p90": q90})
        info = reps.set_index("rep_id") if reps is not None else pd.DataFrame(index=ids)
        out["name"] = out["rep_id"].map(info["name"]) if "name" in info else out["rep_id"]
        out["team"] = out["rep_id"].map(info["team"]) if "team" in info else "unassigned"
        out["ramp_factor"] = out["rep_id"].map(info["ramp_factor"]).fillna(1.0) if "ramp_factor" in info else 1.0
        # Baselines, each with every rep's chance of attaining.
        budget = np.full(len(ids), asked / len(ids))
        out["quota_budget_per_rep"] = budget
        out["p_attain_budget_per_rep"] = attainment_chance(m, budget)
        if last_year is not None:
            ly = out["rep_id"].map(last_year).to_numpy(dtype=float) * (1 + self.growth)
            out["quota_last_year_plus_growth"] = ly
            out["p_attain_last_year_plus_growth"] = np.where(np.isnan(ly), np.nan, attainment_chance(m, np.nan_to_num(ly)))
        out["goal"] = out["rep_id"].map(goals) if goals is not None else np.nan
        q25 = np.quantile(m, 0.25, axis=1)
        flags = np.where(out["goal"] < q25, "goal below own p25 (sandbagging?)", np.where(out["goal"] > q90, "goal above own p90 (over-reach?)", ""))
        out["flags"] = np.where(out["goal"].isna(), "", flags)
        no_forecast = (m <= 0).all(axis=1)  # quota 0 and P(attain) 1 by arithmetic: a person must decide
        out.loc[no_forecast, "flags"] = "no forecast (every draw is 0): set this quota by hand"
        out["reason"] = [
            f"{p:.0%} chance of reaching it, as for every rep; forecast median {f50:,.0f} (80 % range {f10:,.0f} to {f90:,.0f})"
            + (f"; ramping at {r:.0%}" if r < 1 else "")
            for p, f10, f50, f90, r in zip(out["p_attain"], q10, q50, q90, out["ramp_factor"], strict=True)
        ]
        methods = [self._method_row("equal chance", out["quota"], out["p_attain"])]
        methods.append(self._method_row("budget ÷ active reps", out["quota_budget_per_rep"], out["p_attain_budget_per_rep"]))
        if last_year is not None:
            ok = out["quota_last_year_plus_growth"].notna()
            methods.append(self._method_row("last year + growth", out.loc[ok, "quota_last_year_plus_growth"], out.loc[ok, "p_attain_last_year_plus_growth"]))
        cols = ["rep_id", "name", "team", "period", "quota", "p_attain", "method", "forecast_p10", "forecast_p50", "forecast_p90",
                "ramp_factor", "goal", "flags", "reason"]
        out = out[cols + [c for c in out.columns if c not in cols]]
        return QuotaPlan(period=period, mode=self.mode, target=target, quotas=out, methods=pd.DataFrame(methods), p_hat=p_hat,
                         warnings=warnings, attainment_share=self.attainment_share)

    @staticmethod
    def _method_row(name: str, quotas: pd.Series, p: pd.Series) -> dict:
        return {"method": name, "total": float(np.sum(quotas)), "expected_share_attaining": float(np.mean(p)),
                "p_attain_min": float(np.min(p)), "p_attain_max": float(np.max(p)), "p_attain_sd": float(np.std(p))}


def to_excel(plan: QuotaPlan, path) -> None:
    """``quotas.xlsx`` for sales operations: a summary sheet, then one sheet per team; values only (no
    formulas), frozen header, readable widths and number formats."""
    from openpyxl.utils import get_column_letter

    summary = plan.methods.copy()
    head = pd.DataFrame({"item": ["period", "mode", "target", "common chance of attaining (p̂)", "warning"],
                         "value": [plan.period, plan.mode, plan.target, round(plan.p_hat, 4), " ".join(plan.warnings) or "none"]})
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        head.to_excel(xw, sheet_name="Summary", index=False)
        summary.to_excel(xw, sheet_name="Summary", index=False, startrow=len(head) + 2)
        used = {"Summary"}
        for team, frame in plan.quotas.groupby("team", sort=True):
            name = "".join(ch for ch in str(team) if ch not in '[]:*?/\\')[:28] or "team"
            while name in used:
                name = name[:26] + "_" + str(len(used))
            used.add(name)
            frame.drop(columns=["team"]).to_excel(xw, sheet_name=name, index=False)
        for ws in xw.book.worksheets:
            ws.freeze_panes = "A2"
            for i, col in enumerate(ws.iter_cols(min_row=1, max_row=min(ws.max_row, 200)), start=1):
                width = max(len(str(c.value)) if c.value is not None else 0 for c in col)
                ws.column_dimensions[get_column_letter(i)].width = min(max(10, width + 2), 60)
                for c in col[1:]:
                    if isinstance(c.value, float):
                        c.number_format = "0.00" if abs(c.value) <= 1 else "#,##0"


@dataclass
class PlanInputs:
    target: float
    reps: pd.DataFrame
    last_year: pd.Series
    goals: pd.Series


def plan_inputs(ds, period: str, ramp_schedule: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0)) -> PlanInputs:
    """What a plan needs from the data: the company target for ``period`` (a clear error if there is none),
    reps with their ramp factor at the period's start, last year's bookings in the same quarter, and goals."""
    from analysis.backtest import quarterly_bookings
    from analysis.calendar import period_bounds, shift_period
    from analysis.forecast import ramp_factor

    t = ds.targets
    company = t[(t["period"] == period) & t["team"].isna()]["target"]
    if company.empty:
        raise ValueError(f"no company target for {period} in the targets table (add a row: period={period}, target=..., team empty)")
    start, _ = period_bounds(period, ds.fiscal_year_start)
    reps = ds.active_reps().copy()
    tenure = ((start - reps["hire_date"]).dt.days / 30.44).to_numpy(dtype=float)
    reps["ramp_factor"] = ramp_factor(tenure, ramp_schedule)
    ly = quarterly_bookings(ds, "rep")
    ly = ly[ly["period"] == shift_period(period, -4, ds.fiscal_year_start)].set_index("group")["bookings"]
    goals = ds.goals[ds.goals["period"] == period].set_index("rep_id")["goal"]
    return PlanInputs(float(company.iloc[0]), reps, ly, goals)


def plan_record(plan: QuotaPlan) -> dict:
    """The plan's headline as plain values (for ``quota_plan.json`` and the leadership page)."""
    return {"period": plan.period, "mode": plan.mode, "target": plan.target, "total": float(plan.quotas["quota"].sum()),
            "p_hat": plan.p_hat, "attainment_share": plan.attainment_share, "reps": int(len(plan.quotas)), "warnings": plan.warnings}


def policy_backtest(ds, n: int = 6, attainment_share: float = 0.65, overassignment: float = 0.10, growth: float = 0.10,
                    make=None) -> pd.DataFrame:
    """Replay the last ``n`` complete quarters: set quotas with each method from what was known the day before
    the quarter began (as-of snapshot), then score them against what the reps booked.

    Methods: ``equal chance (realistic)`` at ``attainment_share``; ``equal chance (plan)`` solved against the
    quarter's company target × (1 + over-assignment); ``budget ÷ active reps``; ``last year + growth``.
    Returns per quarter and method: ``period``, ``method``, ``reps``, ``expected_share`` (mean predicted P(attain)),
    ``realised_share`` (share of reps whose bookings reached quota), ``attainment_sd`` (spread of bookings / quota),
    ``within_20pct`` (share of reps within ±20 % of quota), ``plan_vs_actual`` (Σ quotas / Σ bookings − 1).
    """
    from analysis.backtest import quarterly_bookings
    from analysis.calendar import last_complete_period, period_bounds, shift_period
    from analysis.forecast import PipelineForecaster

    make = make or (lambda: PipelineForecaster(draws=1000, seed=0))
    fy = ds.fiscal_year_start
    last_done = last_complete_period(ds.as_of_date, fy)
    actual_all = quarterly_bookings(ds, "rep")
    rows = []
    for k in range(n, 0, -1):
        period = shift_period(last_done, -k + 1, fy)
        start, _ = period_bounds(period, fy)
        snap = ds.as_of(start - pd.Timedelta(days=1))
        t = snap.targets
        target = t[(t["period"] == period) & t["team"].isna()]["target"]
        draws = make().fit(snap).predict(period).rep_draws()
        if draws.empty:
            continue
        wide = draws.pivot(index="rep_id", columns="draw", values="bookings").sort_index()
        m = wide.to_numpy(dtype=float)
        ids = wide.index.astype(str)
        booked = actual_all[actual_all["period"] == period].set_index("group")["bookings"].reindex(ids).fillna(0.0).to_numpy()
        methods = {"equal chance (realistic)": quantile_quotas(m, attainment_share)}
        if len(target):
            asked = float(target.iloc[0]) * (1 + overassignment)
            methods["equal chance (plan)"] = quantile_quotas(m, solve_common_chance(m, asked))
            methods["budget ÷ active reps"] = np.full(len(ids), asked / len(ids))
        hist = quarterly_bookings(snap, "rep")
        ly = hist[hist["period"] == shift_period(period, -4, fy)].set_index("group")["bookings"].reindex(ids)
        if ly.notna().any():
            methods["last year + growth"] = ly.to_numpy(dtype=float) * (1 + growth)
        for name, q in methods.items():
            ok = ~np.isnan(q) & (q > 0)
            if not ok.any():
                continue
            att = booked[ok] / q[ok]
            rows.append({"period": period, "method": name, "reps": int(ok.sum()),
                         "expected_share": float(attainment_chance(m[ok], q[ok]).mean()),
                         "realised_share": float((att >= 1).mean()), "attainment_sd": float(att.std()),
                         "within_20pct": float((np.abs(att - 1) <= 0.2).mean()),
                         "plan_vs_actual": float(q[ok].sum() / booked[ok].sum() - 1) if booked[ok].sum() > 0 else np.nan})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------------
# Monitoring: misses caught early, coaching pointers, leaderboard (all read from the metrics table)
# ------------------------------------------------------------------------------------------------
def _rep_values(metrics: pd.DataFrame, metric: str, period: str, column: str = "value") -> pd.Series:
    m = metrics[(metrics["metric"] == metric) & (metrics["dimension"] == "rep") & (metrics["period"] == period)]
    return m.set_index("group")[column]


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
        return pd.DataFrame(columns=["rep_id", "name", "team", "misses", "attainment", "gap", "created_vs_team", "win_rate_vs_team",
                                     "deal_size_vs_team", "cycle_vs_team", "pointer"])
    att = _rep_values(metrics, "quota_attainment", period)
    quota = _rep_values(metrics, "quota_attainment", period, "n")
    drivers = pd.DataFrame({
        "created": _rep_values(metrics, "win_rate_cohort", period, "n"),
        "win_rate": _rep_values(metrics, "win_rate_shrunk", period),
        "deal_size": _rep_values(metrics, "avg_deal_size_shrunk", period),
        "cycle": _rep_values(metrics, "median_cycle_days", period),
    })
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
        rows.append({"rep_id": rep, "name": info["name"].get(rep, rep), "team": info["team"].get(rep, "unassigned"),
                     "misses": int(misses[rep]), "attainment": a, "gap": quota.get(rep, np.nan) * (1 - a) if pd.notna(a) else np.nan,
                     "created_vs_team": r.get("created"), "win_rate_vs_team": r.get("win_rate"), "deal_size_vs_team": r.get("deal_size"),
                     "cycle_vs_team": r.get("cycle"), "pointer": pointer})
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
