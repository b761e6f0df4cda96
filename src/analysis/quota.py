"""Quota recommendation from each rep's forecast distribution (docs/methods.md §1.5, §1.6; docs/quotas.md).

Every rep gets the quota they reach with the same chance p: q_i = Quantile_{1−p}(S_i). In plan mode p̂ is
solved so the quotas sum to target × (1 + over-assignment) — for each team with its own target first, then for
the other reps against what is left; in realistic mode p is the set attainment share and the gap to the target
is reported, never spread. A quarter-on-quarter cap holds quotas near last quarter's; the reps inside it carry
the difference. Baselines are computed beside it: budget ÷ active reps and last year plus growth, each with
every rep's chance of attaining. Quotas can count bookings, won deals, gross margin or activities.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize
from sklearn.base import BaseEstimator

from analysis.activity_model import ActivityForecaster
from analysis.backtest import rep_forecast
from analysis.calendar import DAYS_PER_MONTH, period_bounds, shift_period
from analysis.config import DEFAULT_RAMP
from analysis.draws import wide_draws
from analysis.history import rolling_origins
from analysis.pipeline_model import PipelineForecaster
from analysis.present import money
from analysis.ramp import ramp_factor


def quantile_quotas(draws: np.ndarray, p: float, presorted: bool = False) -> np.ndarray:
    """Quota each rep (row of ``draws``) reaches with probability ``p``: the (1 − p) quantile of their draws
    (linear interpolation, as ``np.quantile``). ``presorted``: rows already sorted, so a quantile costs O(reps)
    — what lets the solver and the what-if sweep evaluate many p cheaply."""
    return _row_quantile(draws if presorted else np.sort(draws, axis=1), 1.0 - p)


def _row_quantile(s: np.ndarray, q: float) -> np.ndarray:
    """The q quantile of each row of ``s`` (rows sorted), with numpy's own interpolation so results match
    ``np.quantile``."""
    n = s.shape[1]
    pos = q * (n - 1)
    lo = int(np.floor(pos))
    hi = min(lo + 1, n - 1)
    t = pos - lo
    a, b = s[:, lo], s[:, hi]
    diff = b - a
    return np.where(t >= 0.5, b - diff * (1 - t), a + diff * t)


def attainment_chance(draws: np.ndarray, quotas: np.ndarray) -> np.ndarray:
    """P(S_i ≥ q_i) per rep, from the draws."""
    return (draws >= np.asarray(quotas, dtype=float)[:, None]).mean(axis=1)


def capped_quotas(
    draws: np.ndarray, p: float, lower: np.ndarray | None = None, upper: np.ndarray | None = None, presorted: bool = False
) -> np.ndarray:
    """Equal-chance quotas held inside per-rep bounds (the quarter-on-quarter cap; NaN: no bound)."""
    q = quantile_quotas(draws, p, presorted)
    if lower is not None:
        q = np.where(np.isnan(lower), q, np.maximum(q, np.nan_to_num(lower)))
    if upper is not None:
        q = np.where(np.isnan(upper), q, np.minimum(q, np.nan_to_num(upper)))
    return q


def solve_common_chance(
    draws: np.ndarray,
    total: float,
    tol: float = 1e-12,
    lower: np.ndarray | None = None,
    upper: np.ndarray | None = None,
    presorted: bool = False,
) -> float:
    """The common attainment chance p̂ with Σ_i q_i(p̂) = ``total`` (Σ q falls as p rises; docs/methods.md check 7).

    With bounds, q_i(p) is the capped quota (still non-increasing in p), so the reps inside their bounds carry
    the difference. Returns 0 or 1 at the ends when the total is out of reach (then the sum cannot match).
    """
    s = draws if presorted else np.sort(draws, axis=1)

    def gap(p: float) -> float:
        return float(capped_quotas(s, p, lower, upper, presorted=True).sum() - total)

    if gap(0.0) <= 0:
        return 0.0
    if gap(1.0) >= 0:
        return 1.0
    return float(optimize.brentq(gap, 0.0, 1.0, xtol=tol, rtol=4 * np.finfo(float).eps))


def ramp_capacity(full_quota: float, starts: list[int | None], quarters: int = 4, schedule: tuple[float, ...] = (0.0, 0.5, 1.0)) -> float:
    """Capacity over ``quarters``: Σ_reps Σ_quarters r(k)·q_full, k = quarters since the rep started (docs/methods.md
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
# The recommender
# ------------------------------------------------------------------------------------------------
@dataclass
class QuotaPlan:
    """A recommendation: ``quotas`` (one row per rep), ``methods`` (one row per method: expected share
    attaining, spread of P(attain), total), ``pools`` (one row per team with its own target, or the company:
    target, asked, common chance, total, gap), ``p_hat`` (the common chance; with team targets, the expected
    share of reps attaining over all teams) and ``warnings``."""

    period: str
    mode: str
    target: float
    quotas: pd.DataFrame
    methods: pd.DataFrame
    p_hat: float
    warnings: list[str] = field(default_factory=list)
    attainment_share: float = 0.65  # the share of reps the plan aims to see attaining (the setting)
    pools: pd.DataFrame = field(default_factory=pd.DataFrame)
    quota_type: str = "bookings"

    def summary(self) -> pd.DataFrame:
        return self.methods


UNITS = {"bookings": "amount", "won_deals": "won deals", "activities": "activities", "margin": "margin"}


def _fmt(value: float, quota_type: str) -> str:
    """A quota-type amount in the plan's sentences: money in the house format for bookings and margin, else a count."""
    return money(value) if quota_type in {"bookings", "margin"} else f"{value:,.1f} {UNITS[quota_type]}"


def sorted_quantiles(m_sorted: np.ndarray, qs) -> list[np.ndarray]:
    """Per-rep quantiles ``qs`` of draws already sorted per rep (no second sort)."""
    return [_row_quantile(m_sorted, q) for q in qs]


def team_of(ids: pd.Index, reps: pd.DataFrame | None) -> pd.Series:
    """Each rep's team by rep_id (``unassigned`` when unknown)."""
    if reps is None or "team" not in reps:
        return pd.Series("unassigned", index=ids)
    return pd.Series(ids, index=ids).map(reps.set_index("rep_id")["team"]).fillna("unassigned")


def headline_chance(pools: pd.DataFrame, p_attain: np.ndarray) -> float:
    """The plan's p̂: the common chance when one pool covers every rep, else the expected share of reps attaining."""
    if len(pools) == 1 and pools["p_hat"].notna().all():
        return float(pools["p_hat"].iloc[0])
    return float(np.mean(p_attain))


#: The columns of a quota plan's table (``quotas.csv``), in order; baselines and previous quotas follow.
COLUMNS = (
    "rep_id", "name", "team", "period", "quota", "p_attain", "method", "forecast_p10", "forecast_p50", "forecast_p90",
    "ramp_factor", "goal", "flags", "reason",
)  # fmt: skip


class QuotaRecommender(BaseEstimator):
    """Equal-chance quotas. Settings in ``__init__``; ``recommend`` takes the draws and the targets.

    ``max_change``: the largest quarter-on-quarter change of a rep's quota as a share of last quarter's (None: no
    cap); reps held at the cap are flagged, and the others carry the difference so the total still matches.
    """

    def __init__(
        self,
        overassignment: float = 0.10,
        attainment_share: float = 0.65,
        mode: str = "plan",
        growth: float = 0.10,
        max_change: float | None = None,
        quota_type: str = "bookings",
    ):
        if mode not in {"plan", "realistic"}:
            raise ValueError(f"mode must be 'plan' or 'realistic', got {mode!r}")
        if quota_type not in UNITS:
            raise ValueError(f"quota_type must be one of {sorted(UNITS)}, got {quota_type!r}")
        self.overassignment = overassignment
        self.attainment_share = attainment_share
        self.mode = mode
        self.growth = growth
        self.max_change = max_change
        self.quota_type = quota_type

    def recommend(
        self,
        rep_draws: pd.DataFrame,
        target: float | None,
        reps: pd.DataFrame | None = None,
        last_year: pd.Series | None = None,
        goals: pd.Series | None = None,
        period: str = "",
        team_targets: pd.Series | None = None,
        previous: pd.Series | None = None,
        history: pd.Series | None = None,
    ) -> QuotaPlan:
        """``rep_draws``: long ``rep_id``, ``draw`` and one value column (``bookings``, or the quota type's unit),
        active reps only. ``target``: the company target (None: realistic quotas, nothing to reconcile with).
        ``reps``: optional ``rep_id``, ``name``, ``team``, ``ramp_factor``. ``last_year``: the same quarter last
        year by rep_id; ``goals``: reps' own goals by rep_id; ``team_targets``: targets by team, respected first;
        ``previous``: last quarter's quota by rep_id (the cap applies to these reps); ``history``: each rep's number of
        deals in the data (:func:`deal_counts`), to flag quotas that rest on no deal of the rep's own."""

        wide = wide_draws(rep_draws)
        ids = wide.index.astype(str)
        m = np.sort(wide.to_numpy(dtype=float), axis=1)  # each rep's draws in order: quantiles in O(reps)
        info = reps.set_index("rep_id") if reps is not None else pd.DataFrame(index=ids)
        team = team_of(ids, reps)
        lower, upper = self.bounds(ids, previous)
        quotas, pools, warnings = self.allocate(m, team, target, team_targets, lower, upper)
        p_attain = attainment_chance(m, quotas)
        p_hat = headline_chance(pools, p_attain)
        asked = None if target is None else target * (1 + self.overassignment)
        q10, q50, q90 = sorted_quantiles(m, (0.1, 0.5, 0.9))
        label = f"equal chance ({self.mode})" if target is not None else "equal chance (realistic: no target)"
        out = pd.DataFrame(
            {
                "rep_id": ids,
                "period": period,
                "quota": quotas,
                "p_attain": p_attain,
                "method": label,
                "forecast_p10": q10,
                "forecast_p50": q50,
                "forecast_p90": q90,
                "quota_type": self.quota_type,
            }
        )
        out["name"] = out["rep_id"].map(info["name"]) if "name" in info else out["rep_id"]
        out["team"] = team.to_numpy()
        out["ramp_factor"] = out["rep_id"].map(info["ramp_factor"]).fillna(1.0) if "ramp_factor" in info else 1.0
        if previous is not None:
            out["previous_quota"] = out["rep_id"].map(previous)
        # Baselines, each with every rep's chance of attaining.
        if asked is not None:
            budget = np.full(len(ids), asked / len(ids))
            out["quota_budget_per_rep"] = budget
            out["p_attain_budget_per_rep"] = attainment_chance(m, budget)
        if last_year is not None:
            ly = out["rep_id"].map(last_year).to_numpy(dtype=float) * (1 + self.growth)
            out["quota_last_year_plus_growth"] = ly
            out["p_attain_last_year_plus_growth"] = np.where(np.isnan(ly), np.nan, attainment_chance(m, np.nan_to_num(ly)))
        out["goal"] = out["rep_id"].map(goals) if goals is not None else np.nan
        out["flags"] = self._flags(out, m, lower, upper, history)
        out["reason"] = [self._reason(r, pools) for r in out.itertuples()]
        methods = [self._method_row("equal chance", out["quota"], out["p_attain"])]
        if asked is not None:
            methods.append(self._method_row("budget ÷ active reps", out["quota_budget_per_rep"], out["p_attain_budget_per_rep"]))
        if last_year is not None:
            ok = out["quota_last_year_plus_growth"].notna()
            if ok.any():
                methods.append(
                    self._method_row(
                        "last year + growth", out.loc[ok, "quota_last_year_plus_growth"], out.loc[ok, "p_attain_last_year_plus_growth"]
                    )
                )
        cols = list(COLUMNS)
        out = out[cols + [c for c in out.columns if c not in cols]]
        return QuotaPlan(
            period=period,
            mode=self.mode,
            target=np.nan if target is None else target,
            quotas=out,
            methods=pd.DataFrame(methods),
            p_hat=p_hat,
            warnings=warnings,
            attainment_share=self.attainment_share,
            pools=pools,
            quota_type=self.quota_type,
        )

    def bounds(self, ids: pd.Index, previous: pd.Series | None) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Per-rep bounds from last quarter's quotas and ``max_change`` (None, None when there is no cap)."""
        if previous is None or self.max_change is None:
            return None, None
        prev = pd.Series(ids, index=ids).map(previous).to_numpy(dtype=float)
        prev = np.where(prev > 0, prev, np.nan)
        return prev * (1 - self.max_change), prev * (1 + self.max_change)

    def allocate(
        self,
        m_sorted: np.ndarray,
        team: pd.Series,
        target: float | None,
        team_targets: pd.Series | None = None,
        lower: np.ndarray | None = None,
        upper: np.ndarray | None = None,
    ) -> tuple[np.ndarray, pd.DataFrame, list[str]]:
        """The quotas for draws already sorted per rep: each team with its own target first, then the rest; returns
        the quotas, the pools table and the warnings: those about the targets first, then each pool's, the largest
        gap first (a page with room for a few shows the teams furthest out of reach). The what-if sweep calls this
        too, so both agree exactly."""
        quotas = np.zeros(len(m_sorted))
        pools, warnings, by_pool = [], [], []
        for name, sel, pool_target in self._pools(team, target, team_targets, warnings):
            lo = lower[sel] if lower is not None else None
            hi = upper[sel] if upper is not None else None
            said: list[str] = []
            row = self._solve(m_sorted[sel], pool_target, lo, hi, name, said)
            quotas[sel] = row.pop("quotas")
            pools.append({"pool": name, "reps": int(sel.sum()), **row})
            by_pool.append((-row["gap"] if np.isfinite(row["gap"]) else np.inf, said))
        for _, said in sorted(by_pool, key=lambda pair: pair[0]):
            warnings.extend(said)
        return quotas, pd.DataFrame(pools), warnings

    def _pools(self, team: pd.Series, target: float | None, team_targets: pd.Series | None, warnings: list[str]):
        """(name, rep mask, target) per pool: each team with its own target first, then the other reps sharing what
        is left of the company target."""
        teams = team.to_numpy()
        given = team_targets.dropna() if team_targets is not None else pd.Series(dtype=float)
        if given.empty:
            return [("company", np.ones(len(teams), bool), target)]
        out, assigned = [], np.zeros(len(teams), bool)
        absent = [t for t in given.index if t not in set(teams)]
        if absent:
            warnings.append(
                f"Team target(s) without any active rep to carry them: {', '.join(map(str, absent))} "
                f"({_fmt(float(given[absent].sum()), self.quota_type)} not assigned to anyone)."
            )
        for name, t in given.items():
            sel = teams == name
            if sel.any():
                out.append((str(name), sel, float(t)))
                assigned |= sel
        if (~assigned).any():
            rest = None if target is None else target - float(given.sum())
            if rest is not None and rest <= 0:
                warnings.append(
                    f"The team targets already add up to {_fmt(float(given.sum()), self.quota_type)}, the company target "
                    f"{_fmt(target, self.quota_type)} or more: reps in teams without a target get quotas at the "
                    f"{self.attainment_share:.0%} share, beyond the target."
                )
                rest = None
            out.append(("teams without a target", ~assigned, rest))
        elif target is not None and abs(float(given.sum()) - target) > 0.005 * max(target, 1.0):  # beyond rounding
            warnings.append(
                f"The team targets add up to {_fmt(float(given.sum()), self.quota_type)}, not the company target "
                f"{_fmt(target, self.quota_type)}: the quotas follow the team targets."
            )
        return out

    def _solve(self, m: np.ndarray, target: float | None, lo, hi, name: str, warnings: list[str]) -> dict:
        """One pool: quotas at its common chance (plan) or at the set share (realistic, or no target)."""
        where = "" if name == "company" else f" ({name})"
        if target is None or self.mode == "realistic":
            p = self.attainment_share
            q = capped_quotas(m, p, lo, hi, presorted=True)
            asked = np.nan if target is None else target * (1 + self.overassignment)
            gap = asked - q.sum() if target is not None else np.nan
            if target is not None and gap > 0:
                warnings.append(
                    f"Realistic quotas{where} sum to {_fmt(q.sum(), self.quota_type)}, {_fmt(gap, self.quota_type)} short of "
                    f"target plus over-assignment ({_fmt(asked, self.quota_type)}); the gap is shown, not spread."
                )
            return {"quotas": q, "target": target, "asked": asked, "p_hat": p, "total": float(q.sum()), "gap": gap}
        asked = target * (1 + self.overassignment)
        p = solve_common_chance(m, asked, lower=lo, upper=hi, presorted=True)
        q = capped_quotas(m, p, lo, hi, presorted=True)
        if abs(q.sum() - asked) > 1e-6 * max(asked, 1.0):
            warnings.append(
                f"Quotas{where} cannot add up to {_fmt(asked, self.quota_type)}: the quarter-on-quarter cap holds them at "
                f"{_fmt(q.sum(), self.quota_type)}."
            )
        realistic = capped_quotas(m, self.attainment_share, lo, hi, presorted=True).sum()
        if p < self.attainment_share:
            warnings.append(
                f"The plan{where} is not realistic: with quotas summing to {_fmt(asked, self.quota_type)} (target "
                f"{_fmt(target, self.quota_type)} plus {self.overassignment:.0%} over-assignment) each rep has a {p:.0%} chance of "
                f"attaining, so about {p:.0%} of reps are expected to reach quota, not {self.attainment_share:.0%}. For "
                f"{self.attainment_share:.0%} to attain, quotas could sum to {_fmt(realistic, self.quota_type)}, i.e. a target of "
                f"{_fmt(realistic / (1 + self.overassignment), self.quota_type)}: a gap of {_fmt(asked - realistic, self.quota_type)} "
                f"to close with hiring or pipeline."
            )
        return {"quotas": q, "target": target, "asked": asked, "p_hat": p, "total": float(q.sum()), "gap": asked - realistic}

    def _flags(self, out: pd.DataFrame, m: np.ndarray, lower, upper, history: pd.Series | None = None) -> np.ndarray:
        q25, q90 = sorted_quantiles(m, (0.25, 0.9))
        goal = out["goal"].to_numpy(dtype=float)
        parts = [np.where(goal < q25, "goal below own p25 (sandbagging?)", np.where(goal > q90, "goal above own p90 (over-reach?)", ""))]
        if lower is not None:
            q = out["quota"].to_numpy()
            tol = 1e-9 * np.maximum(np.abs(q), 1.0)
            at_cap = np.where(
                np.abs(q - np.nan_to_num(upper, nan=-1)) <= tol,
                f"held at +{self.max_change:.0%} of last quarter's quota",
                np.where(np.abs(q - np.nan_to_num(lower, nan=-1)) <= tol, f"held at −{self.max_change:.0%} of last quarter's quota", ""),
            )
            parts.append(at_cap)
        if history is not None:
            none = out["rep_id"].map(history).fillna(0).to_numpy() == 0
            parts.append(np.where(none, "no deal of their own in the data: the forecast is the team's pace", ""))
        no_forecast = (m <= 0).all(axis=1)  # quota 0 and P(attain) 1 by arithmetic: a person must decide
        lumpy = (out["quota"].to_numpy() <= 0) & ~no_forecast  # books nothing in too many draws (few, large deals)
        parts.insert(
            0,
            np.where(
                no_forecast,
                "no forecast (every draw is 0): set this quota by hand",
                np.where(lumpy, "quota 0: the forecast books nothing in too many draws (few, large deals): set this quota by hand", ""),
            ),
        )
        return np.array(["; ".join(p for p in row if p) for row in zip(*parts, strict=True)], dtype=object)

    def _reason(self, r, pools: pd.DataFrame) -> str:
        u = self.quota_type
        if r.quota <= 0:
            return (
                "no quota can be set from the forecast: it books nothing in most simulations "
                f"(median {_fmt(r.forecast_p50, u)}, 80 % range {_fmt(r.forecast_p10, u)} to {_fmt(r.forecast_p90, u)})"
            )
        text = f"{r.p_attain:.0%} chance of reaching it"
        if "held at" in r.flags:
            text += " (held by the quarter-on-quarter cap)"
        elif len(pools) > 1:
            text += f", as for every rep in {r.team if r.team in set(pools['pool']) else 'the teams without a target'}"
        else:
            text += ", as for every rep"
        text += f"; forecast median {_fmt(r.forecast_p50, u)} (80 % range {_fmt(r.forecast_p10, u)} to {_fmt(r.forecast_p90, u)})"
        if r.ramp_factor < 1:
            text += f"; ramping at {r.ramp_factor:.0%}"
        return text

    @staticmethod
    def _method_row(name: str, quotas: pd.Series, p: pd.Series) -> dict:
        return {
            "method": name,
            "total": float(np.sum(quotas)),
            "expected_share_attaining": float(np.mean(p)),
            "p_attain_min": float(np.min(p)),
            "p_attain_max": float(np.max(p)),
            "p_attain_sd": float(np.std(p)),
        }


@dataclass
class PlanInputs:
    """What :meth:`QuotaRecommender.recommend` needs besides the draws, in the unit of ``quota_type``."""

    target: float | None
    reps: pd.DataFrame
    last_year: pd.Series
    goals: pd.Series
    team_targets: pd.Series
    previous: pd.Series
    quota_type: str = "bookings"


def deal_counts(ds) -> pd.Series:
    """Each rep's number of opportunities in the data, by rep_id (reps with none are absent)."""
    return ds.opportunities.groupby("owner_id").size().rename_axis("rep_id")


def actuals(ds, period: str, quota_type: str = "bookings") -> pd.Series:
    """What each rep achieved in ``period`` in the unit of ``quota_type`` (by rep_id): won amount, won deals,
    gross margin of won deals (by close date), or activities (by date)."""

    start, end = period_bounds(period, ds.fiscal_year_start)
    if quota_type == "activities":
        a = ds.activities if "activities" in ds.tables else pd.DataFrame(columns=["rep_id", "date", "count"])
        inside = a[(a["date"] >= start) & (a["date"] <= end)]
        return inside.groupby("rep_id")["count"].sum().rename(period)
    o = ds.opportunities
    won = o[(o["status"] == "won") & (o["close_date"] >= start) & (o["close_date"] <= end)]
    column = {"bookings": "amount", "margin": "margin"}.get(quota_type)
    grouped = won.groupby("owner_id")
    out = grouped.size().astype(float) if column is None else grouped[column].sum()
    return out.rename_axis("rep_id").rename(period)


def forecaster_for(quota_type: str, draws: int = 2000, seed: int = 0, ramp_schedule: tuple[float, ...] = DEFAULT_RAMP):
    """The forecaster whose draws are in the unit of ``quota_type``."""

    if quota_type == "activities":
        return ActivityForecaster(draws=draws, seed=seed)
    measure = {"bookings": "amount", "won_deals": "count", "margin": "margin"}[quota_type]
    return PipelineForecaster(draws=draws, seed=seed, ramp_schedule=ramp_schedule, measure=measure)


def plan_inputs(ds, period: str, ramp_schedule: tuple[float, ...] = DEFAULT_RAMP, quota_type: str = "bookings") -> PlanInputs:
    """What a plan needs from the data: the company target for ``period`` in the quota type's unit (None when there is
    none: quotas are then set at the attainment share, with no target to reconcile),
    team targets, reps with their ramp factor at the period's start, the same quarter last year, goals (bookings
    only), and last quarter's quotas of reps who were fully ramped then (bookings only: the quotas history is in
    bookings; the quarter-on-quarter cap applies to them)."""

    company, teams = ds.targets_for(period, quota_type)
    fy = ds.fiscal_year_start
    start, _ = period_bounds(period, fy)
    reps = ds.active_reps().copy()
    tenure = ((start - reps["hire_date"]).dt.days / DAYS_PER_MONTH).to_numpy(dtype=float)
    reps["ramp_factor"] = ramp_factor(tenure, ramp_schedule)
    last_year = actuals(ds, shift_period(period, -4, fy), quota_type)
    before = shift_period(period, -1, fy)
    if quota_type == "bookings":
        goals = ds.goals[ds.goals["period"] == period].set_index("rep_id")["goal"]
        prev_start, _ = period_bounds(before, fy)
        ramped_then = ramp_factor(((prev_start - reps["hire_date"]).dt.days / DAYS_PER_MONTH).to_numpy(dtype=float), ramp_schedule) >= 1
        prev = ds.quotas[ds.quotas["period"] == before].set_index("rep_id")["quota"]
        previous = prev[prev.index.isin(reps.loc[ramped_then, "rep_id"])]
    else:
        goals, previous = pd.Series(dtype=float), pd.Series(dtype=float)
    return PlanInputs(company, reps, last_year, goals, teams, previous, quota_type)


def ramp_view(plan: QuotaPlan) -> pd.DataFrame:
    """Capacity with and without ramp (docs/methods.md §1.5, check 13), per team and in total: ``team``, ``reps``,
    ``ramping``, ``full_quota`` (median quota of the team's fully ramped reps), ``headcount_capacity``
    (reps × full quota, the naive figure), ``ramped_capacity`` (Σ ramp factor × full quota) and ``ramp_shortfall``."""
    q = plan.quotas
    ramped = q[q["ramp_factor"] >= 1]
    full = ramped.groupby("team")["quota"].median()
    overall = float(ramped["quota"].median()) if len(ramped) else float(q["quota"].median())
    frame = q.assign(full=q["team"].map(full).fillna(overall))
    out = frame.groupby("team").agg(
        reps=("rep_id", "size"),
        ramping=("ramp_factor", lambda r: int((r < 1).sum())),
        full_quota=("full", "first"),
        headcount_capacity=("full", "sum"),
    )
    out["ramped_capacity"] = (frame["full"] * frame["ramp_factor"]).groupby(frame["team"]).sum()
    out = out.reset_index()
    total = {
        "team": "all teams",
        "reps": int(out["reps"].sum()),
        "ramping": int(out["ramping"].sum()),
        "full_quota": np.nan,
        "headcount_capacity": float(out["headcount_capacity"].sum()),
        "ramped_capacity": float(out["ramped_capacity"].sum()),
    }
    out = pd.concat([out, pd.DataFrame([total])], ignore_index=True)
    out["ramp_shortfall"] = out["headcount_capacity"] - out["ramped_capacity"]
    return out


def plan_record(plan: QuotaPlan) -> dict:
    """The plan's headline as plain values (for ``quota_plan.json`` and the leadership page)."""
    return {
        "period": plan.period,
        "mode": plan.mode,
        "quota_type": plan.quota_type,
        "target": None if pd.isna(plan.target) else float(plan.target),
        "total": float(plan.quotas["quota"].sum()),
        "p_hat": plan.p_hat,
        "attainment_share": plan.attainment_share,
        "reps": int(len(plan.quotas)),
        "teams_with_own_target": [p for p in plan.pools["pool"] if p not in {"company", "teams without a target"}]
        if len(plan.pools)
        else [],
        "warnings": plan.warnings,
    }


REPLAY_COLUMNS = ["period", "method", "reps", "expected_share", "realised_share", "attainment_sd", "within_20pct", "plan_vs_actual"]


def policy_backtest(
    ds,
    n: int = 6,
    attainment_share: float = 0.65,
    overassignment: float = 0.10,
    growth: float = 0.10,
    make=None,
    quota_type: str = "bookings",
) -> pd.DataFrame:
    """Replay the last ``n`` complete quarters: set quotas with each method from what was known the day before
    the quarter began (as-of snapshot), then score them against what the reps booked.

    Methods: ``equal chance (realistic)`` at ``attainment_share``; ``equal chance (plan)`` solved against the
    quarter's company target × (1 + over-assignment); ``budget ÷ active reps``; ``last year + growth``.
    Returns per quarter and method: ``period``, ``method``, ``reps``, ``expected_share`` (mean predicted P(attain)),
    ``realised_share`` (share of reps whose bookings reached quota), ``attainment_sd`` (spread of bookings / quota),
    ``within_20pct`` (share of reps within ±20 % of quota), ``plan_vs_actual`` (Σ quotas / Σ bookings − 1).
    Other quota types are replayed in their own unit (targets of that type; :func:`actuals`).
    """

    make = make or (lambda: forecaster_for(quota_type, draws=1000, seed=0))
    fy = ds.fiscal_year_start
    rows = []
    for period, cutoff, snap in rolling_origins(ds, n):  # the day before the quarter began
        target, _ = snap.targets_for(period, quota_type)
        groups, m = rep_forecast(ds, snap, period, cutoff, make)  # the forecast's own backtest made them, where it could
        if not len(groups):
            continue
        ids = groups.astype(str)
        booked = actuals(ds, period, quota_type).reindex(ids).fillna(0.0).to_numpy()
        methods = {"equal chance (realistic)": quantile_quotas(m, attainment_share)}
        if target is not None:
            asked = target * (1 + overassignment)
            methods["equal chance (plan)"] = quantile_quotas(m, solve_common_chance(m, asked))
            methods["budget ÷ active reps"] = np.full(len(ids), asked / len(ids))
        ly = actuals(snap, shift_period(period, -4, fy), quota_type).reindex(ids)
        if ly.notna().any():
            methods["last year + growth"] = ly.to_numpy(dtype=float) * (1 + growth)
        for name, q in methods.items():
            ok = ~np.isnan(q) & (q > 0)
            if not ok.any():
                continue
            att = booked[ok] / q[ok]
            rows.append(
                {
                    "period": period,
                    "method": name,
                    "reps": int(ok.sum()),
                    "expected_share": float(attainment_chance(m[ok], q[ok]).mean()),
                    "realised_share": float((att >= 1).mean()),
                    "attainment_sd": float(att.std()),
                    "within_20pct": float((np.abs(att - 1) <= 0.2).mean()),
                    "plan_vs_actual": float(q[ok].sum() / booked[ok].sum() - 1) if booked[ok].sum() > 0 else np.nan,
                }
            )
    return pd.DataFrame(rows, columns=REPLAY_COLUMNS)
