"""Bookings forecasts as distributions: the pipeline model by Monte Carlo, per rep (METHODS §3.1).

:class:`PipelineForecaster` learns from one as-of snapshot only (``fit(ds.as_of(date))``), so nothing it
predicts can see the future. For a future fiscal quarter it simulates, per rep and draw:

- every deal open at the as-of date: won inside the quarter with probability
  π = [F_won(a + g + h) − F_won(a + g)] / S(a) (a: age, g: days until the quarter starts, h: its length),
  from the Aalen–Johansen curve of the deal's segment; amount as entered (segment mean when missing);
- deals not yet created: won-inside-the-quarter counts are Poisson (thinning of the rep's creation rate by
  the chance a deal created on day t is won by the quarter's end), amounts lognormal with the rep's shrunk
  log-mean; the creation rate is shrunk to the team's (gamma-Poisson) and scaled by the ramp for new hires;
- one shared lognormal shock per draw, so reps' outcomes are correlated as real quarters are.

Team, segment and company totals are sums of the same draws, so the levels are coherent by construction.
Reps who have left get no forecast; their open deals still count for their team and the company.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.calendar import period_bounds, resolve_period
from analysis.data import Dataset
from analysis.shrinkage import shrink_log_means
from analysis.survival import cif_at, cumulative_incidence, deal_times, win_probability_between

LEFT = "(left)"
#: What a draw adds up: the amount won (bookings), won deals counted, or their gross margin.
MEASURES = ("amount", "count", "margin")
FORECAST_COLUMNS = ["level", "group", "period", "mean", "p10", "p50", "p90", "method"]


def simulate_open_deals(pi: np.ndarray, amount: np.ndarray, cell: np.ndarray, n_cells: int, draws: int, rng: np.random.Generator) -> np.ndarray:
    """Σ Bernoulli(π_i) · a_i per cell and draw (cells × draws), in chunks so memory stays bounded."""
    out = np.zeros((n_cells, draws))
    chunk = max(1, 4_000_000 // draws)
    for lo in range(0, len(pi), chunk):
        hi = min(lo + chunk, len(pi))
        hit = rng.random((hi - lo, draws)) < pi[lo:hi, None]
        np.add.at(out, cell[lo:hi], hit * amount[lo:hi, None])
    return out


def _calibration_features(pi, age) -> np.ndarray:
    p = np.clip(np.asarray(pi, dtype=float), 1e-4, 1 - 1e-4)
    return np.column_stack([np.log(p / (1 - p)), np.log1p(np.maximum(np.asarray(age, dtype=float), 0.0))])


def ramp_factor(tenure_months: np.ndarray, schedule: tuple[float, ...]) -> np.ndarray:
    """Share of full productivity by completed quarters of tenure (``schedule[k]`` in quarter k; then 1)."""
    tenure = np.asarray(tenure_months, dtype=float)
    k = np.floor(np.nan_to_num(tenure, nan=1e9) / 3).clip(0, len(schedule)).astype(int)  # no hire date: ramped
    values = np.r_[np.asarray(schedule, dtype=float), 1.0]
    return values[k]


def wide_draws(rep_draws: pd.DataFrame) -> pd.DataFrame:
    """A long draws table (``rep_id``, ``draw`` and one value column, as :meth:`ForecastDraws.rep_draws` or
    ``rep_draws.parquet``) as reps × draws, reps sorted."""
    value = next(c for c in rep_draws.columns if c not in {"rep_id", "draw"})
    return rep_draws.pivot(index="rep_id", columns="draw", values=value).sort_index()


@dataclass
class ForecastDraws:
    """Simulated bookings of one period: ``draws`` (cells × draws) with ``cells`` (rep_id, team, segment,
    active) saying whose each row is."""

    period: str
    cells: pd.DataFrame
    draws: np.ndarray

    def by(self, level: str) -> tuple[pd.Index, np.ndarray]:
        """Draws summed to ``level`` (company, team, segment, rep): the groups and a groups × draws matrix."""
        if level == "company":
            return pd.Index(["all"]), self.draws.sum(axis=0, keepdims=True)
        col = {"team": "team", "segment": "segment", "rep": "rep_id"}[level]
        cells = self.cells if level != "rep" else self.cells[self.cells["active"]]
        rows = self.draws if level != "rep" else self.draws[self.cells["active"].to_numpy()]
        codes, groups = pd.factorize(cells[col], sort=True)
        out = np.zeros((len(groups), self.draws.shape[1]))
        np.add.at(out, codes, rows)
        return pd.Index(groups), out

    def rep_draws(self) -> pd.DataFrame:
        """Long table ``rep_id``, ``draw``, ``bookings`` for the quota step (active reps only)."""
        groups, m = self.by("rep")
        return pd.DataFrame({"rep_id": np.repeat(groups.to_numpy(), m.shape[1]), "draw": np.tile(np.arange(m.shape[1]), len(groups)), "bookings": m.ravel()})

    def table(self, levels=("company", "team", "segment", "rep"), method: str = "pipeline") -> pd.DataFrame:
        """``level``, ``group``, ``period``, ``mean``, ``p10``, ``p50``, ``p90``, ``method``."""
        parts = []
        for level in levels:
            groups, m = self.by(level)
            q = np.quantile(m, [0.1, 0.5, 0.9], axis=1)
            parts.append(pd.DataFrame({"level": level, "group": groups.astype(str), "period": self.period, "mean": m.mean(axis=1), "p10": q[0], "p50": q[1], "p90": q[2], "method": method}))
        return pd.concat(parts, ignore_index=True)[FORECAST_COLUMNS]


class PipelineForecaster:
    """Per-rep Monte Carlo forecast of bookings from the open pipeline and the deals not yet created.

    Settings only here; ``fit`` learns from a dataset (a snapshot), ``predict`` simulates a period.
    """

    def __init__(self, draws: int = 2000, seed: int = 0, window_days: int = 730, rate_days: int = 365,
                 ramp_schedule: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0), shock_sd: float = 0.10, min_at_risk: int = 50,
                 measure: str = "amount", recalibrate: int = 0):
        if measure not in MEASURES:
            raise ValueError(f"measure must be one of {MEASURES}, got {measure!r}")
        self.measure = measure
        self.recalibrate = recalibrate  # earlier quarters to learn a correction of the deal probabilities from (0: off)
        self.draws = draws
        self.seed = seed
        self.window_days = window_days
        self.rate_days = rate_days
        self.ramp_schedule = ramp_schedule
        self.shock_sd = shock_sd
        self.min_at_risk = min_at_risk

    def fit(self, ds: Dataset) -> PipelineForecaster:
        as_of = ds.as_of_date
        opps = ds.opportunities
        self.as_of_ = as_of
        self.fiscal_year_start_ = ds.fiscal_year_start
        window = opps[opps["created_date"] > as_of - pd.Timedelta(days=self.window_days)]
        t = deal_times(window, as_of)
        codes, segments = pd.factorize(window["segment"], sort=True)
        curves = cumulative_incidence(codes, t["time"].to_numpy(), t["event"].to_numpy())
        everyone = cumulative_incidence(np.zeros(len(window), int), t["time"].to_numpy(), t["event"].to_numpy())
        self.curves_ = {seg: curves[curves["gid"] == i].reset_index(drop=True) for i, seg in enumerate(segments)
                        if (codes == i).sum() >= self.min_at_risk}
        self.curve_all_ = everyone
        won = window[(window["status"] == "won") & (window["amount"] > 0)]
        logs = np.log(won["amount"])
        self.size_ = won.assign(y=logs).groupby("segment")["y"].agg(["mean", "std"]).fillna({"std": 0.0})
        self.size_all_ = (float(logs.mean()), float(logs.std())) if len(won) else (np.log(1.0), 0.0)
        if self.measure == "margin":
            priced = window[(window["status"] == "won") & (window["amount"] > 0) & window["margin"].notna()]
            if priced.empty:
                raise ValueError("quota type 'margin' needs the optional opportunities column `margin` on won deals; none has one")
            sums = priced.groupby("segment")[["margin", "amount"]].sum()
            self.margin_ratio_ = sums["margin"] / sums["amount"]
            self.margin_ratio_all_ = float(priced["margin"].sum() / priced["amount"].sum())
        # Reps: active at the as-of date, their main segment, tenure, shrunk creation rate and deal size.
        reps = ds.reps.copy()
        reps["active"] = ~(reps["end_date"] <= as_of)
        main_seg = opps.groupby("owner_id")["segment"].agg(lambda s: s.value_counts().sort_index().idxmax())  # ties: by name, not row order
        reps["segment"] = reps["rep_id"].map(main_seg).fillna(opps["segment"].mode().iloc[0] if len(opps) else "all")
        start = as_of - pd.Timedelta(days=self.rate_days)
        recent = opps[opps["created_date"] > start]
        created = recent.groupby("owner_id").size()
        hire = reps["hire_date"]
        employed_from = hire.where(hire > start, start).fillna(start)
        exposure = (as_of - employed_from).dt.days.clip(lower=0).to_numpy(dtype=float)
        # Ramp-equivalent exposure: days weighted by the ramp factor the rep was at (for recent hires).
        tenure_mid = ((as_of - hire).dt.days / 30.44 / 2).to_numpy(dtype=float)
        ramp_then = ramp_factor(tenure_mid, self.ramp_schedule)
        eff = exposure * np.where(np.isnan(tenure_mid), 1.0, ramp_then)
        n = reps["rep_id"].map(created).fillna(0).to_numpy(dtype=float)
        reps["team"] = reps["team"].fillna("unassigned")  # the rep's team as in the reps table
        # Gamma-Poisson shrinkage to the team's rate: prior worth ``prior_days`` ramped days.
        frame = pd.DataFrame({"team": reps["team"], "n": n, "eff": eff})
        team_rate = frame.groupby("team")[["n", "eff"]].sum().pipe(lambda g: g["n"] / g["eff"].where(g["eff"] > 0))
        overall = n.sum() / eff.sum() if eff.sum() > 0 else 0.0
        prior = reps["team"].map(team_rate).fillna(overall).to_numpy(dtype=float)
        prior_days = 90.0
        reps["rate"] = (n + prior * prior_days) / (eff + prior_days)
        reps["tenure_months"] = ((as_of - hire).dt.days / 30.44).to_numpy(dtype=float)
        if len(won):
            s = shrink_log_means(won["owner_id"].astype(str), won["amount"]).set_index("group")["log_mean_shrunk"]
            reps["log_size"] = reps["rep_id"].map(s)
        else:
            reps["log_size"] = np.nan
        reps["log_size"] = reps["log_size"].fillna(reps["segment"].map(self.size_["mean"])).fillna(self.size_all_[0])
        self.reps_ = reps[["rep_id", "team", "segment", "active", "rate", "tenure_months", "log_size"]].reset_index(drop=True)
        self.calibrator_ = self._learn_calibration(ds) if self.recalibrate else None
        self.open_ = opps[opps["status"] == "open"][["opportunity_id", "owner_id", "segment", "created_date", "amount", "margin"]].reset_index(drop=True)
        return self

    def _learn_calibration(self, ds: Dataset):
        """A logistic correction of π learned from this snapshot's own past: at each of its last ``recalibrate``
        quarter ends, the deals then open, the π this model gave them and whether they were won in the next quarter
        (all known at the snapshot's date, so nothing leaks). Features: logit π and log(1 + age). None when there is
        too little to learn from (fewer than 200 deals or 20 wins)."""
        from sklearn.linear_model import LogisticRegression

        from analysis.backtest import calibration

        settings = {k: getattr(self, k) for k in ("window_days", "rate_days", "ramp_schedule", "shock_sd", "min_at_risk")}
        cal = calibration(ds, self.recalibrate, make=lambda: PipelineForecaster(draws=10, seed=0, **settings))
        cal = cal[cal["pi"] > 0]
        if len(cal) < 200 or cal["won"].sum() < 20 or (~cal["won"]).sum() < 20:
            return None
        return LogisticRegression(C=1.0).fit(_calibration_features(cal["pi"], cal["age_days"]), cal["won"].to_numpy())

    def _curve(self, segment: str) -> pd.DataFrame:
        return self.curves_.get(segment, self.curve_all_)

    def _sigma(self, segment: str) -> float:
        return float(self.size_["std"].get(segment, self.size_all_[1]))

    def _ratio(self, segments: pd.Series) -> np.ndarray:
        """Gross margin per unit of amount by segment (measure ``margin``)."""
        return segments.map(self.margin_ratio_).fillna(self.margin_ratio_all_).to_numpy(dtype=float)

    def open_deal_probabilities(self, period: str) -> pd.DataFrame:
        """Each open deal's chance to be won inside ``period``: ``owner_id``, ``segment``, ``amount``, ``pi``, and
        ``value``, what the deal adds when won (its amount, 1 for a count, or its margin)."""
        p_start, p_end = period_bounds(period, self.fiscal_year_start_)
        # A deal of age a today is won inside the period if its age at winning is in (a + start, a + end].
        start = max(float((p_start - self.as_of_).days - 1), 0.0)
        end = float((p_end - self.as_of_).days)
        out = self.open_.copy()
        age = (self.as_of_ - out["created_date"]).dt.days.to_numpy(dtype=float)
        pi = np.zeros(len(out))
        for seg in out["segment"].unique():
            m = (out["segment"] == seg).to_numpy()
            pi[m] = win_probability_between(self._curve(seg), age[m], start, end)
        fill = out["segment"].map(lambda s: np.exp(self.size_["mean"].get(s, self.size_all_[0]) + self._sigma(s) ** 2 / 2))
        out["amount"] = out["amount"].fillna(fill)
        if self.calibrator_ is not None:  # deals the curve gives no chance keep none
            fixed = self.calibrator_.predict_proba(_calibration_features(pi, age))[:, 1]
            pi = np.where(pi > 0, fixed, 0.0)
        out["pi"] = pi
        if self.measure == "count":
            out["value"] = 1.0
        elif self.measure == "margin":
            out["value"] = out["margin"].fillna(out["amount"] * self._ratio(out["segment"]))
        else:
            out["value"] = out["amount"]
        return out

    def new_deal_expectations(self, period: str) -> pd.DataFrame:
        """Per rep: expected number of deals created after the as-of date and won inside ``period`` (``m``)."""
        p_start, p_end = period_bounds(period, self.fiscal_year_start_)
        days = pd.date_range(self.as_of_ + pd.Timedelta(days=1), p_end, freq="D")
        r = self.reps_.copy()
        m = np.zeros(len(r))
        for seg in r["segment"].unique():
            sel = (r["segment"] == seg).to_numpy()
            curve = self._curve(seg)
            # Created on day t, a deal is won inside the period if its age at winning is in (start - t - 1, end - t].
            to_end = (p_end - days).days.to_numpy(dtype=float)
            to_start = (p_start - days).days.to_numpy(dtype=float) - 1
            p = cif_at(curve, to_end) - cif_at(curve, to_start)
            tenure = r.loc[sel, "tenure_months"].to_numpy()[:, None] + ((days - self.as_of_).days.to_numpy() / 30.44)[None, :]
            ramp = ramp_factor(tenure, self.ramp_schedule)
            m[sel] = (r.loc[sel, "rate"].to_numpy()[:, None] * ramp * p[None, :]).sum(axis=1)
        r["m"] = np.where(r["active"], m, 0.0)
        return r

    def predict(self, period: str = "next") -> ForecastDraws:
        """Monte Carlo draws of bookings in ``period`` per (rep, segment) cell."""
        period = resolve_period(period, today=self.as_of_, fiscal_year_start=self.fiscal_year_start_)
        rng = np.random.default_rng(self.seed)
        opens = self.open_deal_probabilities(period)
        reps = self.new_deal_expectations(period)
        status = reps.set_index("rep_id")
        owner_active = opens["owner_id"].map(status["active"]).fillna(False).to_numpy(dtype=bool)
        open_rep = np.where(owner_active, opens["owner_id"].to_numpy(dtype=object), LEFT)
        open_team = opens["owner_id"].map(status["team"]).fillna("unassigned").to_numpy(dtype=object)
        cells = pd.DataFrame({"rep_id": open_rep, "team": open_team, "segment": opens["segment"].to_numpy(dtype=object)})
        cells = pd.concat([cells, reps.loc[reps["active"], ["rep_id", "team", "segment"]]], ignore_index=True)
        cells = cells.drop_duplicates(["rep_id", "team", "segment"]).sort_values(["team", "rep_id", "segment"]).reset_index(drop=True)
        cells["active"] = cells["rep_id"] != LEFT
        key = pd.MultiIndex.from_frame(cells[["rep_id", "team", "segment"]])
        cell_of_open = key.get_indexer(pd.MultiIndex.from_arrays([open_rep, open_team, opens["segment"].to_numpy(dtype=object)]))
        # Open deals: Bernoulli(π) × amount per cell.
        out = simulate_open_deals(opens["pi"].to_numpy(), opens["value"].to_numpy(dtype=float), cell_of_open, len(cells), self.draws, rng)
        # New deals: won counts Poisson(m), each amount lognormal(rep's log-mean, segment sigma).
        act = reps[reps["active"]].reset_index(drop=True)
        cell_of_rep = key.get_indexer(pd.MultiIndex.from_frame(act[["rep_id", "team", "segment"]]))
        counts = rng.poisson(act["m"].to_numpy()[:, None], size=(len(act), self.draws))
        total = int(counts.sum())
        if total:
            rep_idx = np.repeat(np.repeat(np.arange(len(act)), self.draws), counts.ravel())
            draw_idx = np.repeat(np.tile(np.arange(self.draws), len(act)), counts.ravel())
            sigma = act["segment"].map(self._sigma).to_numpy()
            amounts = np.exp(act["log_size"].to_numpy()[rep_idx] + sigma[rep_idx] * rng.standard_normal(total))
            if self.measure == "count":
                amounts = np.ones(total)
            elif self.measure == "margin":
                amounts *= self._ratio(act["segment"])[rep_idx]
            np.add.at(out, (cell_of_rep[rep_idx], draw_idx), amounts)
        # A shared quarter shock (mean 1) correlates the reps' outcomes.
        if self.shock_sd > 0:
            shock = np.exp(self.shock_sd * rng.standard_normal(self.draws) - self.shock_sd**2 / 2)
            out *= shock[None, :]
        return ForecastDraws(period=period, cells=cells, draws=out)


class ActivityForecaster:
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
        cells = pd.DataFrame({"rep_id": r["rep_id"].to_numpy(dtype=object), "team": r["team"].to_numpy(dtype=object), "segment": "all", "active": True})
        order = cells.sort_values(["team", "rep_id"]).index.to_numpy()
        return ForecastDraws(period=period, cells=cells.loc[order].reset_index(drop=True), draws=out[order])


def versus_target(draws: ForecastDraws, company: float | None, teams: pd.Series | None = None) -> pd.DataFrame:
    """Chance of reaching each target of the period, from the draws (targets as :meth:`Dataset.targets_for` gives
    them: the company's, or None, and the teams' by team): ``level``, ``group``, ``period``, ``target``,
    ``p_reach``, ``p50``."""
    rows = []
    wanted = [("company", "all", company)] + [("team", t, v) for t, v in (teams if teams is not None else pd.Series(dtype=float)).items()]
    for level, key, target in wanted:
        if target is None or pd.isna(target):
            continue
        groups, m = draws.by(level)
        if key in groups:
            sims = m[groups.get_loc(key)]
            rows.append({"level": level, "group": key, "period": draws.period, "target": float(target),
                         "p_reach": float((sims >= target).mean()), "p50": float(np.median(sims))})
    return pd.DataFrame(rows, columns=["level", "group", "period", "target", "p_reach", "p50"])
