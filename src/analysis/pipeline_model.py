"""Bookings forecasts as distributions: the pipeline model by Monte Carlo, per rep (docs/methods.md §3.1).

:class:`PipelineForecaster` learns from one as-of snapshot only (``fit(ds.as_of(date))``), so nothing it
predicts can see the future. For a future fiscal quarter it simulates, per rep and draw:

- every deal open at the as-of date: won inside the quarter with probability
  π = [F_won(a + g + h) − F_won(a + g)] / S(a) (a: age, g: days until the quarter starts, h: its length),
  from the Aalen–Johansen curve of the deal's segment; amount as entered (segment mean when missing);
- deals not yet created: won-inside-the-quarter counts are Poisson (thinning of the rep's creation rate by
  the chance a deal created on day t is won by the quarter's end), amounts lognormal with the rep's shrunk
  log-mean; the creation rate is shrunk to the team's (gamma-Poisson), scaled by the ramp for new hires and
  by the company's month-of-year pattern and trend in creation (:mod:`analysis.seasonality`);
- one shared lognormal shock per draw, so reps' outcomes are correlated as real quarters are;
- the estimates' own uncertainty: per segment and draw, the win chances scaled by a lognormal factor whose spread is
  the win curve's relative standard error, and new deals' amounts by one whose spread is the standard error of the
  mean amount (heavy-tailed amounts learned from few wins are uncertain), so a short or thin history widens the range.

Team, segment and company totals are sums of the same draws, so the levels are coherent by construction.
Reps who have left get no forecast; their open deals still count for their team and the company.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone

from analysis.calendar import DAYS_PER_MONTH, is_month_label, next_period, period_bounds, period_of, resolve_period
from analysis.config import DEFAULT_RAMP
from analysis.data import Dataset
from analysis.draws import ForecastDraws, sum_rows
from analysis.ramp import learn_ramp, ramp_factor
from analysis.recalibration import classifier, deal_features, usable_features
from analysis.reliability import calibration
from analysis.seasonality import ClosingPattern, CreationProfile, closing_pattern, creation_profile
from analysis.shrinkage import shrink_log_means, shrink_ratios
from analysis.survival import cif_at, cumulative_incidence, deal_times, extend_curve, fit_cycle_model, plateau, win_probability_between

LEFT = "(left)"
_NOT_LEARNED = ("draws", "seed", "recalibrate")  # settings that change the simulation or the correction only
#: What a draw adds up: the amount won (bookings), won deals counted, or their gross margin.
MEASURES = ("amount", "count", "margin")


def simulate_open_deals(
    pi: np.ndarray,
    amount: np.ndarray,
    cell: np.ndarray,
    n_cells: int,
    draws: int,
    rng: np.random.Generator,
    scale: np.ndarray | None = None,
    group: np.ndarray | None = None,
) -> np.ndarray:
    """Σ Bernoulli(π_i) · a_i per cell and draw (cells × draws), in chunks so memory stays bounded. With ``scale``
    (groups × draws) and each deal's ``group``, deal i's chance in draw j is min(1, π_i · scale[group_i, j])."""
    out = np.zeros((n_cells, draws))
    chunk = max(1, 4_000_000 // draws)
    for lo in range(0, len(pi), chunk):
        hi = min(lo + chunk, len(pi))
        p = pi[lo:hi, None] if scale is None else np.minimum(pi[lo:hi, None] * scale[group[lo:hi]], 1.0)
        hit = rng.random((hi - lo, draws)) < p
        out += sum_rows(cell[lo:hi], hit * amount[lo:hi, None], n_cells)
    return out


def lognormal_sums(rng: np.random.Generator, counts: np.ndarray, sigma: np.ndarray, chunk: int = 2_000_000) -> np.ndarray:
    """Per row and draw the sum of ``counts`` lognormal factors exp(σ z), σ the row's ``sigma`` (rows × draws; 0 where
    no deal). The normals are drawn in (row, draw) order, a block of rows at a time so that at most about ``chunk`` are
    held at once (the same numbers as in one go). Per deal only its row's σ is looked up, from a small code:
    Σ exp(μ + σ z) = exp(μ) · Σ exp(σ z), so the row's μ multiplies the sums afterwards."""
    per_row = counts.sum(axis=1)
    sigmas, code = np.unique(sigma, return_inverse=True)
    code = code.astype(np.int32)
    cuts = np.unique(np.searchsorted(np.cumsum(per_row), np.arange(chunk, int(per_row.sum()), chunk), side="right"))
    won = np.zeros(counts.shape)
    for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, len(counts)], strict=True):
        if hi <= lo:
            continue
        amounts = rng.standard_normal(int(per_row[lo:hi].sum()))
        amounts *= sigmas[np.repeat(code[lo:hi], per_row[lo:hi])]
        np.exp(amounts, out=amounts)
        flat = counts[lo:hi].ravel()
        block = np.zeros(flat.size)
        some = flat > 0
        block[some] = np.add.reduceat(amounts, (np.cumsum(flat) - flat)[some])
        won[lo:hi] = block.reshape(hi - lo, counts.shape[1])
    return won


def _per_value(values: pd.Series, f) -> pd.Series:
    """``values.map(f)`` computed once per distinct value (``f`` of a segment name, called per deal, was the
    forecast's slowest line at 2,000 reps)."""
    uniques = values.dropna().unique()
    return values.map(pd.Series([f(v) for v in uniques], index=uniques, dtype="float64")).astype("float64")


def _main_segment(owner: pd.Series, segment: pd.Series) -> pd.Series:
    """Per owner the segment of most of their deals; ties go to the first segment by name, not by row order."""
    n = pd.DataFrame({"owner": owner, "segment": segment}).dropna().groupby(["owner", "segment"]).size().rename("n").reset_index()
    n = n.sort_values(["owner", "n", "segment"], ascending=[True, False, True], kind="stable").drop_duplicates("owner")
    return n.set_index("owner")["segment"]


def _relative_se(curve: pd.DataFrame, extended: pd.DataFrame | None = None, model=None) -> float:
    """Relative uncertainty of a segment's win chances: the observed curve's relative standard error where it is
    last read with enough deals at risk, and the cycle model's (its p_won's), weighted by the share of eventual
    wins the curve owes to the model's continuation (0 without wins)."""
    read = plateau(curve.assign(gid=0)) if len(curve) else pd.DataFrame()
    if read.empty or not read["cif_won"].iloc[0] > 0:
        return 0.0
    f_star = float(read["cif_won"].iloc[0])
    observed = float(read["se_won"].iloc[0]) / f_star
    tail = 0.0
    if model is not None and extended is not None and len(extended):
        f_end = float(extended["cif_won"].iloc[-1])
        tail = max(f_end - f_star, 0.0) / f_end * model.p_won_se / model.p_won if f_end > 0 and model.p_won > 0 else 0.0
    return float(min(np.hypot(observed, tail), 1.0))


def _segment_mix(window: pd.DataFrame, reps: pd.DataFrame, prior_deals: float = 10.0) -> pd.DataFrame:
    """Each rep's share of deals by segment (``rep_id``, ``segment``, ``share``): their own deals in ``window``,
    shrunk to their team's mix with a prior worth ``prior_deals`` deals; a rep with none follows the team, a team with
    none the rep's main segment."""
    team = reps.set_index("rep_id")["team"]
    counts = window.groupby(["owner_id", "segment"]).size().rename("n").reset_index().rename(columns={"owner_id": "rep_id"})
    counts["team"] = counts["rep_id"].map(team)
    team_mix = counts.dropna(subset=["team"]).groupby(["team", "segment"])["n"].sum()
    team_mix = (team_mix / team_mix.groupby(level="team").transform("sum")).rename("prior").reset_index()
    grid = reps[["rep_id", "team"]].merge(team_mix, on="team", how="left")
    grid = grid.merge(counts[["rep_id", "segment", "n"]], on=["rep_id", "segment"], how="outer").fillna({"n": 0.0, "prior": 0.0})
    grid = grid[grid["rep_id"].isin(reps["rep_id"])]
    own = grid.groupby("rep_id")["n"].transform("sum")
    grid["share"] = (grid["n"] + prior_deals * grid["prior"]) / (own + prior_deals * grid.groupby("rep_id")["prior"].transform("sum"))
    grid = grid[grid["share"].fillna(0) > 0][["rep_id", "segment", "share"]]
    alone = reps.loc[~reps["rep_id"].isin(grid["rep_id"]), ["rep_id", "segment"]].assign(share=1.0)
    return pd.concat([grid, alone], ignore_index=True).sort_values(["rep_id", "segment"]).reset_index(drop=True)


def _gamma_factor(rng: np.random.Generator, shape: np.ndarray, draws: int) -> np.ndarray:
    """Gamma(shape, 1/shape) factors of mean 1 per row and draw (rows × draws); 1 where the shape is infinite."""
    finite = np.isfinite(shape) & (shape > 0)
    out = np.ones((len(shape), draws))
    if finite.any():
        s = np.maximum(shape[finite], 1e-3)[:, None]
        out[finite] = rng.gamma(s, 1.0 / s, size=(int(finite.sum()), draws))
    return out


def _mean_amount_se(sigma: float, n: int) -> float:
    """Relative standard error of a lognormal mean amount exp(μ + σ²/2) learned from ``n`` won deals (delta method)."""
    if n < 2 or not np.isfinite(sigma):
        return 0.0
    return float(min(np.sqrt(sigma**2 / n + sigma**4 / (2 * (n - 1))), 1.0))


class PipelineForecaster(BaseEstimator):
    """Per-rep Monte Carlo forecast of bookings from the open pipeline and the deals not yet created.

    Settings only here (a scikit-learn estimator: ``get_params``, ``set_params``, ``sklearn.base.clone``); ``fit``
    learns from a dataset (a snapshot), ``predict`` simulates a period and changes nothing.

    Parameters: ``draws`` (simulations), ``seed``; ``window_days`` (deals created this far back teach the win curves,
    cycle lengths and sizes); ``rate_days`` (the creation rate's window); ``ramp_schedule`` (the ramp by quarter of
    tenure: the prior of the learned ramp); ``shock_sd`` (log-sd of the quarter shock shared by every rep);
    ``min_at_risk`` (deals a segment needs for its own win curve, else the company's); ``measure`` (amount, count or
    margin); ``recalibrate`` (past quarters the deal-chance correction learns from; 0: none); ``seasonality``,
    ``owner_effect``, ``learn_ramp``, ``tail``, ``uncertainty``, ``segment_mix`` (each part of the model, on or off:
    below and docs/forecast.md).

    Learned (trailing underscore, set on every path of ``fit``): ``as_of_``, ``fiscal_year_start_``, ``curves_``,
    ``curve_all_``, ``cycle_models_``, ``level_sd_``, ``level_sd_all_``, ``cycle_``, ``cycle_all_``, ``size_``,
    ``size_all_``, ``size_sd_``, ``size_sd_all_``, ``ramps_``, ``ramp_table_``, ``creation_``, ``reps_``, ``mix_``,
    ``closing_``, ``features_left_out_``, ``calibrator_``, ``booked_``, ``open_`` (and ``margin_ratio_``,
    ``margin_ratio_all_`` for the measure ``margin``).
    """

    def __init__(
        self,
        draws: int = 2000,
        seed: int = 0,
        window_days: int = 730,
        rate_days: int = 365,
        ramp_schedule: tuple[float, ...] = DEFAULT_RAMP,
        shock_sd: float = 0.10,
        min_at_risk: int = 50,
        measure: str = "amount",
        recalibrate: int = 0,
        seasonality: bool = True,
        owner_effect: bool = True,
        learn_ramp: bool = True,
        tail: bool = True,
        uncertainty: bool = True,
        segment_mix: bool = True,
    ):
        if measure not in MEASURES:
            raise ValueError(f"measure must be one of {MEASURES}, got {measure!r}")
        self.measure = measure
        self.recalibrate = recalibrate  # earlier quarters to learn a correction of the deal probabilities from (0: off)
        self.seasonality = seasonality  # creation rate follows the month-of-year pattern and trend, and closing the quarter-end rush (analysis.seasonality)
        self.owner_effect = owner_effect  # each rep's deals are won at the rep's own (shrunk) rate relative to the segment's
        self.segment_mix = segment_mix  # a rep's future deals fall in segments as their recent ones did (else all in their main one)
        self.uncertainty = uncertainty  # draws carry the estimates' own uncertainty (win curve level, mean amount) per segment
        self.tail = tail  # win curves continued past their last well-observed age by a fitted cycle model (analysis.survival)
        self.learn_ramp = learn_ramp  # the ramp read from the data's own hires, ``ramp_schedule`` as its prior (analysis.ramp)
        self.draws = draws
        self.seed = seed
        self.window_days = window_days
        self.rate_days = rate_days
        self.ramp_schedule = ramp_schedule
        self.shock_sd = shock_sd
        self.min_at_risk = min_at_risk

    def fit(self, ds: Dataset) -> PipelineForecaster:
        """Learn from the snapshot ``ds`` (nothing dated after its as-of date): each segment's win curve and its
        uncertainty, deal sizes and cycle lengths, each rep's creation rate, skill, deal size and segment mix with the
        ramp and the calendar, the quarter-end pattern of closing, the deals open and already booked, and (with
        ``recalibrate``) the correction of the open deals' win chances."""
        # What the model learns before any correction depends on the snapshot and the settings, not on the draws or
        # the correction: learned once per snapshot and shared (the plain and the recalibrated model, their backtests
        # and the correction's own past quarters fit the same snapshots).
        params = self.get_params()
        key = ("pipeline_fit", ds.as_of_date.isoformat(), repr(sorted((k, v) for k, v in params.items() if k not in _NOT_LEARNED)))
        if key not in ds.memo:
            self._fit_plain(ds)
            ds.memo[key] = {k: v for k, v in vars(self).items() if k not in params}
        vars(self).update(ds.memo[key])
        self.features_left_out_ = usable_features(ds) if self.recalibrate else {}
        self.calibrator_ = self._learn_calibration(ds) if self.recalibrate else None
        return self

    def _fit_plain(self, ds: Dataset) -> None:
        opps = ds.opportunities
        self.as_of_ = ds.as_of_date
        self.fiscal_year_start_ = ds.fiscal_year_start
        window = opps[opps["created_date"] > self.as_of_ - pd.Timedelta(days=self.window_days)]
        self._fit_win_curves(window)
        won = self._fit_sizes(window)
        self._fit_reps(ds, window, won)
        self._fit_closing(ds)
        self._fit_deals(ds)

    def _fit_win_curves(self, window: pd.DataFrame) -> None:
        """``curves_``, ``curve_all_``, ``cycle_models_`` and the curves' relative uncertainty ``level_sd_``."""
        as_of = self.as_of_
        t = deal_times(window, as_of)
        codes, segments = pd.factorize(window["segment"], sort=True)
        curves = cumulative_incidence(codes, t["time"].to_numpy(), t["event"].to_numpy())
        everyone = cumulative_incidence(np.zeros(len(window), int), t["time"].to_numpy(), t["event"].to_numpy())
        time, event = t["time"].to_numpy(), t["event"].to_numpy()
        # Past the last age with enough deals at risk, each curve continues as its segment's fitted cycle model
        # (analysis.survival.CycleModel): a short extract has not yet seen long-cycle deals win.
        self.cycle_models_ = {
            seg: fit_cycle_model(time[codes == i], event[codes == i]) if self.tail else None for i, seg in enumerate(segments)
        }
        model_all = fit_cycle_model(time, event) if self.tail else None
        self.curves_ = {
            seg: extend_curve(curves[curves["gid"] == i].reset_index(drop=True), self.cycle_models_[seg])
            for i, seg in enumerate(segments)
            if (codes == i).sum() >= self.min_at_risk
        }
        self.curve_all_ = extend_curve(everyone, model_all)
        self.level_sd_ = {
            seg: _relative_se(curves[curves["gid"] == i], self.curves_.get(seg), self.cycle_models_[seg]) for i, seg in enumerate(segments)
        }
        self.level_sd_all_ = _relative_se(everyone, self.curve_all_, model_all)

    def _fit_sizes(self, window: pd.DataFrame) -> pd.DataFrame:
        """Cycle lengths (``cycle_``), lognormal deal sizes by segment (``size_``) and their uncertainty
        (``size_sd_``), the margin ratio (measure ``margin``); returns the won deals they were learned from."""
        won = window[(window["status"] == "won") & (window["amount"] > 0)]
        logs = np.log(won["amount"])
        days_to_win = (won["close_date"] - won["created_date"]).dt.days
        self.cycle_ = days_to_win.groupby(won["segment"]).median()
        self.cycle_all_ = float(days_to_win.median()) if len(won) else 30.0
        self.size_ = won.assign(y=logs).groupby("segment")["y"].agg(["mean", "std"]).fillna({"std": 0.0})
        self.size_all_ = (float(logs.mean()), float(logs.std())) if len(won) else (np.log(1.0), 0.0)
        n_won = won.groupby("segment").size()
        self.size_sd_ = {seg: _mean_amount_se(self.size_.loc[seg, "std"], n_won[seg]) for seg in self.size_.index}
        self.size_sd_all_ = _mean_amount_se(self.size_all_[1], len(won))
        if self.measure == "margin":
            priced = window[(window["status"] == "won") & (window["amount"] > 0) & window["margin"].notna()]
            if priced.empty:
                raise ValueError("quota type 'margin' needs the optional opportunities column `margin` on won deals; none has one")
            sums = priced.groupby("segment")[["margin", "amount"]].sum()
            self.margin_ratio_ = sums["margin"] / sums["amount"]
            self.margin_ratio_all_ = float(priced["margin"].sum() / priced["amount"].sum())
        return won

    def _fit_reps(self, ds: Dataset, window: pd.DataFrame, won: pd.DataFrame) -> None:
        """``reps_``: each rep's segment, shrunk creation rate (on calendar-fair, ramped days), skill, deal size and
        their uncertainty; with the learned ramps (``ramps_``), the calendar (``creation_``) and the mix (``mix_``)."""
        as_of, opps = self.as_of_, ds.opportunities
        # Reps: active at the as-of date, their main segment, tenure, shrunk creation rate and deal size.
        reps = ds.reps.copy()
        reps["active"] = ~(reps["end_date"] <= as_of)
        main_seg = _main_segment(opps["owner_id"], opps["segment"])
        # A rep with no deal yet (a new hire) sells what their team sells; a team with none, what the company sells.
        team_seg = _main_segment(opps["owner_id"].map(reps.set_index("rep_id")["team"]), opps["segment"])
        reps["segment"] = (
            reps["rep_id"].map(main_seg).fillna(reps["team"].map(team_seg)).fillna(opps["segment"].mode().iloc[0] if len(opps) else "all")
        )
        # The creation rate's window: the last ``rate_days``, or since the data begin when the extract is shorter
        # (a rep cannot have created deals before the first one in the data: counting those days halves the rate).
        start = as_of - pd.Timedelta(days=self.rate_days)
        if len(opps) and opps["created_date"].min() - pd.Timedelta(days=1) > start:
            start = opps["created_date"].min() - pd.Timedelta(days=1)
        rate_days = max(int((as_of - start).days), 1)
        recent = opps[opps["created_date"] > start]
        created = recent.groupby("owner_id").size()
        hire = reps["hire_date"]
        if self.learn_ramp:
            self.ramps_, self.ramp_table_ = learn_ramp(opps, reps, as_of, self.ramp_schedule)
        else:
            self.ramps_, self.ramp_table_ = {}, pd.DataFrame()
        # The calendar first (it needs only the deals and the ramp), so that a rate is learned on calendar-fair days.
        self.creation_ = (
            creation_profile(opps, reps, as_of, rate_days, self.ramp_schedule, schedules=self.ramps_)
            if self.seasonality
            else CreationProfile(window_start=start, window_end=as_of)
        )
        # Exposure: each day the rep was employed in the window, at the ramp factor they were at and the calendar's
        # factor that day (a hire seen only in a busy season is not taken for a fast creator).
        eff = self._exposure(reps, start, as_of)
        n = reps["rep_id"].map(created).fillna(0).to_numpy(dtype=float)
        reps["team"] = reps["team"].fillna("unassigned")  # the rep's team as in the reps table
        # Gamma-Poisson shrinkage to the team's rate: prior worth ``prior_days`` ramped days.
        frame = pd.DataFrame({"team": reps["team"], "n": n, "eff": eff})
        team_rate = frame.groupby("team")[["n", "eff"]].sum().pipe(lambda g: g["n"] / g["eff"].where(g["eff"] > 0))
        overall = n.sum() / eff.sum() if eff.sum() > 0 else 0.0
        prior = reps["team"].map(team_rate).fillna(overall).to_numpy(dtype=float)
        # The prior's weight from how much reps' rates really differ around their team's (empirical Bayes, Poisson
        # noise taken out): prior worth 1 / (cv² · team rate) ramped days, cv the between-rep coefficient of variation.
        seen = (eff >= 60) & (prior > 0)
        excess = ((n[seen] / eff[seen] - prior[seen]) ** 2 - prior[seen] / eff[seen]).mean() if seen.sum() >= 5 else np.nan
        cv2 = float(np.clip(excess / np.mean(prior[seen] ** 2), 0.01, 1.0)) if np.isfinite(excess) else 0.09
        prior_days = 1.0 / (cv2 * np.maximum(prior, 1e-9))
        reps["rate"] = (n + prior * prior_days) / (eff + prior_days)
        reps["rate_shape"] = n + prior * prior_days  # the gamma posterior's shape: the rate's own uncertainty
        reps["tenure_months"] = ((as_of - hire).dt.days / DAYS_PER_MONTH).to_numpy(dtype=float)
        # Deal size: the rep's shrunk effect on the log amount relative to each deal's segment (so a rep who sells
        # in several segments has a size in each), and its posterior sd.
        reps["size_effect"], reps["size_sd"] = 0.0, 0.0
        if len(won):
            resid = np.log(won["amount"]) - won["segment"].map(self.size_["mean"])
            s = shrink_log_means(won["owner_id"].astype(str), np.exp(resid)).set_index("group")
            reps["size_effect"] = reps["rep_id"].map(s["log_mean_shrunk"]).fillna(0.0)
            # The posterior sd from the 90 % interval's half-width; none where every amount is the same (sizes known).
            post_sd = ((np.log(s["upper"]) - np.log(s["lower"])) / (2 * 1.6448536)).replace([np.inf, -np.inf], np.nan)
            widest = float(post_sd.max()) if post_sd.notna().any() else 0.0
            reps["size_sd"] = reps["rep_id"].map(post_sd).fillna(widest)
        reps["log_size"] = reps["segment"].map(self.size_["mean"]).fillna(self.size_all_[0]) + reps["size_effect"]
        self.mix_ = _segment_mix(window, reps) if self.segment_mix else reps[["rep_id", "segment"]].assign(share=1.0)
        ratio, shape = self._owner_ratios(window, reps["rep_id"]) if self.owner_effect else (1.0, np.inf)
        reps["owner_ratio"], reps["skill_shape"] = ratio, shape
        self.reps_ = reps[
            [
                "rep_id",
                "team",
                "segment",
                "active",
                "rate",
                "tenure_months",
                "log_size",
                "size_effect",
                "owner_ratio",
                "rate_shape",
                "skill_shape",
                "size_sd",
            ]
        ].reset_index(drop=True)

    def _fit_closing(self, ds: Dataset) -> None:
        """``closing_``: when in a quarter deals are won (the quarter-end pull)."""
        as_of, opps = self.as_of_, ds.opportunities
        won_all = opps.loc[opps["status"] == "won", "close_date"]
        history_from = max(as_of - pd.Timedelta(days=max(self.window_days, 730)), opps["created_date"].min()) if len(opps) else as_of
        self.closing_ = (
            closing_pattern(won_all, history_from, as_of, ds.fiscal_year_start)
            if self.seasonality
            else ClosingPattern(fiscal_year_start=ds.fiscal_year_start)
        )

    def _fit_deals(self, ds: Dataset) -> None:
        """``booked_`` (won in the quarter under way) and ``open_`` (open at the as-of date, with days in stage)."""
        as_of, opps = self.as_of_, ds.opportunities
        q_start = period_bounds(period_of(as_of, ds.fiscal_year_start), ds.fiscal_year_start)[0]
        self.booked_ = opps[(opps["status"] == "won") & (opps["close_date"] >= q_start)][
            ["owner_id", "segment", "close_date", "amount", "margin"]
        ].reset_index(drop=True)
        self.open_ = opps[opps["status"] == "open"][
            ["opportunity_id", "owner_id", "segment", "created_date", "amount", "margin", "stage"]
        ].reset_index(drop=True)
        since = self.open_["created_date"]  # no history: in its first stage since creation
        if ds.has("stage_history"):
            entered = ds.stage_history.groupby("opportunity_id")["entered_date"].max()
            since = self.open_["opportunity_id"].map(entered).fillna(since)
        self.open_["stage_days"] = (as_of - since).dt.days.astype(float)

    def _exposure(self, reps: pd.DataFrame, start: pd.Timestamp, as_of: pd.Timestamp) -> np.ndarray:
        """Per rep: Σ over the days in (start, as_of] they were employed of ramp factor × calendar factor."""
        days = pd.date_range(start + pd.Timedelta(days=1), as_of, freq="D")
        calendar = self.creation_.factor(days)
        d = days.to_numpy(dtype="datetime64[ns]")
        hire = reps["hire_date"].to_numpy(dtype="datetime64[ns]")
        until = reps["end_date"].fillna(as_of).to_numpy(dtype="datetime64[ns]")
        out = np.zeros(len(reps))
        for seg in reps["segment"].unique():
            sel = (reps["segment"] == seg).to_numpy()
            h = hire[sel][:, None]
            tenure = np.where(np.isnat(h), np.nan, (d[None, :] - h) / np.timedelta64(1, "D") / DAYS_PER_MONTH)
            employed = (np.isnat(h) | (d[None, :] >= h)) & (d[None, :] <= until[sel][:, None])
            out[sel] = (employed * ramp_factor(np.maximum(tenure, 0.0), self.schedule(seg)) * calendar[None, :]).sum(axis=1)
        return out

    @staticmethod
    def _owner_ratios(window: pd.DataFrame, rep_ids: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """Each rep's wins among their closed deals against what their segments' win shares would give, shrunk
        to 1 (gamma-Poisson, :func:`analysis.shrinkage.shrink_ratios`): the rep's skill as a multiplier of the odds;
        and the gamma posterior's shape O + k (its uncertainty: infinite when reps do not differ)."""
        closed = window[window["status"].isin(["won", "lost"])]
        if closed.empty:
            return np.ones(len(rep_ids)), np.full(len(rep_ids), np.inf)
        won = (closed["status"] == "won").astype(float)
        share = won.groupby(closed["segment"]).transform("mean")
        per_rep = pd.DataFrame({"o": won, "e": share}).groupby(closed["owner_id"]).sum()
        shrunk = shrink_ratios(per_rep["o"], per_rep["e"]).set_axis(per_rep.index)
        k = float(shrunk["k"].iloc[0]) if len(shrunk) else np.inf
        shape = rep_ids.map(shrunk["observed"] + shrunk["k"]).fillna(k)
        return rep_ids.map(shrunk["estimate"]).fillna(1.0).to_numpy(dtype=float), shape.to_numpy(dtype=float)

    def _learn_calibration(self, ds: Dataset):
        """A correction of π learned from this snapshot's own past: at each of its last ``recalibrate`` quarter ends,
        the deals then open, the π this model gave them, their age, stage, days in it, amount and owner, and whether
        they were won in the next quarter (all known at the snapshot's date, so nothing leaks); a regularised
        logistic regression on :func:`deal_features` (those :func:`usable_features` allows). None when there is too
        little to learn from (fewer than 200 deals or 20 wins or 20 misses)."""
        plain = clone(self).set_params(draws=10, seed=0, recalibrate=0, measure="amount")
        # Learned on forecasts made as far ahead of their quarter as this one is of the next quarter: a correction
        # learned on the eve of quarters would misread the smaller chances of a quarter that starts months later.
        lead = max(
            int((period_bounds(next_period(ds.as_of_date, ds.fiscal_year_start), ds.fiscal_year_start)[0] - ds.as_of_date).days) - 1, 0
        )
        cal = calibration(ds, self.recalibrate, make=lambda: clone(plain), lead_days=lead)
        cal = cal[cal["pi"] > 0]
        if len(cal) < 200 or cal["won"].sum() < 20 or (~cal["won"]).sum() < 20:
            return None
        x = deal_features(cal, drop=self.features_left_out_)
        return classifier(list(x.columns)).fit(x, cal["won"].to_numpy())

    def _spans(self, period: str) -> list[tuple[pd.Timestamp, pd.Timestamp, float]]:
        """The days whose natural wins count for the period, with their weights (the quarter-end pull)."""
        p_start, p_end = period_bounds(period, self.fiscal_year_start_)
        return self.closing_.spans(max(p_start, self.as_of_ + pd.Timedelta(days=1)), p_end)

    def schedule(self, segment: str) -> tuple[float, ...]:
        """The ramp of a segment's hires: learned (``ramps_``), else the ``ramp_schedule`` setting."""
        return self.ramps_.get(segment, self.ramp_schedule)

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
        out = self.open_.copy()
        age = (self.as_of_ - out["created_date"]).dt.days.to_numpy(dtype=float)
        pi, w = np.zeros(len(out)), np.zeros(len(out))
        # A deal of age a today would win on day d if its age at winning is a + (d − today); those due early in the
        # quarter count at 1 − ρ (pulled into the last one), those due early in the next at ρ. w: its chance to be
        # won at all.
        windows = [
            (float((first - self.as_of_).days - 1), float((last - self.as_of_).days), weight) for first, last, weight in self._spans(period)
        ]
        codes, segments = pd.factorize(out["segment"])
        for i, seg in enumerate(segments):
            m = codes == i
            curve, a = self._curve(seg), age[m]
            pi[m] = sum(weight * win_probability_between(curve, a, start, end) for start, end, weight in windows)
            w[m] = win_probability_between(curve, a, 0.0, np.inf)
        # The owner's skill moves the deal's eventual chance w on the odds scale, and every period's share of it
        # in proportion (so months still add up to their quarter).
        ratio = out["owner_id"].map(self.reps_.set_index("rep_id")["owner_ratio"]).fillna(1.0).to_numpy(dtype=float)
        w_owner = ratio * w / np.maximum(1.0 - w + ratio * w, 1e-12)
        with np.errstate(divide="ignore", invalid="ignore"):
            pi = np.clip(np.where(w > 0, pi * w_owner / w, 0.0), 0.0, 1.0)
        fill = _per_value(out["segment"], lambda s: np.exp(self.size_["mean"].get(s, self.size_all_[0]) + self._sigma(s) ** 2 / 2))
        out["amount_rel"] = out["amount"].where(out["amount"] > 0) / fill
        out["amount"] = out["amount"].fillna(fill)
        out["owner_ratio"] = ratio
        out["age_days"] = age
        out["cycle_days"] = out["segment"].map(self.cycle_).fillna(self.cycle_all_).to_numpy(dtype=float)
        if self.calibrator_ is not None and len(out):  # deals the curve gives no chance keep none
            fixed = self.calibrator_.predict_proba(deal_features(out.assign(pi=pi), drop=self.features_left_out_))[:, 1]
            pi = np.where(pi > 0, fixed, 0.0)
        out["pi"] = pi
        out["value"] = self._value(out)
        return out

    def _value(self, deals: pd.DataFrame):
        """What each deal adds when won: its amount, 1 for a count, or its margin (else amount × the segment's ratio)."""
        if self.measure == "count":
            return 1.0
        if self.measure == "margin":
            return deals["margin"].fillna(deals["amount"] * self._ratio(deals["segment"]))
        return deals["amount"]

    def new_deal_expectations(self, period: str, by_segment: bool = False) -> pd.DataFrame:
        """Per rep (``by_segment``: per rep and segment of the deals): expected number of deals created after the
        as-of date and won inside ``period`` (``m``). A rep's deals fall in segments as the rep's own recent deals did
        (shrunk to the team's mix, ``mix_``); each segment's deals win on that segment's curve, at its size."""
        p_end = period_bounds(period, self.fiscal_year_start_)[1]
        days = pd.date_range(self.as_of_ + pd.Timedelta(days=1), p_end, freq="D")
        season = self.creation_.factor(days)  # the calendar's effect on creation, relative to the rate window
        spans = self._spans(period)
        r = self.reps_.copy()
        # Deals created per rep and day ahead: rate × the ramp of the rep's own segment × the calendar.
        created = np.zeros((len(r), len(days)))
        for seg in r["segment"].unique():
            sel = (r["segment"] == seg).to_numpy()
            tenure = r.loc[sel, "tenure_months"].to_numpy()[:, None] + ((days - self.as_of_).days.to_numpy() / DAYS_PER_MONTH)[None, :]
            created[sel] = r.loc[sel, "rate"].to_numpy()[:, None] * ramp_factor(tenure, self.schedule(seg)) * season[None, :]
        rows = self.mix_.merge(r.drop(columns=["segment", "log_size"]).reset_index(names="row"), on="rep_id")
        rows["log_size"] = rows["segment"].map(self.size_["mean"]).fillna(self.size_all_[0]).to_numpy() + rows["size_effect"].to_numpy()
        m = np.zeros(len(rows))
        for seg in rows["segment"].unique():
            sel = (rows["segment"] == seg).to_numpy()
            curve = self._curve(seg)
            # Created on day t, a deal would win on day d if its age at winning is d − t; weighed as above.
            p = np.zeros(len(days))
            for first, last, weight in spans:
                p += weight * (
                    cif_at(curve, (last - days).days.to_numpy(dtype=float)) - cif_at(curve, (first - days).days.to_numpy(dtype=float) - 1)
                )
            m[sel] = (created[rows.loc[sel, "row"].to_numpy()] @ p) * rows.loc[sel, "share"].to_numpy()
        rows["m"] = np.where(rows["active"], m * rows["owner_ratio"].to_numpy(), 0.0)
        rows = rows.drop(columns="row")
        if by_segment:
            return rows
        r["m"] = r["rep_id"].map(rows.groupby("rep_id")["m"].sum()).fillna(0.0).to_numpy()
        return r

    def booked(self, period: str) -> pd.DataFrame:
        """Deals already won inside ``period`` by the as-of date (a quarter or month in progress): ``owner_id``,
        ``segment``, ``close_date``, ``amount``, ``margin`` and ``value`` (as in :meth:`open_deal_probabilities`)."""
        p_start, p_end = period_bounds(period, self.fiscal_year_start_)
        b = self.booked_[(self.booked_["close_date"] >= p_start) & (self.booked_["close_date"] <= p_end)].copy()
        b["value"] = self._value(b)
        return b

    def _rep_team(self, owners: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """The cell keys of deals: the owner if still active (else ``(left)``) and the owner's team."""
        status = self.reps_.set_index("rep_id")
        active = owners.map(status["active"]).fillna(False).to_numpy(dtype=bool)
        return np.where(active, owners.to_numpy(dtype=object), LEFT), owners.map(status["team"]).fillna("unassigned").to_numpy(dtype=object)

    def predict(self, period: str = "next") -> ForecastDraws:
        """Monte Carlo draws of bookings in ``period`` (a fiscal quarter, ``next``, or a calendar month ``2027-01``)
        per (rep, segment) cell. A period already under way counts what it has booked by the as-of date (a nowcast)."""
        if not is_month_label(period):
            period = resolve_period(period, today=self.as_of_, fiscal_year_start=self.fiscal_year_start_)
        rng = np.random.default_rng(self.seed)
        opens = self.open_deal_probabilities(period)
        reps = self.new_deal_expectations(period, by_segment=True)
        done = self.booked(period)
        open_rep, open_team = self._rep_team(opens["owner_id"])
        done_rep, done_team = self._rep_team(done["owner_id"])
        cells = pd.DataFrame(
            {
                "rep_id": np.r_[open_rep, done_rep],
                "team": np.r_[open_team, done_team],
                "segment": np.r_[opens["segment"].to_numpy(dtype=object), done["segment"].to_numpy(dtype=object)],
            }
        )
        cells = pd.concat([cells, reps.loc[reps["active"], ["rep_id", "team", "segment"]]], ignore_index=True)
        cells = cells.drop_duplicates(["rep_id", "team", "segment"]).sort_values(["team", "rep_id", "segment"]).reset_index(drop=True)
        cells["active"] = cells["rep_id"] != LEFT
        key = pd.MultiIndex.from_frame(cells[["rep_id", "team", "segment"]])
        cell_of_open = key.get_indexer(pd.MultiIndex.from_arrays([open_rep, open_team, opens["segment"].to_numpy(dtype=object)]))
        act = reps[reps["active"]].reset_index(drop=True)
        # The estimates' uncertainty: per segment and draw, a factor on the win chances and one on new deals'
        # amounts (their own random stream, so the rest of the simulation is drawn as without them).
        seg_codes, seg_names = pd.factorize(pd.concat([opens["segment"], act["segment"]], ignore_index=True).astype(str))
        win_scale = size_scale = None
        if self.uncertainty and len(seg_names):
            prng = np.random.default_rng([self.seed, 101])
            sd = np.array([[self.level_sd_.get(s, self.level_sd_all_), self.size_sd_.get(s, self.size_sd_all_)] for s in seg_names])
            sd = np.nan_to_num(sd, nan=0.0, posinf=0.0)
            z = prng.standard_normal((2, len(seg_names), self.draws))
            win_scale = np.exp(sd[:, 0, None] * z[0] - sd[:, 0, None] ** 2 / 2)
            size_scale = np.exp(sd[:, 1, None] * z[1] - sd[:, 1, None] ** 2 / 2)
        open_group, rep_group = seg_codes[: len(opens)], seg_codes[len(opens) :]
        cell_of_rep = key.get_indexer(pd.MultiIndex.from_frame(act[["rep_id", "team", "segment"]]))
        # And each rep's own: creation rate and win skill from their gamma posteriors, deal size from its normal one
        # (mean 1: a rep with a long record barely moves, a new hire's range shows how little is known of them).
        skill = rate = size = None
        people = self.reps_[self.reps_["active"]].reset_index(drop=True)  # one row per active rep
        person = pd.Index(people["rep_id"]).get_indexer(act["rep_id"])  # each new-deal row's rep
        if self.uncertainty and len(people):
            prng = np.random.default_rng([self.seed, 102])
            skill = _gamma_factor(prng, people["skill_shape"].to_numpy(dtype=float), self.draws)
            rate = _gamma_factor(prng, people["rate_shape"].to_numpy(dtype=float), self.draws)
            sd = np.nan_to_num(people["size_sd"].to_numpy(dtype=float), nan=0.0, posinf=0.0)[:, None]
            size = np.exp(sd * prng.standard_normal((len(people), self.draws)) - sd**2 / 2)
        # Open deals: Bernoulli(π) × amount per cell, the segment's and the owner's factors on π.
        scale, group = win_scale, open_group
        if skill is not None:
            pair = pd.MultiIndex.from_arrays([open_group, pd.Index(people["rep_id"]).get_indexer(opens["owner_id"])])
            group, pairs = pd.factorize(pair)
            seg_of, rep_of = pairs.get_level_values(0).to_numpy(), pairs.get_level_values(1).to_numpy()
            owner = np.where(rep_of[:, None] >= 0, skill[np.maximum(rep_of, 0)], 1.0)
            scale = (win_scale[seg_of] if win_scale is not None else 1.0) * owner
        out = simulate_open_deals(
            opens["pi"].to_numpy(),
            opens["value"].to_numpy(dtype=float),
            cell_of_open,
            len(cells),
            self.draws,
            rng,
            scale=scale,
            group=group,
        )
        # New deals: won counts Poisson(m), each amount lognormal(rep's log-mean, segment sigma).
        mean = act["m"].to_numpy()[:, None] * (win_scale[rep_group] if win_scale is not None else 1.0)
        if skill is not None:
            mean = mean * skill[person] * rate[person]
        if self.uncertainty and self.creation_.unknown_sd > 0:  # a calendar the history is too short to show
            sd = self.creation_.unknown_sd
            mean = mean * np.exp(sd * np.random.default_rng([self.seed, 103]).standard_normal(self.draws) - sd**2 / 2)[None, :]
        counts = rng.poisson(mean, size=(len(act), self.draws))
        total = int(counts.sum())
        if total:
            # Each won deal's amount, drawn in (row, draw) order; summed per (row, draw) before the factors that are
            # the same for every deal of the row and draw (segment size, rep size, margin ratio) are applied.
            codes, segments = pd.factorize(act["segment"])
            sigma = np.append([self._sigma(s) for s in segments], np.nan)  # code -1 (no segment): NaN, as a map gives
            won = lognormal_sums(rng, counts, sigma[codes])
            np.multiply(won, np.exp(act["log_size"].to_numpy(dtype=float))[:, None], out=won, where=counts > 0)  # no deal: 0
            if size_scale is not None:
                won *= size_scale[rep_group]
            if size is not None:
                won *= size[person]
            if self.measure == "count":
                won = counts.astype(float)
            elif self.measure == "margin":
                won *= self._ratio(act["segment"])[:, None]
            out += sum_rows(cell_of_rep, won, len(cells))
        # A shared quarter shock (mean 1) correlates the reps' outcomes.
        if self.shock_sd > 0:
            shock = np.exp(self.shock_sd * rng.standard_normal(self.draws) - self.shock_sd**2 / 2)
            out *= shock[None, :]
        if len(done):  # already booked: the same in every draw
            cell_of_done = key.get_indexer(pd.MultiIndex.from_arrays([done_rep, done_team, done["segment"].to_numpy(dtype=object)]))
            out += np.bincount(cell_of_done, weights=done["value"].to_numpy(dtype=float), minlength=len(cells))[:, None]
        return ForecastDraws(period=period, cells=cells, draws=out)
