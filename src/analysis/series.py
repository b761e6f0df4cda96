"""Time-series forecasts of quarterly bookings and their combination with the pipeline model (docs/methods.md §3.2–3.4).

:class:`SeriesForecaster` fits, per level (company, team, segment) and group, on complete quarters known at the
as-of date: the **seasonal naive** forecast (the same quarter last year, with the spread of past year-on-year
changes) — the baseline every model must beat — **ETS** (damped additive trend, additive seasonality once there
are two years) and **SARIMAX** (AR(1) on the seasonal difference with a seasonal MA(1) from ten quarters on;
AR(1) with a constant before). Each gives p10 / p50 / p90 and a mean.
Short series make maximum-likelihood intervals too narrow (σ̂² divides by n, and the parameters are taken as
known); both models' spreads are widened by sqrt(n / (n − k) · (1 + k / n)) for k fitted parameters, which the
seeded-truth tests show brings the 80 % interval back to about 80 %.

:func:`combination_weights` weighs the models of a level by their backtest accuracy (inverse scaled pinball loss
over p10 / p50 / p90; a model that does not beat the seasonal naive on MASE gets no weight unless none does);
:func:`combine` averages the models' quantiles with those weights (quantile averaging keeps the combined
interval as sharp as its parts). :func:`combined_backtest` scores the combination honestly: the weights at each
cutoff come only from the cutoffs before it.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from analysis.backtest import naive_scale, pinball, quarterly_bookings
from analysis.calendar import last_complete_period, next_period, period_bounds, period_of, period_range
from analysis.data import Dataset
from analysis.history import rolling_origins

MODELS = ("seasonal_naive", "ets", "sarimax")
QUANTILES = (0.1, 0.5, 0.9)
COLUMNS = ["level", "group", "period", "mean", "p10", "p50", "p90", "method"]


def quarterly_series(ds: Dataset, level: str) -> pd.DataFrame:
    """Won bookings per complete quarter (rows) and group (columns): from the first quarter the data cover
    whole (an extract that starts mid-quarter leaves that quarter out) to the last complete quarter at the as-of
    date; zero where a group booked nothing, from the group's first booking on."""

    fy = ds.fiscal_year_start
    last = last_complete_period(ds.as_of_date, fy)
    begin = ds.opportunities["created_date"].min()
    first = period_of(pd.Series([begin]), fy).iloc[0] if pd.notna(begin) else None
    if first is not None and period_bounds(first, fy)[0] < begin:
        first = next_period(period_bounds(first, fy)[1], fy)
    q = quarterly_bookings(ds, level)
    q = q[(q["period"] <= last) & ((q["period"] >= first) if first is not None else True)]
    if q.empty:
        return pd.DataFrame()
    periods = period_range(q["period"].min(), last, fy)
    wide = q.pivot(index="period", columns="group", values="bookings").reindex(periods)
    first = wide.notna().idxmax()
    for g in wide.columns:
        wide.loc[wide.index >= first[g], g] = wide.loc[wide.index >= first[g], g].fillna(0.0)
    return wide


def history(ds: Dataset, level: str = "company") -> pd.DataFrame:
    """Complete quarters' bookings in tidy form (``group``, ``period``, ``bookings``), as the models see them."""
    wide = quarterly_series(ds, level)
    return wide.rename_axis("period").reset_index().melt(id_vars="period", var_name="group", value_name="bookings").dropna()


def _seasonal_naive(y: np.ndarray, hs: list[int], draws: int, rng: np.random.Generator) -> dict[int, np.ndarray]:
    season = 4 if len(y) >= 6 else 1
    changes = y[season:] - y[:-season]
    out = {}
    for h in hs:
        base = y[len(y) - season + ((h - 1) % season)]
        steps = (h - 1) // season + 1  # one year-on-year change per year ahead
        out[h] = base + rng.choice(changes, size=(draws, steps)).sum(axis=1) if len(changes) else np.full(draws, base)
    return out


def _small_sample(n: int, k: int) -> float:
    """Widening for a model of k parameters fitted on n points: the maximum-likelihood σ² (÷ n) made unbiased
    (÷ (n − k)), and the parameters' own uncertainty added (≈ σ²·k/n): sqrt(n / (n − k) · (1 + k / n))."""
    if n - k < 2:
        raise ValueError(f"{k} parameters on {n} quarters leave too few degrees of freedom")
    return float(np.sqrt(n / (n - k) * (1 + k / n)))


def _ets(y: np.ndarray, hs: list[int], draws: int, seed: int) -> dict[int, np.ndarray]:
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    seasonal = "add" if len(y) >= 8 else None
    model = ETSModel(y, error="add", trend="add", damped_trend=True, seasonal=seasonal, seasonal_periods=4 if seasonal else None)
    fit = model.fit(disp=False, maxiter=200)
    sims = np.asarray(fit.simulate(nsimulations=max(hs), anchor="end", repetitions=draws, rng=np.random.default_rng(seed)))
    sims = sims.reshape(max(hs), -1)
    center = np.asarray(fit.forecast(max(hs)))
    widen = _small_sample(len(y), len(fit.params))
    return {h: center[h - 1] + (sims[h - 1] - center[h - 1]) * widen for h in hs}


def _sarimax(y: np.ndarray, hs: list[int], draws: int, rng: np.random.Generator) -> dict[int, np.ndarray]:
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    # No covariance of the parameters (cov_type="none"): the forecast's spread does not use it, and it is the
    # slowest part of a fit on a short series.
    if len(y) >= 10:  # seasonal difference with a seasonal MA: a stable quarterly pattern that may drift
        fit = SARIMAX(y, order=(1, 0, 0), seasonal_order=(0, 1, 1, 4), trend="n").fit(disp=False, cov_type="none")
    else:
        fit = SARIMAX(y, order=(1, 0, 0), trend="c").fit(disp=False, cov_type="none")
    f = fit.get_forecast(max(hs))
    mean, se = np.asarray(f.predicted_mean), np.asarray(f.se_mean) * _small_sample(len(y), len(fit.params))
    z = rng.standard_normal(draws)
    return {h: mean[h - 1] + se[h - 1] * z for h in hs}


def model_draws(y: np.ndarray, hs: list[int], model: str, draws: int = 1000, seed: int = 0) -> dict[int, np.ndarray]:
    """Simulated values of a quarterly series ``y`` ``h`` steps after its end, for each h in ``hs`` and one model
    (``seasonal_naive``, ``ets``, ``sarimax``); not floored at 0."""
    rng = np.random.default_rng([seed, MODELS.index(model)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if model == "seasonal_naive":
            return _seasonal_naive(y, hs, draws, rng)
        if model == "ets":
            return _ets(y, hs, draws, seed)
        return _sarimax(y, hs, draws, rng)


def _forecast_group(level: str, group: str, y: np.ndarray, seed: int, models, hs: list[int], periods: list[str], draws: int):
    """Every model's forecast rows for one group's series, and what could not be fitted."""
    rows, skipped = [], []
    for model in models:
        try:
            sims = model_draws(y, hs, model, draws, seed)
        except (ValueError, np.linalg.LinAlgError) as err:  # a fit that cannot be made is reported, not fatal
            skipped.append((level, group, model, str(err)[:120]))
            continue
        for period, h in zip(periods, hs, strict=True):
            x = np.maximum(sims[h], 0.0)  # bookings are not negative
            q = np.quantile(x, QUANTILES)
            rows.append(
                {
                    "level": level,
                    "group": group,
                    "period": period,
                    "mean": float(x.mean()),
                    "p10": q[0],
                    "p50": q[1],
                    "p90": q[2],
                    "method": model,
                }
            )
    return rows, skipped


class SeriesForecaster(BaseEstimator):
    """Seasonal naive, ETS and SARIMAX on each group's quarterly bookings. Settings here; ``fit`` reads the
    series known at a snapshot's as-of date; ``predict`` forecasts a later quarter (1 to 4+ steps ahead).

    Parameters: ``models`` (which of :data:`MODELS`), ``draws`` (simulations per group for the intervals), ``seed``,
    ``min_quarters`` (complete quarters a group needs), ``levels`` (company, team, segment), ``n_jobs`` (processes;
    None: one below 40 groups, every core above). Learned: ``fiscal_year_start_``, ``last_`` (the last complete
    quarter), ``series_`` (quarterly bookings per level), ``skipped_`` (groups with too little history, and why).
    """

    def __init__(
        self,
        models: tuple[str, ...] = MODELS,
        draws: int = 1000,
        seed: int = 0,
        min_quarters: int = 6,
        levels: tuple[str, ...] = ("company", "team", "segment"),
        n_jobs: int | None = None,
    ):
        unknown = set(models) - set(MODELS)
        if unknown:
            raise ValueError(f"unknown model(s) {sorted(unknown)}; known: {MODELS}")
        self.models = models
        self.draws = draws
        self.seed = seed
        self.min_quarters = min_quarters
        self.levels = levels
        self.n_jobs = n_jobs  # None: one process below 40 groups, every core above

    def fit(self, ds: Dataset) -> SeriesForecaster:
        self.fiscal_year_start_ = ds.fiscal_year_start
        self.last_ = last_complete_period(ds.as_of_date, ds.fiscal_year_start)
        self.series_ = {level: quarterly_series(ds, level) for level in self.levels}
        self.skipped_ = [
            (level, group, "all", f"{n} quarters of history, {self.min_quarters} needed")
            for level, wide in self.series_.items()
            for group, n in wide.notna().sum().items()
            if n < self.min_quarters
        ]
        return self

    def predict(self, periods: str | list[str]) -> pd.DataFrame:
        """``level``, ``group``, ``period``, ``mean``, ``p10``, ``p50``, ``p90``, ``method`` (the model), for one
        quarter or several (each model is fitted once per group). A group with fewer than ``min_quarters``
        quarters is left out (``skipped_``, from ``fit``); a model that fails to fit is left out and said in the
        result's ``attrs["skipped"]``."""
        periods = [periods] if isinstance(periods, str) else list(periods)
        hs = [len(period_range(self.last_, p, self.fiscal_year_start_)) - 1 for p in periods]
        if min(hs) < 1:
            raise ValueError(f"{periods[hs.index(min(hs))]} is not after the last complete quarter {self.last_}")
        tasks = []
        for level, wide in self.series_.items():
            for i, group in enumerate(wide.columns):
                y = wide[group].dropna().to_numpy(dtype=float)
                if len(y) >= self.min_quarters:
                    tasks.append((level, str(group), y, self.seed * 1000 + i))
        n_jobs = self.n_jobs if self.n_jobs is not None else (1 if len(tasks) < 40 else -1)
        if n_jobs == 1:
            done = [_forecast_group(*t, self.models, hs, periods, self.draws) for t in tasks]
        else:  # many groups: the fits are independent and seeded per group, so spreading them over cores changes nothing
            from joblib import Parallel, delayed

            done = Parallel(n_jobs=n_jobs)(delayed(_forecast_group)(*t, self.models, hs, periods, self.draws) for t in tasks)
        rows = [row for part_rows, _ in done for row in part_rows]
        out = pd.DataFrame(rows, columns=COLUMNS)
        out.attrs["skipped"] = [skip for _, skips in done for skip in skips]
        return out


def series_backtest(ds: Dataset, n: int = 6, make=None) -> pd.DataFrame:
    """The time-series models' rolling-origin backtest, in the schema of :func:`analysis.backtest.backtest` plus
    ``method``: for each of the last ``n`` complete quarters, fit on the data as of the end of the quarter before."""

    make = make or (lambda: SeriesForecaster())
    rows = []
    booked: dict[str, pd.DataFrame] = {}
    for target, cutoff, snap in rolling_origins(ds, n, make().min_quarters):  # no origin before the models could fit
        f = make().fit(snap).predict(target)
        for level, part in f.groupby("level"):
            hist = quarterly_bookings(snap, level)
            scale = {g: naive_scale(hh.sort_values("period")["bookings"]) for g, hh in hist.groupby("group")}
            actual = booked[level] if level in booked else booked.setdefault(level, quarterly_bookings(ds, level))
            actual = actual[actual["period"] == target].set_index("group")["bookings"]
            for r in part.itertuples():
                rows.append(
                    {
                        "cutoff": cutoff.date().isoformat(),
                        "level": level,
                        "group": r.group,
                        "period": target,
                        "actual": float(actual.get(r.group, 0.0)),
                        "mean": r.mean,
                        "p10": r.p10,
                        "p50": r.p50,
                        "p90": r.p90,
                        "scale": scale.get(r.group, np.nan),
                        "method": r.method,
                    }
                )
    return pd.DataFrame(rows, columns=["cutoff", "level", "group", "period", "actual", "mean", "p10", "p50", "p90", "scale", "method"])


def _scaled_pinball(b: pd.DataFrame) -> pd.Series:
    """Mean of the p10 / p50 / p90 pinball losses, scaled like MASE."""

    return sum(pinball(b["actual"], b[c], t) for c, t in (("p10", 0.1), ("p50", 0.5), ("p90", 0.9))) / 3 / b["scale"]


def model_scores(bt: pd.DataFrame) -> pd.DataFrame:
    """Per level and method: mean scaled pinball loss over p10/p50/p90, MASE and the number of backtest points."""
    b = bt[bt["scale"] > 0]
    b = b.assign(pinball=_scaled_pinball(b), ase=np.abs(b["actual"] - b["p50"]) / b["scale"])
    return b.groupby(["level", "method"]).agg(pinball=("pinball", "mean"), mase=("ase", "mean"), n=("ase", "size")).reset_index()


def combination_weights(bt: pd.DataFrame, min_cutoffs: int = 3) -> pd.DataFrame:
    """Weights per level from a backtest with a ``method`` column: ``level``, ``method``, ``pinball``, ``mase``,
    ``relative_pinball``, ``n``, ``cutoffs``, ``weight``, ``why``.

    Each model is compared with the seasonal naive on the cutoffs and groups both forecast (like with like, so a
    model with a shorter history is not judged on other quarters): ``relative_pinball`` = its scaled pinball loss
    ÷ the naive's there. Weight ∝ 1 / relative pinball among the models whose MASE beats the naive's on those
    rows and that were backtested on at least ``min_cutoffs`` quarters; when none qualifies (a short history),
    every model with enough quarters (or every model) is weighted ∝ 1 / its own pinball loss, the naive included."""
    cols = ["level", "method", "pinball", "mase", "relative_pinball", "n", "cutoffs", "weight", "why"]
    b = bt[bt["scale"] > 0]
    if b.empty:
        return pd.DataFrame(columns=cols)
    b = b.assign(pinball=_scaled_pinball(b), ase=np.abs(b["actual"] - b["p50"]) / b["scale"])
    out = []
    for level, g in b.groupby("level"):
        naive = g[g["method"] == "seasonal_naive"].set_index(["cutoff", "group"])[["pinball", "ase"]]
        rows = []
        for method, m in g.groupby("method"):
            own = m.set_index(["cutoff", "group"])[["pinball", "ase"]]
            both = own.join(naive.add_suffix("_naive"), how="inner")
            rel = both["pinball"].mean() / both["pinball_naive"].mean() if len(both) and both["pinball_naive"].mean() > 0 else np.nan
            beats = bool(len(both) and both["ase"].mean() < both["ase_naive"].mean()) and method != "seasonal_naive"
            rows.append(
                {
                    "level": level,
                    "method": method,
                    "pinball": float(m["pinball"].mean()),
                    "mase": float(m["ase"].mean()),
                    "relative_pinball": float(rel) if method != "seasonal_naive" else 1.0,
                    "n": int(len(m)),
                    "cutoffs": int(m["cutoff"].nunique()),
                    "beats": beats,
                }
            )
        r = pd.DataFrame(rows)
        enough = r["cutoffs"] >= min_cutoffs
        eligible = r["beats"] & enough & r["relative_pinball"].notna()
        if eligible.any():
            inv = np.where(eligible, 1.0 / r["relative_pinball"].clip(lower=1e-12), 0.0)
            r["weight"] = inv / inv.sum()
            r["why"] = np.where(
                eligible,
                "weight ∝ 1 / pinball loss relative to the seasonal naive",
                np.where(
                    r["method"] == "seasonal_naive",
                    "baseline: other models beat it",
                    np.where(
                        ~enough,
                        f"no weight: backtested on fewer than {min_cutoffs} quarters",
                        "no weight: does not beat the seasonal naive",
                    ),
                ),
            )
        else:
            share = enough if enough.any() else pd.Series(True, index=r.index)
            inv = np.where(share, 1.0 / r["pinball"].clip(lower=1e-12), 0.0)
            r["weight"] = inv / inv.sum()
            r["why"] = np.where(
                share,
                "no model has yet beaten the seasonal naive over enough quarters: weight ∝ 1 / pinball loss",
                f"no weight: backtested on fewer than {min_cutoffs} quarters",
            )
        out.append(r.drop(columns="beats"))
    return pd.concat(out, ignore_index=True)[cols]


def combine(forecasts: pd.DataFrame, weights: pd.DataFrame) -> pd.DataFrame:
    """Weighted average of the models' mean and quantiles per level, group and period (method ``combined``).
    A group missing a model uses the weights of the models it has, renormalised."""
    w = weights.set_index(["level", "method"])["weight"]
    f = forecasts.copy()
    f["w"] = [w.get((lv, m), 0.0) for lv, m in zip(f["level"], f["method"], strict=True)]
    f = f[f["w"] > 0]
    if f.empty:
        return pd.DataFrame(columns=COLUMNS)
    cols = ["mean", "p10", "p50", "p90"]
    weighted = f[cols].mul(f["w"], axis=0).assign(level=f["level"], group=f["group"], period=f["period"], w=f["w"])
    g = weighted.groupby(["level", "group", "period"], sort=False).sum()
    out = g[cols].div(g["w"], axis=0).reset_index()
    out["method"] = "combined"
    return out[COLUMNS]


def combined_backtest(bt: pd.DataFrame) -> pd.DataFrame:
    """The combination scored honestly: at each cutoff, weights from the earlier cutoffs only (equal weights at the
    first). Same schema as the input, method ``combined``."""
    cutoffs = sorted(bt["cutoff"].unique())
    parts = []
    for c in cutoffs:
        now = bt[bt["cutoff"] == c]
        past = bt[bt["cutoff"] < c]
        weights = combination_weights(past) if len(past) else pd.DataFrame()
        if weights.empty:  # the first cutoff, or nothing scorable before it: equal weights
            methods = now.groupby("level")["method"].unique()
            weights = pd.DataFrame(
                [(lv, m, 1.0 / len(ms)) for lv, ms in methods.items() for m in ms], columns=["level", "method", "weight"]
            )
        comb = combine(now[COLUMNS], weights)
        meta = now.drop_duplicates(["level", "group"]).set_index(["level", "group"])[["cutoff", "actual", "scale"]]
        comb = comb.join(meta, on=["level", "group"])
        parts.append(comb)
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    return out[["cutoff", "level", "group", "period", "actual", "mean", "p10", "p50", "p90", "scale", "method"]] if len(out) else out
