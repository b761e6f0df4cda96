"""The activity model: per-rep Monte Carlo forecasts of activity counts in a future quarter (quota type
``activities``), as :class:`~analysis.draws.ForecastDraws` like the pipeline model's."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from analysis.calendar import period_bounds, resolve_period
from analysis.data import Dataset
from analysis.draws import ForecastDraws


class ActivityForecaster(BaseEstimator):
    """Per-rep Monte Carlo forecast of activity counts in a future quarter (quota type ``activities``).

    Each active rep's daily rate is learned from the last ``window_days`` (gamma-Poisson, shrunk to the team's
    rate with a prior worth ``prior_days`` days — by default estimated from how much reps' rates really differ,
    empirical Bayes — so a new hire starts at the team's pace); the quarter total is
    negative binomial around rate × days, its over-dispersion from the rep's weekly counts (a quarter's shape is
    the weekly shape times the weeks in it), with the rate's own uncertainty and a shared quarter shock.
    """

    def __init__(self, draws: int = 2000, seed: int = 0, window_days: int = 182, prior_days: float | None = None, shock_sd: float = 0.05):
        self.draws = draws
        self.seed = seed
        self.window_days = window_days
        self.prior_days = prior_days
        self.shock_sd = shock_sd

    def fit(self, ds: Dataset) -> ActivityForecaster:
        if "activities" not in ds.tables or ds.activities.empty:
            raise ValueError("quota type 'activities' needs the optional table `activities` (rep_id, date, type, count); there is none")
        as_of = ds.as_of_date
        self.as_of_, self.fiscal_year_start_ = as_of, ds.fiscal_year_start
        start = as_of - pd.Timedelta(days=self.window_days)
        acts = ds.activities[ds.activities["date"] > start]
        reps = ds.active_reps()[["rep_id", "team", "hire_date"]].copy()
        reps["team"] = reps["team"].fillna("unassigned")
        since = reps["hire_date"].where(reps["hire_date"] > start, start).fillna(start)
        reps["days"] = (as_of - since).dt.days.clip(lower=0).to_numpy(dtype=float)
        reps["n"] = reps["rep_id"].map(acts.groupby("rep_id")["count"].sum()).fillna(0.0).to_numpy(dtype=float)
        team = reps.groupby("team")[["n", "days"]].sum()
        overall = reps["n"].sum() / reps["days"].sum() if reps["days"].sum() > 0 else 0.0
        reps["prior_rate"] = reps["team"].map(team["n"] / team["days"].where(team["days"] > 0)).fillna(overall).to_numpy(dtype=float)
        if self.prior_days is None:  # gamma prior's rate = mean / between-rep variance (Poisson noise taken out)
            seen = reps[reps["days"] >= 30]
            r = seen["n"] / seen["days"]
            between = float(r.var() - (r / seen["days"]).mean()) if len(seen) > 2 else 0.0
            self.prior_days_ = float(np.clip(overall / between, 0.0, 90.0)) if between > 0 else 90.0
        else:
            self.prior_days_ = float(self.prior_days)
        # Weekly over-dispersion per rep (method of moments), pooled to the median where a rep has too few weeks.
        week = acts.assign(week=acts["date"].dt.to_period("W")).groupby(["rep_id", "week"])["count"].sum()
        stats_ = week.groupby(level="rep_id").agg(["mean", "var", "size"])
        k = stats_["mean"] ** 2 / (stats_["var"] - stats_["mean"]).where(stats_["var"] > stats_["mean"])
        k = k.where(stats_["size"] >= 8)
        k_all = float(k.median()) if k.notna().any() else np.inf
        reps["k_week"] = reps["rep_id"].map(k).fillna(k_all).to_numpy(dtype=float)
        self.reps_ = reps.reset_index(drop=True)
        return self

    def predict(self, period: str = "next") -> ForecastDraws:
        period = resolve_period(period, today=self.as_of_, fiscal_year_start=self.fiscal_year_start_)
        p_start, p_end = period_bounds(period, self.fiscal_year_start_)
        days = float((p_end - p_start).days + 1)
        r = self.reps_
        rng = np.random.default_rng(self.seed)
        shape = r["n"].to_numpy() + r["prior_rate"].to_numpy() * self.prior_days_
        rate = rng.gamma(shape[:, None] + 1e-12, 1.0 / (r["days"].to_numpy()[:, None] + self.prior_days_), size=(len(r), self.draws))
        mu = rate * days
        if self.shock_sd > 0:
            mu = mu * np.exp(self.shock_sd * rng.standard_normal(self.draws) - self.shock_sd**2 / 2)[None, :]
        k = r["k_week"].to_numpy()[:, None] * days / 7.0
        finite = np.isfinite(k) & (mu > 0)
        out = np.where(mu > 0, rng.poisson(np.where(finite, 0.0, mu)), 0.0).astype(float)
        if finite.any():
            kk = np.broadcast_to(k, mu.shape)[finite]
            out[finite] = rng.negative_binomial(kk, kk / (kk + mu[finite]))
        cells = pd.DataFrame(
            {"rep_id": r["rep_id"].to_numpy(dtype=object), "team": r["team"].to_numpy(dtype=object), "segment": "all", "active": True}
        )
        order = cells.sort_values(["team", "rep_id"]).index.to_numpy()
        return ForecastDraws(period=period, cells=cells.loc[order].reset_index(drop=True), draws=out[order])
