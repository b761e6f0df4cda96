"""Forecast draws judged against true draws (a simulated world's, :mod:`analysis.worlds`): the median's error,
the 80 % range's coverage, the continuous ranked probability score and the probability integral transform.

Both sides are samples. For one group with forecast draws X and true draws Y: coverage is the share of Y inside
X's 10th–90th percentiles; CRPS is E|X − y| − ½ E|X − X'| averaged over y in Y (computed on sorted draws, exactly,
in O(n log n)); the PIT of y is the share of X below y (ties split at random), which is uniform when the forecast
is the truth.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def crps(forecast: np.ndarray, truth: np.ndarray) -> float:
    """Mean CRPS of the forecast sample against each value of the true sample."""
    x = np.sort(np.asarray(forecast, dtype=float))
    y = np.asarray(truth, dtype=float)
    n = len(x)
    s = np.r_[0.0, np.cumsum(x)]
    k = np.searchsorted(x, y)
    e_xy = (k * y - s[k] + (s[n] - s[k]) - (n - k) * y) / n
    e_xx = 2.0 * np.sum((2 * np.arange(1, n + 1) - n - 1) * x) / n**2
    return float(np.mean(e_xy) - 0.5 * e_xx)


def pit(forecast: np.ndarray, truth: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """F(y) for each true value y under the forecast sample, ties split uniformly at random."""
    x = np.sort(np.asarray(forecast, dtype=float))
    y = np.asarray(truth, dtype=float)
    below = np.searchsorted(x, y, side="left")
    upto = np.searchsorted(x, y, side="right")
    return (below + rng.random(len(y)) * (upto - below)) / len(x)


def judge(forecast: pd.DataFrame, truth: pd.DataFrame, level: str, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Per group (the rows both frames share; columns are draws): ``level``, ``group``, forecast ``mean``/``p10``/
    ``p50``/``p90``, ``true_mean``/``true_p50``, ``coverage_80``, ``crps``; and the PIT values of every true draw."""
    rng = np.random.default_rng(seed)
    groups = forecast.index.intersection(truth.index)
    rows, pits = [], []
    for g in groups:
        x, y = forecast.loc[g].to_numpy(dtype=float), truth.loc[g].to_numpy(dtype=float)
        p10, p50, p90 = np.quantile(x, [0.1, 0.5, 0.9])
        rows.append(
            {
                "level": level,
                "group": str(g),
                "mean": x.mean(),
                "p10": p10,
                "p50": p50,
                "p90": p90,
                "true_mean": y.mean(),
                "true_p50": float(np.median(y)),
                "coverage_80": float(((y >= p10) & (y <= p90)).mean()),
                "crps": crps(x, y),
            }
        )
        pits.append(pit(x, y, rng))
    return pd.DataFrame(rows), (np.concatenate(pits) if pits else np.array([]))
