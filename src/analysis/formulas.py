"""The metrics' closed-form formulas: the Wilson interval, CAC payback, lifetime value, required coverage,
expected attainment and the lognormal mean (docs/metrics.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint


def wilson(successes, trials, interval: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a proportion; NaN where there are no trials."""
    x = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    lo, hi = np.full(len(x), np.nan), np.full(len(x), np.nan)
    ok = n > 0
    if ok.any():
        lo[ok], hi[ok] = proportion_confint(x[ok], n[ok], alpha=1 - interval, method="wilson")
    return lo, hi


def cac_payback_months(cac: float, revenue_per_customer: float, gross_margin: float) -> float:
    """Months of gross-margin revenue to repay the cost of acquiring a customer: CAC / (MRR × GM)."""
    return cac / (revenue_per_customer * gross_margin)


def ltv(revenue_per_customer: float, gross_margin: float, monthly_churn: float, max_months: float = 60) -> float:
    """Lifetime gross margin of a customer: ARPA × GM / churn, the lifetime capped at ``max_months``."""
    lifetime = min(1.0 / monthly_churn, max_months) if monthly_churn > 0 else max_months
    return revenue_per_customer * gross_margin * lifetime


def required_coverage(p_within: float) -> float:
    """Coverage needed to expect to hit the target: 1 / p_q (docs/methods.md §2.5, check 11)."""
    return np.inf if p_within <= 0 else 1.0 / p_within


def expected_attainment(pipeline: float, p_within: float, target: float) -> float:
    """Expected share of the target won from the open pipeline: pipeline × p_q / target."""
    return pipeline * p_within / target


def lognormal_mean(values: np.ndarray | pd.Series) -> float:
    """Mean of a lognormal fitted by maximum likelihood, exp(μ̂ + σ̂²/2) (docs/methods.md check 14)."""
    y = np.log(np.asarray(values, dtype=float))
    return float(np.exp(y.mean() + y.var() / 2))
