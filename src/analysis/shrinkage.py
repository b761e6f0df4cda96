"""Empirical-Bayes shrinkage for small samples (docs/methods.md §2.7): per-rep rates and deal sizes.

A rep with 0 wins in 3 deals does not have a 0 % win rate; their estimate moves towards the team-wide
distribution, the more so the fewer deals they have.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, special, stats


def _distinct(*columns: np.ndarray) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """The distinct rows of the columns (as (x, n) pairs), and each entry's place among them. Each column is
    coded by hashing and the codes combined column by column (``np.unique(axis=0)`` sorts rows as records, ten
    times slower); the callers only read values through the places, so the rows' order does not matter."""
    columns = tuple(np.asarray(c, dtype=float) for c in columns)
    if not len(columns[0]) or any(np.isnan(c).any() for c in columns):
        rows, inv = np.unique(np.column_stack(columns), axis=0, return_inverse=True)
        return tuple(rows[:, i] for i in range(len(columns))), inv.reshape(-1)
    inv, first = np.zeros(len(columns[0]), dtype=np.int64), np.zeros(1, dtype=np.int64)
    for col in columns:
        codes, uniques = pd.factorize(col)
        _, first, inv = np.unique(inv * len(uniques) + codes, return_index=True, return_inverse=True)
    return tuple(c[first] for c in columns), inv.reshape(-1)


def fit_beta_prior(successes: np.ndarray, trials: np.ndarray) -> tuple[float, float]:
    """Beta(α, β) prior fitted to per-group successes / trials by maximising the beta-binomial likelihood.

    Groups with no trials carry no information and are ignored. With fewer than two informative groups, or
    no spread beyond binomial noise, the prior is the pooled rate with a large weight (complete pooling).
    """
    x = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    keep = n > 0
    x, n = x[keep], n[keep]
    pooled = (x.sum() + 0.5) / (n.sum() + 1.0)
    if len(n) < 2:
        return pooled * 1e4, (1 - pooled) * 1e4

    # stats.betabinom.logpmf(x, n, a, b), term for term as scipy computes it, with the part that does not depend on
    # (a, b) computed once and the rest once per distinct (successes, trials): the same numbers, summed in the same
    # order, at a fraction of the cost (the optimiser calls this a hundred times; reps share their tallies).
    k = np.floor(x)
    combiln = -np.log(n + 1) - special.betaln(n - k + 1, k + 1)
    (ku, nu), inv = _distinct(k, n)

    def nll(params: np.ndarray) -> float:
        a, b = np.exp(params)
        return -(combiln + special.betaln(ku + a, nu - ku + b)[inv] - special.betaln(a, b)).sum()

    # Start from the method of moments (rates' variance net of binomial noise).
    rates = x / n
    m = float(np.clip(rates.mean(), 1e-3, 1 - 1e-3))
    noise = np.mean(m * (1 - m) / n)
    excess = max(rates.var(ddof=1) - noise, 1e-4)
    conc = float(np.clip(m * (1 - m) / excess - 1, 0.5, 1e4))
    start = np.log([m * conc, (1 - m) * conc])
    res = optimize.minimize(nll, start, method="L-BFGS-B", bounds=[(-5, 10), (-5, 10)])
    a, b = np.exp(res.x)
    return float(a), float(b)


def shrink_rates(successes, trials, interval: float = 0.9, prior: tuple[float, float] | None = None) -> pd.DataFrame:
    """Posterior mean (x + α) / (n + α + β) and the equal-tailed Beta interval, per group.

    ``prior`` is one (α, β), or one per group (arrays: groups of several populations at once).
    Returns ``estimate``, ``lower``, ``upper``, ``alpha``, ``beta`` aligned with the inputs.
    """
    x = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    a, b = prior if prior is not None else fit_beta_prior(x, n)
    pa, pb = x + a, n - x + b
    tail = (1 - interval) / 2
    # The Beta quantiles once per distinct tally and prior: the same numbers, fewer calls.
    (xu, nu, au, bu), inv = _distinct(x, n, np.broadcast_to(a, x.shape), np.broadcast_to(b, x.shape))
    pau, pbu = xu + au, nu - xu + bu
    return pd.DataFrame(
        {
            "estimate": pa / (pa + pb),
            "lower": stats.beta.ppf(tail, pau, pbu)[inv],
            "upper": stats.beta.ppf(1 - tail, pau, pbu)[inv],
            "alpha": a,
            "beta": b,
        }
    )


def shrink_log_means(groups: pd.Series, values: pd.Series, interval: float = 0.9) -> pd.DataFrame:
    """Normal-normal shrinkage of each group's mean log value (deal size: log amount).

    ``μ̃_i = (n_i/σ² · ȳ_i + μ/τ²) / (n_i/σ² + 1/τ²)`` with σ² the pooled within-group variance, τ² the
    between-group variance net of sampling noise (method of moments) and μ the precision-weighted mean.
    Returns per group: ``group``, ``n``, ``raw_mean`` (arithmetic mean of the values), ``estimate``
    (lognormal mean ``exp(μ̃ + σ²/2)``), ``lower``, ``upper``, ``log_mean``, ``log_mean_shrunk``.
    """
    y = np.log(values.astype(float))
    frame = pd.DataFrame({"group": groups.to_numpy(), "y": y.to_numpy(), "v": values.to_numpy(dtype=float)})
    g = frame.groupby("group", sort=True)
    stats_ = pd.DataFrame(
        {"n": g["y"].size(), "ybar": g["y"].mean(), "ss": g["y"].var(ddof=1) * (g["y"].size() - 1), "raw_mean": g["v"].mean()}
    )
    dof = (stats_["n"] - 1).clip(lower=0).sum()
    sigma2 = float(stats_["ss"].fillna(0).sum() / dof) if dof > 0 else float(np.var(y)) or 1.0
    se2 = sigma2 / stats_["n"]
    if len(stats_) >= 2:
        w = 1 / se2
        mu0 = float((w * stats_["ybar"]).sum() / w.sum())
        tau2 = max(float(stats_["ybar"].var(ddof=1) - se2.mean()), 1e-6)
        w2 = 1 / (se2 + tau2)
        mu = float((w2 * stats_["ybar"]).sum() / w2.sum()) if np.isfinite(w2).all() else mu0
    else:
        mu, tau2 = float(stats_["ybar"].iloc[0]), 1e6
    prec = stats_["n"] / sigma2 + 1 / tau2
    post = (stats_["n"] / sigma2 * stats_["ybar"] + mu / tau2) / prec
    sd = np.sqrt(1 / prec)
    z = stats.norm.ppf(1 - (1 - interval) / 2)
    return pd.DataFrame(
        {
            "group": stats_.index,
            "n": stats_["n"].to_numpy(),
            "raw_mean": stats_["raw_mean"].to_numpy(),
            "estimate": np.exp(post + sigma2 / 2).to_numpy(),
            "lower": np.exp(post - z * sd + sigma2 / 2).to_numpy(),
            "upper": np.exp(post + z * sd + sigma2 / 2).to_numpy(),
            "log_mean": stats_["ybar"].to_numpy(),
            "log_mean_shrunk": post.to_numpy(),
        }
    ).reset_index(drop=True)


def shrink_ratios(observed, expected) -> pd.DataFrame:
    """Observed / expected counts per group (a rep's wins against what their deals' segments would give),
    shrunk towards 1 under a gamma-Poisson model: ``(O + k) / (E + k)``.

    The prior's variance v comes from the method of moments, Σ(O − E)²/E = n + v·ΣE, and k = 1/v; with no spread
    beyond Poisson noise, every ratio is 1 (complete pooling). Returns ``observed``, ``expected``, ``raw``,
    ``estimate`` and ``k`` aligned with the inputs.
    """
    o = np.asarray(observed, dtype=float)
    e = np.asarray(expected, dtype=float)
    seen = e > 0
    n = int(seen.sum())
    excess = float(((o[seen] - e[seen]) ** 2 / e[seen]).sum() - n) if n >= 2 else 0.0
    v = excess / float(e[seen].sum()) if excess > 0 else 0.0
    k = 1.0 / v if v > 0 else np.inf
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = np.where(seen, o / e, np.nan)
        est = np.where(np.isfinite(k), (o + k) / (e + k), 1.0)
    return pd.DataFrame({"observed": o, "expected": e, "raw": raw, "estimate": est, "k": k})
