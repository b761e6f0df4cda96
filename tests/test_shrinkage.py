"""Empirical-Bayes shrinkage (docs/methods.md check 8) and deal-size estimators (check 14)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.metrics import lognormal_mean
from analysis.shrinkage import fit_beta_prior, shrink_log_means, shrink_rates


def test_check8_beta_binomial_shrinkage():
    ratios = []
    for rep in range(200):
        rng = np.random.default_rng(rep)
        p = rng.beta(6, 14, 60)
        n = rng.integers(5, 101, 60)
        x = rng.binomial(n, p)
        sh = shrink_rates(x, n)
        raw = x / n
        ratios.append(np.mean((sh.estimate - p) ** 2) / np.mean((raw - p) ** 2))
        prior_mean = sh.alpha[0] / (sh.alpha[0] + sh.beta[0])
        lo, hi = np.minimum(raw, prior_mean), np.maximum(raw, prior_mean)
        assert ((sh.estimate >= lo - 1e-12) & (sh.estimate <= hi + 1e-12)).all()
        assert (sh.lower <= sh.estimate).all() and (sh.estimate <= sh.upper).all()
    assert np.mean(ratios) <= 0.6


def test_a_rep_with_no_wins_in_three_deals_is_not_zero():
    rng = np.random.default_rng(0)
    n = np.r_[3, rng.integers(5, 101, 59)]
    x = np.r_[0, rng.binomial(n[1:], rng.beta(6, 14, 59))]
    assert shrink_rates(x, n).estimate[0] > 0.15


def test_prior_with_too_little_information_pools():
    a, b = fit_beta_prior(np.array([3]), np.array([10]))
    assert a / (a + b) == pytest.approx(3.5 / 11) and a + b > 1000
    a, b = fit_beta_prior(np.array([0, 0]), np.array([0, 0]))
    assert a / (a + b) == pytest.approx(0.5)


def test_normal_normal_shrinkage_of_log_deal_size():
    errs_raw, errs_shrunk = [], []
    for seed in range(50):
        rng = np.random.default_rng(seed)
        mu = rng.normal(np.log(20_000), 0.3, 30)
        n = rng.integers(2, 40, 30)
        groups = np.repeat(np.arange(30), n).astype(str)
        values = np.exp(np.repeat(mu, n) + rng.normal(0, 1.0, n.sum()))
        s = shrink_log_means(pd.Series(groups), pd.Series(values)).set_index("group").loc[np.arange(30).astype(str)]
        errs_raw.append(np.mean((s.log_mean - mu) ** 2))
        errs_shrunk.append(np.mean((s.log_mean_shrunk - mu) ** 2))
        center = np.average(s.log_mean, weights=s.n)
        lo, hi = np.minimum(s.log_mean, center) - 0.2, np.maximum(s.log_mean, center) + 0.2
        assert ((s.log_mean_shrunk >= lo) & (s.log_mean_shrunk <= hi)).all()
    assert np.mean(errs_shrunk) < 0.7 * np.mean(errs_raw)


def test_check14_deal_size_estimators():
    rng = np.random.default_rng(14)
    true_mean = 20_000 * np.exp(1.2**2 / 2)
    assert true_mean == pytest.approx(41_089, abs=1)
    samples = rng.lognormal(np.log(20_000), 1.2, (2000, 40))
    medians = np.median(samples, axis=1)
    means = samples.mean(axis=1)
    mle = np.array([lognormal_mean(s) for s in samples])
    assert medians.mean() / true_mean - 1 == pytest.approx(-0.5, abs=0.05)
    assert abs(means.mean() / true_mean - 1) < 0.03
    rmse = lambda est: np.sqrt(np.mean((est - true_mean) ** 2))  # noqa: E731
    assert rmse(mle) <= rmse(means)


def test_ratio_shrinkage_recovers_a_known_spread_and_beats_the_raw_ratios():
    """Seeded truth: 300 reps whose true ratios are gamma(mean 1, variance 0.09), observed as Poisson counts."""
    from analysis.shrinkage import shrink_ratios

    rng = np.random.default_rng(4)
    truth = rng.gamma(1 / 0.09, 0.09, 300)
    expected = rng.uniform(2, 40, 300)
    observed = rng.poisson(truth * expected)
    r = shrink_ratios(observed, expected)
    assert 1 / r.k.iloc[0] == pytest.approx(0.09, rel=0.35)
    assert ((r.estimate - truth) ** 2).mean() < 0.8 * ((r.raw - truth) ** 2).mean()
    few = r.expected < 5  # small samples move most
    assert (np.abs(r.estimate - 1)[few] <= np.abs(r.raw - 1)[few] + 1e-12).all()
    # No spread beyond Poisson noise: everyone is average.
    flat = shrink_ratios(rng.poisson(np.full(200, 10.0)), np.full(200, 10.0))
    assert (flat.estimate == 1.0).all()


def test_distinct_rows_are_what_numpy_unique_gives():
    from analysis.shrinkage import _distinct

    rng = np.random.default_rng(4)
    x = rng.integers(0, 6, 3000).astype(float)
    n = x + rng.integers(0, 9, 3000)
    a = rng.choice([0.7, 1.3, 2.9], 3000)
    for columns in ((x, n), (x, n, a), (x, n, np.where(rng.random(3000) < 0.01, np.nan, a))):
        values, inv = _distinct(*columns)
        want = np.unique(np.column_stack(columns), axis=0)
        assert len(values[0]) == len(want)  # as many distinct rows
        for col, got in zip(columns, values, strict=True):  # and each entry finds its own row among them
            assert np.array_equal(got[inv], col, equal_nan=True)


def test_one_prior_per_group_gives_what_each_population_alone_gives():
    rng = np.random.default_rng(5)
    n = rng.integers(1, 30, 400).astype(float)
    x = rng.binomial(n.astype(int), 0.3).astype(float)
    population = rng.integers(0, 4, 400)
    priors = {p: fit_beta_prior(x[population == p], n[population == p]) for p in range(4)}
    a = np.array([priors[p][0] for p in population])
    b = np.array([priors[p][1] for p in population])
    together = shrink_rates(x, n, 0.8, prior=(a, b))
    for p in range(4):
        alone = shrink_rates(x[population == p], n[population == p], 0.8, prior=priors[p])
        for col in ("estimate", "lower", "upper"):
            assert np.array_equal(together[col].to_numpy()[population == p], alone[col].to_numpy())
