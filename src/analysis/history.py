"""How much history a dataset holds: the fiscal quarters its deals cover whole, and how many past quarters a
backtest can replay from it (each model needs its own number of quarters before a cutoff)."""

from __future__ import annotations

import pandas as pd

from analysis.calendar import last_complete_period, period_bounds, period_of, shift_period, to_period
from analysis.data import Dataset


def last_record(ds: Dataset) -> pd.Timestamp | None:
    """The latest date the opportunities hold (created or closed): how far the extract really reaches."""
    o = ds.opportunities
    if o.empty:
        return None
    return max(o["created_date"].max(), o["close_date"].max()) if o["close_date"].notna().any() else o["created_date"].max()


def complete_quarters(ds: Dataset, upto: str | None = None) -> list[str]:
    """Fiscal quarters wholly covered by the data, oldest first: from the first quarter that starts on or after the
    first deal's creation to ``upto`` (default: the last complete quarter at the as-of date, or at the data's last
    record when the extract stops earlier: a stale extract does not cover the quarters after it)."""
    fy = ds.fiscal_year_start
    created = ds.opportunities["created_date"]
    if created.empty:
        return []
    last = upto or last_complete_period(min(ds.as_of_date, last_record(ds)), fy)
    begin = created.min()
    first = period_of(begin, fy)
    if period_bounds(first, fy)[0] < begin:
        first = shift_period(first, 1, fy)
    n = (to_period(last, fy) - to_period(first, fy)).n + 1
    return [shift_period(first, k, fy) for k in range(max(n, 0))]


def replayable_quarters(ds: Dataset, wanted: int, min_quarters: int = 1) -> int:
    """How many of the last ``wanted`` complete quarters a backtest can replay: a quarter counts when the data held
    at least ``min_quarters`` complete quarters before it began (what the model needs to learn from)."""
    return int(max(0, min(wanted, len(complete_quarters(ds)) - min_quarters)))


def rolling_origins(ds: Dataset, n: int = 6, min_quarters: int = 1, lead_days: int = 0):
    """The last ``n`` complete quarters the data cover, oldest first, each as (``period``, ``cutoff``, ``snapshot``):
    the cutoff is the last day of the quarter before (``lead_days`` earlier still, for a forecast made that far
    ahead), the snapshot the data as they stood then (nothing later visible). Only quarters with at least
    ``min_quarters`` complete quarters of data before them are replayed (:func:`analysis.history.replayable_quarters`),
    so a short history gives fewer origins, never empty ones."""
    for period, cutoff in origins(ds, n, min_quarters, lead_days):
        yield period, cutoff, ds.as_of(cutoff)


def origins(ds: Dataset, n: int = 6, min_quarters: int = 1, lead_days: int = 0) -> list[tuple[str, pd.Timestamp]]:
    """The (``period``, ``cutoff``) pairs of :func:`rolling_origins`, without their snapshots (for a caller that may
    find what it needs already computed)."""
    fy = ds.fiscal_year_start
    covered = complete_quarters(ds)
    k = replayable_quarters(ds, n, min_quarters)
    return [
        (period, period_bounds(shift_period(period, -1, fy), fy)[1] - pd.Timedelta(days=lead_days))
        for period in (covered[len(covered) - k :] if k else [])
    ]
