"""The forecast's front door: :func:`forecast_report` fits the pipeline model (and its recalibrated variant) and the
time-series models, backtests them on rolling origins, weighs them into a combination and returns one
:class:`ForecastReport` — the draws the headline, the chances, the team ranges and the quotas all come from, and every
model's table beside them as a comparison (docs/methods.md §3)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pandas as pd

from analysis.backtest import start_backtest
from analysis.calendar import months_of, next_period, period_bounds, period_of, shift_period
from analysis.config import DEFAULT_RAMP
from analysis.data import Dataset
from analysis.draws import ForecastDraws
from analysis.pipeline_model import PipelineForecaster
from analysis.series import SeriesForecaster, combination_weights, combine, combined_backtest, model_scores, series_backtest

THREADS = 2  # the machine the run is sized for has two cores; more threads only contend for the interpreter
THREADED_FROM = 50_000  # deals: below, the work is mostly pandas holding the interpreter and one thread is as fast


@dataclass
class ForecastReport:
    """Everything the forecast page and the run need: ``sims`` (the pipeline draws of the planned period, for the
    quotas, from the pipeline variant in ``pipeline_method``), ``table`` (forecast.csv: every level, period of the
    horizon and method, ``combined`` included), ``weights`` (which model carries how much weight per level, and
    why) and ``backtest`` (every method's rolling origin, the combination scored with earlier cutoffs' weights
    only)."""

    sims: ForecastDraws
    table: pd.DataFrame
    weights: pd.DataFrame
    backtest: pd.DataFrame
    pipeline_method: str = "pipeline"
    pipeline: PipelineForecaster | None = None  # the fitted model of that variant (its calendar, owners, features)

    def headline(self, period: str | None = None) -> pd.DataFrame:
        """The forecast to show, for ``period`` (default the planned one): the pipeline variant whose draws also give
        the chance of each target, the team ranges and the quotas — one distribution everywhere. The combination
        and the time-series models stay in ``table`` as comparisons, named as such."""
        period = period or self.sims.period
        t = self.table[self.table["period"] == period]
        return t[t["method"] == self.pipeline_method].reset_index(drop=True)


def _predicted(pipe: PipelineForecaster, name: str, period: str, keep: bool) -> tuple[pd.DataFrame, ForecastDraws | None]:
    """The table of ``pipe``'s forecast of ``period``, and its draws if ``keep`` (the rest are dropped at once: at 2,000
    reps every period's draws together took 1.7 GB)."""
    draws = pipe.predict(period)
    return draws.table(method=name), draws if keep else None


def _series(ds: Dataset, periods: list[str], draws: int, seed: int, backtest_quarters: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The time-series models' forecasts of ``periods`` and their backtest."""
    models = SeriesForecaster(draws=min(draws, 1000), seed=seed).fit(ds).predict(periods)
    return models, series_backtest(ds, n=backtest_quarters, make=lambda: SeriesForecaster(draws=500, seed=seed))


def forecast_periods(ds: Dataset, period: str, horizon: int = 4) -> list[str]:
    """The planned ``period`` and the quarters after the as-of date's quarter up to ``horizon`` of them."""

    first = next_period(ds.as_of_date, ds.fiscal_year_start)
    periods = [shift_period(first, k, ds.fiscal_year_start) for k in range(horizon)]
    return periods if period in periods else [period, *periods]


def inside_periods(ds: Dataset, period: str) -> list[str]:
    """Periods only the pipeline model forecasts: the quarter under way at the as-of date (a nowcast: booked so far
    plus the rest) and its months still to come, then the months of the planned ``period``."""
    fy = ds.fiscal_year_start
    now = period_of(ds.as_of_date, fy)
    out = []
    if period_bounds(now, fy)[1] > ds.as_of_date:
        month = str(ds.as_of_date.to_period("M"))
        out += [now, *[m for m in months_of(now, fy) if m >= month]]
    out += [m for m in months_of(period, fy) if m not in out]
    return [p for p in out if p != period]


def forecast_report(
    ds: Dataset,
    period: str,
    horizon: int = 4,
    draws: int = 2000,
    seed: int = 0,
    backtest_quarters: int = 6,
    ramp_schedule: tuple[float, ...] = DEFAULT_RAMP,
    recalibrate_quarters: int = 4,
) -> ForecastReport:
    """Pipeline model (every level, rep draws for ``period``), the time-series models (company, team, segment),
    their backtests and the backtest-weighted combination, for ``period`` and the next ``horizon`` quarters; the
    pipeline model also month by month and for the quarter under way (:func:`inside_periods`).

    With ``recalibrate_quarters`` > 0 a second pipeline variant, ``pipeline_recalibrated``, corrects the open deals'
    win chances with what the model's own past quarters showed (``PipelineForecaster(recalibrate=…)``); both enter
    the combination, and the rep draws for the quotas come from whichever scored the lower company-level pinball
    loss in the backtest."""

    periods = forecast_periods(ds, period, horizon)
    inside = inside_periods(ds, period)
    variants = {"pipeline": 0} | ({"pipeline_recalibrated": recalibrate_quarters} if recalibrate_quarters else {})
    every = [*periods, *inside]
    # Two threads: the simulations spend their time in numpy, which lets another thread run meanwhile. Every forecast
    # draws from its own seeded stream, so the tables are the same as one after the other.
    with ThreadPoolExecutor(max_workers=THREADS if len(ds.opportunities) >= THREADED_FROM else 1) as pool:
        series_job = pool.submit(_series, ds, periods, draws, seed, backtest_quarters)  # one thread: it silences warnings
        fitted, sims, bts = {}, {}, {}
        for name, k in variants.items():
            pipe = PipelineForecaster(draws=draws, seed=seed, ramp_schedule=ramp_schedule, recalibrate=k).fit(ds)
            if k and pipe.calibrator_ is None:  # too little to learn a correction from: the variant would be the plain model again
                continue
            fitted[name] = pipe
            sims[name] = [pool.submit(_predicted, pipe, name, p, p == period) for p in every]

            def make(k: int = k) -> PipelineForecaster:
                return PipelineForecaster(draws=min(draws, 1000), seed=seed, ramp_schedule=ramp_schedule, recalibrate=k)

            # The quota step replays its quotas on the plain model's backtest draws: only those are kept.
            bts[name] = start_backtest(ds, n=backtest_quarters, make=make, pool=pool, keep_rep_draws=not k)
        made = {name: [job.result() for job in jobs] for name, jobs in sims.items()}
        bts = [bts[name]().assign(method=name) for name in bts]
        models, series_bt = series_job.result()
    draws_for = {name: next(d for _, d in parts if d is not None) for name, parts in made.items()}
    tables = [pd.concat([t for t, _ in parts], ignore_index=True) for parts in made.values()]
    bt_all = pd.concat([*bts, series_bt], ignore_index=True)
    weights = combination_weights(bt_all)
    chosen = "pipeline"
    scored = model_scores(bt_all[bt_all["method"].isin(list(variants)) & (bt_all["level"] == "company")])
    if len(scored) == len(fitted) > 1:
        chosen = str(scored.sort_values(["pinball", "method"]).iloc[0]["method"])
    pipeline = pd.concat(tables, ignore_index=True)
    whole = pipeline[(pipeline["level"] != "rep") & pipeline["period"].isin(periods)]  # quarters the time series forecast too
    # A combination needs two models with weight at a level; one alone is shown as itself.
    weighted = weights[weights["weight"] > 0].groupby("level")["method"].nunique() if len(weights) else pd.Series(dtype=int)
    several = list(weighted[weighted > 1].index)
    combined = combine(pd.concat([whole, models], ignore_index=True), weights[weights["level"].isin(several)])
    table = pd.concat([combined, pipeline, models], ignore_index=True)
    scored_combination = combined_backtest(bt_all)
    if len(scored_combination):
        scored_combination = scored_combination[scored_combination["level"].isin(several)]
    backtests = pd.concat([bt_all, scored_combination], ignore_index=True)
    return ForecastReport(draws_for[chosen], table, weights, backtests, chosen, fitted[chosen])
