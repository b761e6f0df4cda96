"""What-if scenarios: the quota plan's headline numbers under the settings leaders move, without refitting the
forecast (docs/compensation.md, "What-if").

:func:`prepare` takes the forecast draws and the plan inputs once; :func:`what_if` is then a pure function of the
target, over-assignment, attainment share, ramp schedule and compensation plan, cheap enough to sweep
(:func:`sweep`). It allocates quotas with the same code as :class:`analysis.quota.QuotaRecommender`, so at
today's settings it returns the quota plan's own numbers.

Two approximations, both stated in the docs: a moved company target scales the team targets in proportion, and
a changed ramp schedule rescales a ramping rep's draws by new ramp ÷ current ramp at the quarter's start (reps at
ramp 0 stay as forecast).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.calendar import DAYS_PER_MONTH
from analysis.compensation import CompPlan, summarise
from analysis.config import DEFAULT_RAMP
from analysis.draws import wide_draws
from analysis.quota import QuotaRecommender, attainment_chance, headline_chance, team_of
from analysis.ramp import ramp_factor

HEADLINE = [
    "target",
    "overassignment",
    "attainment_share",
    "ramp_schedule",
    "comp_plan",
    "p_hat",
    "expected_share_attaining",
    "quota_total",
    "asked",
    "gap",
    "expected_bookings",
    "p_reach_target",
    "expected_variable_pay",
    "variable_pay_p10",
    "variable_pay_p90",
    "cost_of_sales",
    "share_reaching_on_target_variable",
]


@dataclass
class ScenarioBase:
    """Today's plan inputs, ready to be re-planned many times: the joint draws (reps × draws, columns are the same
    simulated quarter), the same draws sorted per rep, and each rep's team, tenure, bounds and settings."""

    ids: pd.Index
    draws: np.ndarray
    sorted_draws: np.ndarray
    team: pd.Series
    tenure_months: np.ndarray
    target: float | None
    team_targets: pd.Series | None
    lower: np.ndarray | None
    upper: np.ndarray | None
    overassignment: float
    attainment_share: float
    ramp_schedule: tuple[float, ...]
    max_change: float | None
    mode: str
    quota_type: str
    comp_plan: CompPlan | None


def prepare(
    rep_draws: pd.DataFrame,
    reps: pd.DataFrame,
    target: float | None,
    period_start: pd.Timestamp,
    team_targets: pd.Series | None = None,
    previous: pd.Series | None = None,
    overassignment: float = 0.10,
    attainment_share: float = 0.65,
    ramp_schedule: tuple[float, ...] = DEFAULT_RAMP,
    max_change: float | None = None,
    mode: str = "plan",
    quota_type: str = "bookings",
    comp_plan: CompPlan | None = None,
) -> ScenarioBase:
    """Pivot and sort the draws once. ``reps``: ``rep_id``, ``team``, ``hire_date``; the other arguments as for
    :meth:`QuotaRecommender.recommend` and its settings."""
    wide = wide_draws(rep_draws)
    ids = wide.index.astype(str)
    team = team_of(ids, reps)
    hire = pd.Series(ids, index=ids).map(reps.set_index("rep_id")["hire_date"]) if "hire_date" in reps else pd.Series(pd.NaT, index=ids)
    tenure = ((period_start - pd.to_datetime(hire)).dt.days / DAYS_PER_MONTH).to_numpy(dtype=float)
    rec = QuotaRecommender(
        overassignment=overassignment, attainment_share=attainment_share, max_change=max_change, mode=mode, quota_type=quota_type
    )
    lower, upper = rec.bounds(ids, previous)
    m = wide.to_numpy(dtype=float)
    return ScenarioBase(
        ids=ids,
        draws=m,
        sorted_draws=np.sort(m, axis=1),
        team=team,
        tenure_months=tenure,
        target=target,
        team_targets=team_targets,
        lower=lower,
        upper=upper,
        overassignment=overassignment,
        attainment_share=attainment_share,
        ramp_schedule=tuple(ramp_schedule),
        max_change=max_change,
        mode=mode,
        quota_type=quota_type,
        comp_plan=comp_plan,
    )


def what_if(
    base: ScenarioBase,
    target: float | None = None,
    overassignment: float | None = None,
    attainment_share: float | None = None,
    ramp_schedule: tuple[float, ...] | None = None,
    comp_plan: CompPlan | None = None,
) -> dict:
    """The plan's headline under these settings (None: today's). Returns a dict with :data:`HEADLINE` keys:
    ``p_hat`` and ``expected_share_attaining`` (as the quota plan), ``quota_total`` and ``asked`` (target ×
    (1 + over-assignment)), ``gap`` (what the quotas ask beyond what lets the set share attain; negative: room),
    ``expected_bookings``, ``p_reach_target`` (chance total bookings reach the target), and with a compensation plan
    the expected variable pay (p10, p90), cost of sales (E[pay] / E[bookings]) and share of reps reaching their
    on-target variable."""
    target = base.target if target is None else float(target)
    o = base.overassignment if overassignment is None else float(overassignment)
    share = base.attainment_share if attainment_share is None else float(attainment_share)
    schedule = base.ramp_schedule if ramp_schedule is None else tuple(float(r) for r in ramp_schedule)
    plan = base.comp_plan if comp_plan is None else comp_plan
    draws, sorted_draws = base.draws, base.sorted_draws
    if schedule != base.ramp_schedule:
        now = ramp_factor(base.tenure_months, base.ramp_schedule)
        new = ramp_factor(base.tenure_months, schedule)
        scale = np.where(now > 0, new / np.where(now > 0, now, 1.0), 1.0)
        draws, sorted_draws = draws * scale[:, None], sorted_draws * scale[:, None]  # a positive scale keeps rows sorted
    team_targets = base.team_targets
    if team_targets is not None and len(team_targets) and base.target and target is not None:
        team_targets = team_targets * (target / base.target)
    rec = QuotaRecommender(overassignment=o, attainment_share=share, max_change=base.max_change, mode=base.mode, quota_type=base.quota_type)
    quotas, pools, _ = rec.allocate(sorted_draws, base.team, target, team_targets, base.lower, base.upper)
    p_attain = attainment_chance(sorted_draws, quotas)
    total = draws.sum(axis=0)
    out = {
        "target": np.nan if target is None else target,
        "overassignment": o,
        "attainment_share": share,
        "ramp_schedule": "/".join(f"{r:g}" for r in schedule),
        "comp_plan": plan.name if plan else "",
        "p_hat": headline_chance(pools, p_attain),
        "expected_share_attaining": float(np.mean(p_attain)),
        "quota_total": float(quotas.sum()),
        "asked": np.nan if target is None else target * (1 + o),
        "gap": float(pools["gap"].sum()) if "gap" in pools and pools["gap"].notna().any() else np.nan,
        "expected_bookings": float(total.mean()),
        "p_reach_target": np.nan if target is None else float((total >= target).mean()),
    }
    if plan is not None:
        s = summarise(plan, quotas, draws, np.floor(base.tenure_months / 3), per_rep=False)
        out.update(
            expected_variable_pay=s.expected_payout,
            variable_pay_p10=s.payout_p10,
            variable_pay_p90=s.payout_p90,
            cost_of_sales=s.cost_of_sales,
            share_reaching_on_target_variable=s.share_reaching_on_target_variable,
        )
    else:
        out.update(
            {
                k: np.nan
                for k in (
                    "expected_variable_pay",
                    "variable_pay_p10",
                    "variable_pay_p90",
                    "cost_of_sales",
                    "share_reaching_on_target_variable",
                )
            }
        )
    return out


def sweep(base: ScenarioBase, **grid) -> pd.DataFrame:
    """:func:`what_if` over every combination of the given settings (lists of values for ``target``,
    ``overassignment``, ``attainment_share``, ``ramp_schedule``, ``comp_plan``); the others stay at today's.
    One row per scenario with the :data:`HEADLINE` columns and ``today`` (True where every setting is today's)."""
    names = list(grid)
    rows = []
    for values in itertools.product(*(grid[n] for n in names)):
        row = what_if(base, **dict(zip(names, values, strict=True)))
        rows.append(row)
    out = pd.DataFrame(rows, columns=HEADLINE)
    today = what_if(base)
    out["today"] = (
        np.isclose(out["target"], today["target"])
        & np.isclose(out["overassignment"], today["overassignment"])
        & np.isclose(out["attainment_share"], today["attainment_share"])
        & (out["ramp_schedule"] == today["ramp_schedule"])
        & (out["comp_plan"] == today["comp_plan"])
    )
    return out


def target_grid(target: float, low: float = 0.7, high: float = 1.3, steps: int = 13) -> list[float]:
    """Targets from ``low`` to ``high`` times today's, today's included exactly."""
    factors = sorted(set(np.round(np.linspace(low, high, steps), 6).tolist()) | {1.0})
    return [target * f for f in factors]
