"""Fiscal quarters: labels like ``2026Q1``, their bounds, and the quarter after a date; calendar months
(``2026-01``) for forecasts inside a quarter and monthly metrics.

A fiscal year is named by the calendar year in which it **ends** (pandas' ``Q-<month>`` convention):
with the fiscal year starting in February, 2026-02-01 falls in ``2027Q1``.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

#: Days in an average month (365.25 / 12): tenure and spans in months.
DAYS_PER_MONTH = 30.44

_LABEL = re.compile(r"^(\d{4})Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]


def quarter_freq(fiscal_year_start: int = 1) -> str:
    """The pandas quarterly frequency whose year ends the month before ``fiscal_year_start``."""
    if not 1 <= fiscal_year_start <= 12:
        raise ValueError(f"fiscal_year_start must be a month 1-12, got {fiscal_year_start!r}")
    return f"Q-{_MONTHS[(fiscal_year_start - 2) % 12]}"


def is_period_label(label: object) -> bool:
    return isinstance(label, str) and bool(_LABEL.match(label))


def is_month_label(label: object) -> bool:
    return isinstance(label, str) and bool(_MONTH.match(label))


def months_of(label: str, fiscal_year_start: int = 1) -> list[str]:
    """The calendar months (``2026-01``) of a fiscal quarter."""
    start, end = period_bounds(label, fiscal_year_start)
    return [str(m) for m in pd.period_range(start, end, freq="M")]


def to_period(label: str, fiscal_year_start: int = 1) -> pd.Period:
    """Parse ``2026Q1`` into a pandas Period of the fiscal calendar; a clear error otherwise."""
    if not is_period_label(label):
        raise ValueError(f"period {label!r} is not a fiscal quarter label like '2026Q1'")
    return pd.Period(label, freq=quarter_freq(fiscal_year_start))


def period_of(dates: pd.Series | pd.Timestamp | str, fiscal_year_start: int = 1):
    """Fiscal quarter label(s) of date(s). NaT gives a missing label."""
    freq = quarter_freq(fiscal_year_start)
    if isinstance(dates, pd.Series):
        # Label each distinct date once (a million deals have only a few thousand dates).
        codes, uniques = pd.factorize(dates)
        labels = pd.DatetimeIndex(uniques).to_period(freq).astype(str).to_numpy(dtype=object)
        values = np.where(codes >= 0, labels[np.clip(codes, 0, None)] if len(labels) else None, None)
        return pd.Series(values, index=dates.index, dtype="string")
    return str(pd.Timestamp(dates).to_period(freq))


def month_of(dates: pd.Series) -> pd.Series:
    """Calendar month label (``2026-01``) of each date; missing for NaT."""
    codes, uniques = pd.factorize(dates)  # each distinct date labelled once
    labels = pd.DatetimeIndex(uniques).strftime("%Y-%m").to_numpy(dtype=object)
    values = np.where(codes >= 0, labels[np.clip(codes, 0, None)] if len(labels) else None, None)
    return pd.Series(values, index=dates.index, dtype="string")


def period_labels(dates: pd.Series, freq: str = "Q", fiscal_year_start: int = 1) -> pd.Series:
    """Fiscal quarter (``freq="Q"``, ``2026Q1``) or calendar month (``freq="M"``, ``2026-01``) of each date."""
    if freq == "Q":
        return period_of(dates, fiscal_year_start)
    if freq == "M":
        return month_of(dates)
    raise ValueError(f"freq must be 'Q' or 'M', got {freq!r}")


def periods_between(first: pd.Timestamp, last: pd.Timestamp, freq: str = "Q", fiscal_year_start: int = 1) -> list[str]:
    """Every fiscal quarter (or calendar month) label from the one holding ``first`` to the one holding ``last``."""
    if freq == "Q":
        return period_range(period_of(first, fiscal_year_start), period_of(last, fiscal_year_start), fiscal_year_start)
    if freq == "M":
        return [str(p) for p in pd.period_range(pd.Timestamp(first), pd.Timestamp(last), freq="M")]
    raise ValueError(f"freq must be 'Q' or 'M', got {freq!r}")


def period_bounds(label: str, fiscal_year_start: int = 1) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day (inclusive, midnight) of a fiscal quarter (or of a calendar month, ``2026-01``)."""
    p = pd.Period(label, freq="M") if is_month_label(label) else to_period(label, fiscal_year_start)
    return p.start_time.normalize(), p.end_time.normalize()


def next_period(date: pd.Timestamp | str | None = None, fiscal_year_start: int = 1) -> str:
    """The fiscal quarter after the one containing ``date`` (default: today)."""
    date = pd.Timestamp.today().normalize() if date is None else pd.Timestamp(date)
    return str(date.to_period(quarter_freq(fiscal_year_start)) + 1)


def shift_period(label: str, n: int, fiscal_year_start: int = 1) -> str:
    return str(to_period(label, fiscal_year_start) + n)


def period_range(start: str, end: str, fiscal_year_start: int = 1) -> list[str]:
    """Every fiscal quarter label from ``start`` to ``end`` inclusive."""
    a, b = to_period(start, fiscal_year_start), to_period(end, fiscal_year_start)
    return [str(a + i) for i in range((b - a).n + 1)]


def resolve_period(label: str, today: pd.Timestamp | str | None = None, fiscal_year_start: int = 1) -> str:
    """``next`` means the quarter after ``today``; anything else must be a valid label."""
    if label == "next":
        return next_period(today, fiscal_year_start)
    to_period(label, fiscal_year_start)
    return label


def last_complete_period(as_of: pd.Timestamp | str, fiscal_year_start: int = 1) -> str:
    """The latest fiscal quarter fully known at the end of ``as_of`` (its own quarter if ``as_of`` is its last day)."""
    return shift_period(period_of(pd.Timestamp(as_of) + pd.Timedelta(days=1), fiscal_year_start), -1, fiscal_year_start)
