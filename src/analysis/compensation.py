"""Compensation plans: what a quota plan pays, under uncertainty (docs/compensation.md).

A plan is a small YAML file (:func:`load_plan`): on-target earnings split into base and variable, a commission
rate on bookings (a fixed share, or ``on_target``: the rate that pays the on-target variable at 100 % of quota), tiers by
attainment (decelerators below quota, accelerators above), an optional cap, milestone bonuses and a ramp
guarantee for new hires. :func:`payout` is exact and vectorised, so it runs on every Monte Carlo draw; the
summaries turn the draws into each rep's expected pay and the company's cost of sales, with intervals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from analysis.calendar import DAYS_PER_MONTH
from analysis.config import PLANS_DIR
from analysis.draws import wide_draws

QUOTA_RATE = "on_target"  # the rate that pays exactly the on-target variable at 100 % attainment, tiers included


class PlanError(ValueError):
    """A compensation plan file that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class Tier:
    start: float  # attainment where the tier begins (0.5 = 50 % of quota)
    multiplier: float  # times the base rate, for the bookings inside the tier


@dataclass(frozen=True)
class CompPlan:
    """One compensation plan, amounts per quarter. ``rate``: a share of bookings, or :data:`QUOTA_RATE`."""

    name: str
    on_target_earnings: float
    base: float
    rate: float | str = QUOTA_RATE
    tiers: tuple[Tier, ...] = (Tier(0.0, 1.0),)
    cap: float | None = None  # payout cap as a multiple of the on-target variable
    bonuses: tuple[tuple[float, float], ...] = ()  # (attainment reached, amount)
    guarantee_quarters: int = 0  # new hires' first quarters of tenure with a guaranteed minimum
    guarantee_share: float = 0.0  # that minimum, as a share of the on-target variable
    source: str = "plan"

    @property
    def variable(self) -> float:
        """On-target variable pay per quarter: on-target earnings − base."""
        return self.on_target_earnings - self.base

    @property
    def weight_to_quota(self) -> float:
        """∫₀¹ multiplier(a) da: the tiers' average multiplier up to 100 % of quota. With the ``on_target`` rate,
        rate = variable / (quota × this), so commission at exactly 100 % is the on-target variable."""
        starts = [t.start for t in self.tiers] + [np.inf]
        return float(sum(t.multiplier * max(0.0, min(end, 1.0) - t.start) for t, end in zip(self.tiers, starts[1:], strict=True)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "period": "quarter",
            "on_target_earnings": self.on_target_earnings,
            "base": self.base,
            "commission": {"rate": self.rate, "tiers": [{"from": t.start, "multiplier": t.multiplier} for t in self.tiers]},
            "cap": self.cap,
            "bonuses": [{"at": a, "amount": b} for a, b in self.bonuses],
            "ramp_guarantee": {"quarters": self.guarantee_quarters, "share": self.guarantee_share},
        }


_KEYS = {"name", "period", "on_target_earnings", "base", "commission", "cap", "bonuses", "ramp_guarantee", "description", "currency"}


def _number(value: Any, where: str, origin: str, low: float | None = None, high: float | None = None, strict_low: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PlanError(f"{origin}: field `{where}` must be a number, got {value!r}")
    v = float(value)
    if low is not None and (v < low or (strict_low and v == low)):
        raise PlanError(f"{origin}: field `{where}` must be {'>' if strict_low else '>='} {low:g}, got {v:g}")
    if high is not None and v > high:
        raise PlanError(f"{origin}: field `{where}` must be <= {high:g}, got {v:g}")
    return v


def plan_from_dict(raw: dict[str, Any], origin: str = "plan") -> CompPlan:
    """Check a plan's fields and build it; every problem names the field (``commission.tiers[1].from``)."""
    if not isinstance(raw, dict):
        raise PlanError(f"{origin}: expected a mapping of field: value, got {type(raw).__name__}")
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise PlanError(f"{origin}: unknown field(s) {unknown}; known fields are {sorted(_KEYS)}")
    for key in ("name", "on_target_earnings", "base"):
        if key not in raw:
            raise PlanError(f"{origin}: field `{key}` is required")
    period = raw.get("period", "quarter")
    if period not in {"quarter", "year"}:
        raise PlanError(f"{origin}: field `period` must be quarter or year (the unit of the amounts), got {period!r}")
    per = 4.0 if period == "year" else 1.0
    ote = _number(raw["on_target_earnings"], "on_target_earnings", origin, 0, strict_low=True) / per
    base = _number(raw["base"], "base", origin, 0) / per
    if base >= ote:
        raise PlanError(
            f"{origin}: field `base` ({base * per:g}) must be below `on_target_earnings` ({ote * per:g}): no variable pay is left"
        )
    commission = raw.get("commission") or {}
    if not isinstance(commission, dict):
        raise PlanError(f"{origin}: field `commission` must be a mapping with `rate` and `tiers`")
    unknown = sorted(set(commission) - {"rate", "tiers"})
    if unknown:
        raise PlanError(f"{origin}: unknown field(s) {['commission.' + k for k in unknown]}")
    rate = commission.get("rate", QUOTA_RATE)
    if rate != QUOTA_RATE:
        rate = _number(rate, "commission.rate", origin, 0, 1, strict_low=True)
    tiers_raw = commission.get("tiers") or [{"from": 0.0, "multiplier": 1.0}]
    if not isinstance(tiers_raw, list):
        raise PlanError(f"{origin}: field `commission.tiers` must be a list of {{from, multiplier}}")
    tiers = []
    for i, t in enumerate(tiers_raw):
        if not isinstance(t, dict) or set(t) - {"from", "multiplier"} or "from" not in t or "multiplier" not in t:
            raise PlanError(f"{origin}: field `commission.tiers[{i}]` must have exactly `from` (attainment) and `multiplier`, got {t!r}")
        tiers.append(
            Tier(
                _number(t["from"], f"commission.tiers[{i}].from", origin, 0),
                _number(t["multiplier"], f"commission.tiers[{i}].multiplier", origin, 0),
            )
        )
    if tiers[0].start != 0:
        raise PlanError(
            f"{origin}: field `commission.tiers[0].from` must be 0 (the first tier starts at no bookings), got {tiers[0].start:g}"
        )
    for i in range(1, len(tiers)):
        if tiers[i].start <= tiers[i - 1].start:
            raise PlanError(
                f"{origin}: field `commission.tiers[{i}].from` must be above the tier before it ({tiers[i - 1].start:g}), got {tiers[i].start:g}"
            )
    if rate == QUOTA_RATE and sum(t.multiplier for t in tiers if t.start < 1) == 0:
        raise PlanError(f"{origin}: field `commission.rate` is on_target but no tier below 100 % of quota pays: set a fixed rate instead")
    cap = raw.get("cap")
    cap = None if cap is None else _number(cap, "cap", origin, 0, strict_low=True)
    bonuses = []
    for i, b in enumerate(raw.get("bonuses") or []):
        if not isinstance(b, dict) or set(b) != {"at", "amount"}:
            raise PlanError(f"{origin}: field `bonuses[{i}]` must have exactly `at` (attainment) and `amount`, got {b!r}")
        bonuses.append(
            (
                _number(b["at"], f"bonuses[{i}].at", origin, 0, strict_low=True),
                _number(b["amount"], f"bonuses[{i}].amount", origin, 0) / per,
            )
        )
    ramp = raw.get("ramp_guarantee") or {}
    if not isinstance(ramp, dict) or set(ramp) - {"quarters", "share"}:
        raise PlanError(f"{origin}: field `ramp_guarantee` must be a mapping with `quarters` and `share`, got {ramp!r}")
    quarters = ramp.get("quarters", 0)
    if isinstance(quarters, bool) or not isinstance(quarters, int) or quarters < 0:
        raise PlanError(f"{origin}: field `ramp_guarantee.quarters` must be a whole number >= 0, got {quarters!r}")
    share = _number(ramp.get("share", 0.0), "ramp_guarantee.share", origin, 0, 1)
    return CompPlan(
        name=str(raw["name"]),
        on_target_earnings=ote,
        base=base,
        rate=rate,
        tiers=tuple(tiers),
        cap=cap,
        bonuses=tuple(sorted(bonuses)),
        guarantee_quarters=quarters,
        guarantee_share=share,
        source=origin,
    )


def load_plan(path: str | Path) -> CompPlan:
    """Read a plan from YAML (see docs/compensation.md); a bad file raises :class:`PlanError` naming the field."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise PlanError(f"{path}: cannot read the plan: {err}") from None
    return plan_from_dict(raw, origin=str(path))


def bundled_plans() -> list[str]:
    """Names of the compensation plans that ship with the package (``src/analysis/plans/*.yaml``)."""

    return sorted(p.stem for p in PLANS_DIR.glob("*.yaml"))


def resolve_plan(name_or_path: str | Path) -> CompPlan:
    """A bundled plan by name (``standard``, ``flat-rate``, ``enterprise``) or a YAML file by path."""

    text = str(name_or_path)
    if text in bundled_plans():
        return load_plan(PLANS_DIR / f"{text}.yaml")
    path = Path(text)
    if not path.is_file():
        raise PlanError(f"compensation plan {text!r} is neither a bundled plan ({', '.join(bundled_plans())}) nor a file")
    return load_plan(path)


def payout(plan: CompPlan, quota, bookings, tenure_quarters=None, active=None) -> np.ndarray:
    """Variable pay for the quarter, per rep (and per draw when ``bookings`` is reps × draws).

    commission = Σ_tiers base rate × multiplier × the bookings that fall inside the tier (tiers are by attainment,
    marginal like tax brackets); + each milestone bonus whose attainment is reached; then the cap
    (cap × on-target variable), then the ramp guarantee (at least share × on-target variable for reps in their
    first ``guarantee_quarters`` quarters of tenure). A zero quota has no attainment: bookings are paid at the
    plain rate (multiplier 1) when the rate is fixed and nothing when it is on_target, with no bonus. A rep
    who is not ``active`` is paid nothing.
    """
    b = np.asarray(bookings, dtype=float)
    q = np.asarray(quota, dtype=float)
    if b.ndim == 2 and q.ndim == 1:
        q = q[:, None]  # one quota per rep, broadcast over the draws (never copied to the draws' shape)
    has_quota = q > 0
    safe_q = np.where(has_quota, q, 1.0)
    rate = (plan.variable / (safe_q * plan.weight_to_quota)) if plan.rate == QUOTA_RATE else float(plan.rate)
    starts = [t.start for t in plan.tiers] + [np.inf]
    commission = np.zeros(np.broadcast_shapes(b.shape, q.shape))
    part = np.empty_like(commission)
    for tier, end in zip(plan.tiers, starts[1:], strict=True):
        if tier.multiplier == 0:
            continue
        np.subtract(b, tier.start * safe_q, out=part)
        np.maximum(part, 0.0, out=part)
        if np.isfinite(end):
            np.minimum(part, (end - tier.start) * safe_q, out=part)
        commission += tier.multiplier * part
    commission *= rate
    for at, amount in plan.bonuses:
        commission += amount * (b >= at * safe_q)
    if plan.rate != QUOTA_RATE:
        pay = np.where(has_quota, commission, b * float(plan.rate))
    else:
        pay = np.where(has_quota, commission, 0.0)
    if plan.cap is not None:
        pay = np.minimum(pay, plan.cap * plan.variable)
    if tenure_quarters is not None and plan.guarantee_quarters > 0:
        k = np.asarray(tenure_quarters, dtype=float)
        new = np.nan_to_num(k, nan=np.inf) < plan.guarantee_quarters
        new = new[:, None] if (b.ndim == 2 and new.ndim == 1) else new
        pay = np.where(new, np.maximum(pay, plan.guarantee_share * plan.variable), pay)
    if active is not None:
        live = np.asarray(active, dtype=bool)
        live = live[:, None] if (b.ndim == 2 and live.ndim == 1) else live
        pay = np.where(live, pay, 0.0)
    return pay


# ------------------------------------------------------------------------------------------------
# What a quota plan pays, by quota method
# ------------------------------------------------------------------------------------------------
METHOD_COLUMNS = {
    "equal chance": "quota",
    "budget ÷ active reps": "quota_budget_per_rep",
    "last year + growth": "quota_last_year_plus_growth",
}
COMP_COLUMNS = [
    "method",
    "level",
    "rep_id",
    "quota",
    "expected_bookings",
    "expected_payout",
    "payout_p10",
    "payout_p90",
    "p_reach_on_target_variable",
    "cost_of_sales",
    "cost_of_sales_p10",
    "cost_of_sales_p90",
    "reps",
]


@dataclass
class PayoutSummary:
    """Company headline of one quota method (see :func:`summarise`)."""

    expected_payout: float
    payout_p10: float
    payout_p90: float
    expected_bookings: float
    cost_of_sales: float
    cost_of_sales_p10: float
    cost_of_sales_p90: float
    share_reaching_on_target_variable: float
    reps: int
    per_rep: pd.DataFrame = field(default_factory=pd.DataFrame)


def summarise(
    plan: CompPlan, quotas: np.ndarray, draws: np.ndarray, tenure_quarters=None, rep_ids=None, per_rep: bool = True
) -> PayoutSummary:
    """Payout over the draws (reps × draws) for one set of quotas: each rep's expected payout with p10/p90 and
    chance of earning at least the on-target variable; the company's expected variable cost with p10/p90, and
    cost of sales = E[Σ variable pay] / E[Σ bookings] with the p10/p90 of the per-draw ratio. ``per_rep=False``
    skips the per-rep table (the what-if sweep needs only the company numbers)."""
    pay = payout(plan, quotas, draws, tenure_quarters=tenure_quarters)
    total_pay, total_book = pay.sum(axis=0), draws.sum(axis=0)
    ratio = np.divide(total_pay, total_book, out=np.full(total_pay.shape, np.nan), where=total_book > 0)
    reach = (pay >= plan.variable - 1e-9).mean(axis=1)
    table = pd.DataFrame()
    if per_rep:
        p10, p90 = np.quantile(pay, [0.1, 0.9], axis=1) if len(pay) else (np.array([]), np.array([]))
        table = pd.DataFrame(
            {
                "rep_id": rep_ids if rep_ids is not None else np.arange(len(quotas)),
                "quota": quotas,
                "expected_bookings": draws.mean(axis=1),
                "expected_payout": pay.mean(axis=1),
                "payout_p10": p10,
                "payout_p90": p90,
                "p_reach_on_target_variable": reach,
            }
        )
    book = float(total_book.mean())
    return PayoutSummary(
        expected_payout=float(total_pay.mean()),
        payout_p10=float(np.quantile(total_pay, 0.1)),
        payout_p90=float(np.quantile(total_pay, 0.9)),
        expected_bookings=book,
        cost_of_sales=float(total_pay.mean() / book) if book > 0 else np.nan,
        cost_of_sales_p10=float(np.nanquantile(ratio, 0.1)) if np.isfinite(ratio).any() else np.nan,
        cost_of_sales_p90=float(np.nanquantile(ratio, 0.9)) if np.isfinite(ratio).any() else np.nan,
        share_reaching_on_target_variable=float(reach.mean()) if len(reach) else np.nan,
        reps=len(quotas),
        per_rep=table,
    )


def compensation_table(
    plan: CompPlan, quotas: pd.DataFrame, rep_draws: pd.DataFrame, tenure_quarters: pd.Series | None = None
) -> pd.DataFrame:
    """``compensation.csv``: for each quota method in ``quotas`` (a quota plan's table), one company row and one
    row per rep: ``method``, ``level``, ``rep_id``, ``quota``, ``expected_bookings``, ``expected_payout``,
    ``payout_p10``, ``payout_p90``, ``p_reach_on_target_variable`` (rep: chance; company: expected share of reps),
    ``cost_of_sales`` (+ ``_p10``, ``_p90``; company), ``reps``. Reps without a quota under a method (no sales
    last year for last year + growth) are left out of that method, and counted in ``reps``."""

    wide = wide_draws(rep_draws)
    q = quotas.set_index("rep_id")
    ids = q.index.intersection(wide.index)
    m = wide.loc[ids].to_numpy(dtype=float)
    tenure = tenure_quarters.reindex(ids).to_numpy(dtype=float) if tenure_quarters is not None else None
    parts = []
    for method, column in METHOD_COLUMNS.items():
        if column not in q:
            continue
        values = q.loc[ids, column].to_numpy(dtype=float)
        ok = ~np.isnan(values)
        if not ok.any():
            continue
        s = summarise(plan, values[ok], m[ok], tenure[ok] if tenure is not None else None, rep_ids=ids[ok].astype(str))
        company = {
            "method": method,
            "level": "company",
            "rep_id": "all",
            "quota": float(values[ok].sum()),
            "expected_bookings": s.expected_bookings,
            "expected_payout": s.expected_payout,
            "payout_p10": s.payout_p10,
            "payout_p90": s.payout_p90,
            "p_reach_on_target_variable": s.share_reaching_on_target_variable,
            "cost_of_sales": s.cost_of_sales,
            "cost_of_sales_p10": s.cost_of_sales_p10,
            "cost_of_sales_p90": s.cost_of_sales_p90,
            "reps": s.reps,
        }
        parts += [pd.DataFrame([company]), s.per_rep.assign(method=method, level="rep", reps=1)]
    return pd.concat(parts, ignore_index=True)[COMP_COLUMNS] if parts else pd.DataFrame(columns=COMP_COLUMNS)


def plan_costs(pay_plan: CompPlan, quota_plan, rep_draws: pd.DataFrame, reps: pd.DataFrame, period_start: pd.Timestamp) -> pd.DataFrame:
    """:func:`compensation_table` for a quota plan (``quota.QuotaPlan``); empty (with the columns) unless its quotas
    are in bookings, the unit commission is paid on."""
    if quota_plan.quota_type != "bookings":
        return pd.DataFrame(columns=COMP_COLUMNS)
    return compensation_table(pay_plan, quota_plan.quotas, rep_draws, tenure_quarters(reps, period_start))


def tenure_quarters(reps: pd.DataFrame, period_start: pd.Timestamp) -> pd.Series:
    """Completed quarters of tenure at ``period_start`` by rep_id (NaN without a hire date: long-tenured)."""
    months = (period_start - reps["hire_date"]).dt.days / DAYS_PER_MONTH
    return pd.Series(np.floor(months.to_numpy(dtype=float) / 3), index=reps["rep_id"].to_numpy())
