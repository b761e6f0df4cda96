"""The calendar in the pipeline model: when deals are created (month of year, trend) and when they are won (the
quarter-end rush).

**Creation.** A rep's creation rate is learned over the last year; the deals not yet created fall in a particular quarter
(a summer slump, a December lull) and later in time (a team that creates more each year). :func:`creation_profile`
fits, on the company's monthly counts of created deals per *ramped rep-day* (so hiring and ramp-up are not taken for
a trend), a quasi-Poisson log-linear model::

    log E[created in month m] = log(ramped rep-days in m) + α + β·t_m + γ_(month of year)

and :class:`CreationProfile` turns it into a factor by day, relative to the average over the window in which the
rates were learned. Each coefficient is shrunk towards 0 by max(0, 1 − se²/estimate²), so an effect the data
cannot tell from noise is not extrapolated; the trend multiplier is held within [2/3, 3/2].

**Closing.** Deals are won by age (the cumulative-incidence curves), but reps pull deals due early in the next
quarter into the last days of this one (Oyer 1998; Larkin 2014): the first weeks of a quarter are thin, its last
week thick. :func:`closing_pattern` measures the surplus of wins in the last week of the quarter against the rate of
the quarter's middle weeks and reads it as a share ρ of the wins due in the first ``pull_days`` of a quarter that are
pulled into the week before it (shrunk by max(0, 1 − se²/ρ²)). The model then counts, for a period, the wins due
in its first ``pull_days`` at (1 − ρ), the rest at 1, and those due in the first ``pull_days`` of the next quarter
at ρ.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.calendar import DAYS_PER_MONTH, quarter_freq
from analysis.config import DEFAULT_RAMP
from analysis.ramp import ramp_factor

#: Months of history needed before a trend (a year) or a month-of-year pattern (two years) is estimated.
MIN_MONTHS_TREND = 24
MIN_MONTHS_SEASON = 24
TREND_LIMITS = (2 / 3, 3 / 2)
#: With under two years of months neither the month-of-year pattern nor the trend can be told apart, so neither is
#: extrapolated; the forecast instead carries this much (log-sd) uncertainty about the level of creation ahead.
UNKNOWN_CALENDAR_SD = 0.15


def _shrink(estimate: np.ndarray, se: np.ndarray) -> np.ndarray:
    est = np.asarray(estimate, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        keep = np.clip(1.0 - (np.asarray(se, dtype=float) / est) ** 2, 0.0, 1.0)
    return np.where(np.isfinite(keep), est * keep, 0.0)


@dataclass
class CreationProfile:
    """A fitted creation profile: ``trend`` (shrunk log change per year), ``season`` (shrunk log effect by calendar
    month 1–12, summing to 0), the window the reps' rates describe (``window_start``, ``window_end``), and the fit
    itself as ``monthly`` (month, created, exposure, fitted)."""

    trend: float = 0.0
    season: pd.Series = field(default_factory=lambda: pd.Series(0.0, index=range(1, 13)))
    window_start: pd.Timestamp | None = None
    window_end: pd.Timestamp | None = None
    monthly: pd.DataFrame = field(default_factory=pd.DataFrame)
    unknown_sd: float = 0.0  # log-sd of what a history too short to show the calendar leaves unknown (UNKNOWN_CALENDAR_SD)

    def _log_level(self, dates: pd.DatetimeIndex) -> np.ndarray:
        years = (dates - self.window_end).days.to_numpy(dtype=float) / 365.25
        trend = np.clip(self.trend * years, *np.log(TREND_LIMITS))
        return trend + self.season.reindex(dates.month).to_numpy(dtype=float)

    def factor(self, dates) -> np.ndarray:
        """Creation rate on each date relative to the average over the rate window (1 = as learned)."""
        dates = pd.DatetimeIndex(dates)
        if self.window_end is None:
            return np.ones(len(dates))
        window = pd.date_range(self.window_start + pd.Timedelta(days=1), self.window_end, freq="D")
        return np.exp(self._log_level(dates)) / np.mean(np.exp(self._log_level(window)))

    def summary(self) -> pd.DataFrame:
        """``month`` (1–12), ``factor`` (seasonal multiplier, geometric mean 1) and the yearly ``trend`` multiplier."""
        return pd.DataFrame(
            {"month": range(1, 13), "factor": np.exp(self.season.to_numpy(dtype=float)), "trend": float(np.exp(self.trend))}
        )


def ramped_exposure(
    reps: pd.DataFrame,
    months: pd.PeriodIndex,
    as_of: pd.Timestamp,
    ramp_schedule: tuple[float, ...],
    schedules: dict[str, tuple[float, ...]] | None = None,
) -> np.ndarray:
    """Ramped rep-days per month: each rep's days employed in the month (up to ``as_of``) × their ramp factor at
    mid-month. ``reps`` needs ``hire_date`` and ``end_date`` (and ``segment`` for ``schedules``, the ramp by
    segment; others follow ``ramp_schedule``)."""
    m_start = months.to_timestamp().to_numpy()
    m_end = (months + 1).to_timestamp().to_numpy()
    far = np.datetime64("1900-01-01")
    hire = reps["hire_date"].to_numpy(dtype="datetime64[ns]")
    end = reps["end_date"].to_numpy(dtype="datetime64[ns]")
    lo = np.maximum(m_start[None, :], np.where(np.isnat(hire), far, hire)[:, None])
    last = np.datetime64(as_of + pd.Timedelta(days=1))
    hi = np.minimum(np.minimum(m_end[None, :], np.where(np.isnat(end), last, end + np.timedelta64(1, "D"))[:, None]), last)
    days = np.maximum((hi - lo) / np.timedelta64(1, "D"), 0.0)
    mid = m_start + (m_end - m_start) / 2
    tenure = np.where(np.isnat(hire)[:, None], np.nan, ((mid[None, :] - hire[:, None]) / np.timedelta64(1, "D")) / DAYS_PER_MONTH)
    factor = ramp_factor(np.maximum(tenure, 0.0), ramp_schedule)
    if schedules and "segment" in reps:
        for seg, schedule in schedules.items():
            sel = (reps["segment"] == seg).to_numpy()
            factor[sel] = ramp_factor(np.maximum(tenure[sel], 0.0), schedule)
    return (days * factor).sum(axis=0)


def creation_profile(
    opps: pd.DataFrame,
    reps: pd.DataFrame,
    as_of: pd.Timestamp,
    rate_days: int = 365,
    ramp_schedule: tuple[float, ...] = DEFAULT_RAMP,
    max_months: int = 48,
    schedules: dict[str, tuple[float, ...]] | None = None,
) -> CreationProfile:
    """Fit the creation profile on up to ``max_months`` months before ``as_of`` (the last one may be partial).

    ``opps`` needs ``created_date``; ``reps`` ``hire_date`` and ``end_date``. With fewer than 12 months of
    history, or no exposure, the profile is flat (factor 1 everywhere)."""
    import statsmodels.api as sm

    as_of = pd.Timestamp(as_of)
    window = (as_of - pd.Timedelta(days=rate_days), as_of)
    if opps.empty:
        return CreationProfile(window_start=window[0], window_end=window[1], unknown_sd=UNKNOWN_CALENDAR_SD)
    first = max(opps["created_date"].min(), as_of - pd.DateOffset(months=max_months))
    months = pd.period_range(first.to_period("M") + 1, as_of.to_period("M"), freq="M")  # first month may be partial: left out
    created = opps["created_date"].dt.to_period("M").value_counts().reindex(months, fill_value=0).to_numpy(dtype=float)
    exposure = ramped_exposure(reps, months, as_of, ramp_schedule, schedules)
    ok = exposure > 0
    months, created, exposure = months[ok], created[ok], exposure[ok]
    if len(months) < MIN_MONTHS_TREND or created.sum() == 0:
        return CreationProfile(window_start=window[0], window_end=window[1], unknown_sd=UNKNOWN_CALENDAR_SD)
    mid = months.to_timestamp() + pd.to_timedelta(months.days_in_month / 2, unit="D")
    t = (mid - as_of).days.to_numpy(dtype=float) / 365.25
    cols = {"const": np.ones(len(t)), "trend": t}
    seasonal = len(months) >= MIN_MONTHS_SEASON
    if seasonal:  # effect coding: month k's column is 1 in month k, −1 in December
        moy = months.month.to_numpy()
        for k in range(1, 12):
            cols[f"m{k}"] = (moy == k).astype(float) - (moy == 12).astype(float)
    X = pd.DataFrame(cols)
    fit = sm.GLM(created, X, family=sm.families.Poisson(), offset=np.log(exposure)).fit(scale="X2")
    trend = float(_shrink(fit.params["trend"], fit.bse["trend"]))
    season = pd.Series(0.0, index=range(1, 13))
    if seasonal:
        names = [f"m{k}" for k in range(1, 12)]
        contrast = np.vstack([np.eye(11), -np.ones(11)])  # months 1–12 from the 11 coded effects
        est = contrast @ fit.params[names].to_numpy()
        se = np.sqrt(np.einsum("ij,jk,ik->i", contrast, fit.cov_params().loc[names, names].to_numpy(), contrast))
        shrunk = _shrink(est, se)
        season[:] = shrunk - shrunk.mean()
    monthly = pd.DataFrame({"month": months.astype(str), "created": created, "exposure": exposure, "fitted": fit.fittedvalues.to_numpy()})
    return CreationProfile(trend=trend, season=season, window_start=window[0], window_end=window[1], monthly=monthly)


WEEKS = 13  # weeks of a quarter; the last one takes the quarter's remaining days (6 to 8)


def day_of_quarter(dates, fiscal_year_start: int = 1) -> np.ndarray:
    """0-based day of the fiscal quarter of each date."""
    dates = pd.DatetimeIndex(dates)
    return (dates - dates.to_period(quarter_freq(fiscal_year_start)).start_time).days.to_numpy()


def week_of_quarter(dates, fiscal_year_start: int = 1) -> np.ndarray:
    """0-based week of the fiscal quarter of each date (0–12; days 84 on are week 12)."""
    return np.minimum(day_of_quarter(dates, fiscal_year_start) // 7, WEEKS - 1)


@dataclass
class ClosingPattern:
    """The quarter-end pull: share ``rho`` of the wins due in the first ``pull_days`` of a quarter closed in the week
    before it instead; ``weeks`` shows the data (week, days, wins, expected at the middle weeks' rate, ratio)."""

    rho: float = 0.0
    pull_days: int = 21
    fiscal_year_start: int = 1
    weeks: pd.DataFrame = field(default_factory=pd.DataFrame)

    def spans(self, first: pd.Timestamp, last: pd.Timestamp) -> list[tuple[pd.Timestamp, pd.Timestamp, float]]:
        """Which days' natural wins count for a period's days ``first``–``last`` (a quarter, a month, or what is left
        of one) and with what weight: (from, to, weight), inclusive. Days in the first ``pull_days`` of their quarter
        count at 1 − ρ, the others at 1; where the period takes in a quarter's end, the first ``pull_days`` of the
        next quarter count at ρ."""
        day = pd.Timedelta(days=1)
        out = []
        for q in pd.period_range(first, last, freq=quarter_freq(self.fiscal_year_start)):
            q_start, q_end = q.start_time.normalize(), q.end_time.normalize()
            a, b = max(first, q_start), min(last, q_end)
            pulled_end = q_start + pd.Timedelta(days=self.pull_days - 1)
            out += [(a, min(pulled_end, b), 1.0 - self.rho), (max(a, pulled_end + day), b, 1.0)]
            if self.rho > 0 and q_end <= last:
                out.append((q_end + day, q_end + pd.Timedelta(days=self.pull_days), self.rho))
        return [(a, b, w) for a, b, w in out if a <= b and w > 0]


def closing_pattern(
    won_dates: pd.Series, first: pd.Timestamp, as_of: pd.Timestamp, fiscal_year_start: int = 1, pull_days: int = 21
) -> ClosingPattern:
    """The quarter-end pull from the deals won between ``first`` and ``as_of`` (``won_dates``: their close dates).
    Needs about two years of history and 200 wins, else no pull (ρ = 0)."""
    first = pd.Timestamp(first)
    days = pd.date_range(first + pd.Timedelta(days=1), as_of, freq="D")
    dates = won_dates[(won_dates > first) & (won_dates <= as_of)]
    if len(days) < 2 * 365 - 31 or len(dates) < 200:
        return ClosingPattern(pull_days=pull_days, fiscal_year_start=fiscal_year_start)
    day_week = week_of_quarter(days, fiscal_year_start)
    exposure = np.bincount(day_week, minlength=WEEKS).astype(float)
    wins = np.bincount(week_of_quarter(dates, fiscal_year_start), minlength=WEEKS).astype(float)
    middle = slice(4, WEEKS - 1)  # weeks 5–12: neither thinned nor rushed
    rate = wins[middle].sum() / exposure[middle].sum()
    surplus = wins[-1] - rate * exposure[-1]
    due = rate * float((day_of_quarter(days, fiscal_year_start) < pull_days).sum())  # natural wins in the pullable days
    rho = surplus / due if due > 0 else 0.0
    se = np.sqrt(rate * exposure[-1]) / due if due > 0 else np.inf  # Poisson noise of the last week's count
    rho = float(np.clip(_shrink(np.array([rho]), np.array([se]))[0], 0.0, 0.9))
    weeks = pd.DataFrame(
        {
            "week": np.arange(1, WEEKS + 1),
            "days": exposure,
            "wins": wins,
            "expected": rate * exposure,
            "ratio": wins / np.where(exposure > 0, rate * exposure, np.nan),
        }
    )
    return ClosingPattern(rho=rho, pull_days=pull_days, fiscal_year_start=fiscal_year_start, weeks=weeks)
