"""How much history a dataset holds: the fiscal quarters its deals cover whole, and how many past quarters a
backtest can replay from it (each model needs its own number of quarters before a cutoff)."""

from __future__ import annotations

from analysis.calendar import last_complete_period, period_bounds, period_of, shift_period, to_period
from analysis.data import Dataset


def complete_quarters(ds: Dataset, upto: str | None = None) -> list[str]:
    """Fiscal quarters wholly covered by the data, oldest first: from the first quarter that starts on or after the
    first deal's creation to ``upto`` (default: the last complete quarter at the as-of date)."""
    fy = ds.fiscal_year_start
    last = upto or last_complete_period(ds.as_of_date, fy)
    created = ds.opportunities["created_date"]
    if created.empty:
        return []
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
