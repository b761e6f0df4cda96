"""The metrics table: every number a sales organisation runs on, defined once (``docs/metrics.md``).

:func:`metrics_table` returns one long table with columns ``metric``, ``dimension``, ``group``, ``period``,
``value``, ``n``, ``lower``, ``upper``, ``note`` for ``dimension`` in company (group ``all``), team, segment,
rep and lead_source, by fiscal quarter (``freq="Q"``) or month (``freq="M"``). ``n`` is the number of
observations behind the value; ``lower``/``upper`` the interval (90 % by default) where one makes sense;
``note`` says why a value is missing or how to read it — a value is never silently NaN.

The families of metrics are computed in :mod:`analysis.outcomes`, :mod:`analysis.funnel`, :mod:`analysis.pipeline`,
:mod:`analysis.attainment` and :mod:`analysis.acquisition` on the grouping engine of :mod:`analysis.grouping`,
with the formulas of :mod:`analysis.formulas`; this module puts them into one table and names the public API.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pandas as pd
from threadpoolctl import threadpool_limits

from analysis.acquisition import cac_metrics, default_cac_lag
from analysis.attainment import attainment_metrics
from analysis.calendar import periods_between
from analysis.data import Dataset
from analysis.definitions import definitions
from analysis.formulas import cac_payback_months, expected_attainment, lognormal_mean, ltv, required_coverage, wilson
from analysis.funnel import lead_metrics, stage_metrics
from analysis.grouping import COLUMNS, DIM_COLUMN, DIMENSIONS, finish, owner_teams, period_codes
from analysis.outcomes import closed_metrics, cohort_metrics, shrunk_metrics
from analysis.pipeline import coverage_metrics, velocity, velocity_by, velocity_metrics

__all__ = [
    "COLUMNS",
    "DIMENSIONS",
    "cac_payback_months",
    "definitions",
    "expected_attainment",
    "lognormal_mean",
    "ltv",
    "metrics_table",
    "required_coverage",
    "velocity",
    "velocity_by",
    "wilson",
]


def metrics_table(
    ds: Dataset,
    freq: str = "Q",
    dimensions=DIMENSIONS,
    interval: float = 0.9,
    cac_lag_months: int | None = None,
    gross_margin: float | None = None,
    revenue_per_customer: float | None = None,
    min_at_risk: int = 50,
) -> pd.DataFrame:
    """Every metric of ``docs/metrics.md`` for the periods from the first deal to the as-of date.

    ``cac_lag_months`` defaults to the company's median won cycle in whole months; CAC payback needs
    ``gross_margin`` (share) and ``revenue_per_customer`` (monthly recurring revenue of a new customer).
    The current period is partial (``note`` says so on its rows).
    """
    for dim in dimensions:
        if dim not in DIM_COLUMN:
            raise ValueError(f"unknown dimension {dim!r}; choose from {DIMENSIONS}")
    # The shrinkage priors are fitted by L-BFGS-B, whose 2 × 2 linear algebra goes through OpenBLAS: its worker threads
    # cost ~3 ms a call on a busy 2-core machine (1.5 s of the table at a million deals), nothing single-threaded.
    with threadpool_limits(limits=1, user_api="blas"):
        return _table(ds, freq, dimensions, interval, cac_lag_months, gross_margin, revenue_per_customer, min_at_risk)


def _table(
    ds: Dataset,
    freq: str,
    dimensions,
    interval: float,
    cac_lag_months: int | None,
    gross_margin: float | None,
    revenue_per_customer: float | None,
    min_at_risk: int,
) -> pd.DataFrame:
    """:func:`metrics_table`'s work."""
    fy = ds.fiscal_year_start
    needed = ["owner_id", "segment", "lead_source", "created_date", "close_date", "status", "amount", "type"]
    deals = ds.opportunities[needed]  # every filter below copies the frame: carry only what is used
    if deals.empty:
        return pd.DataFrame(columns=COLUMNS)
    first = deals["created_date"].min()
    periods = periods_between(first, ds.as_of_date, freq, fy)
    deals["period_created"] = period_codes(deals["created_date"], freq, fy)
    deals["period_closed"] = period_codes(deals["close_date"], freq, fy)
    for col in sorted({DIM_COLUMN[d] for d in DIMENSIONS} - {None, "team"} | {"status", "type"}):
        deals[col] = deals[col].astype("category")  # factorised once: groupings reuse the codes, comparisons are cheap
    deals.insert(1, "team", owner_teams(deals["owner_id"], ds.reps))  # the owner's team (unassigned if none)
    # The families are independent (each only reads ``deals`` and ``ds``) and mostly NumPy/Arrow work that releases
    # the GIL: two threads take them largest first, each the next one when it is free, so that both end together
    # for quarters and months alike. The table lists them in a fixed order, whichever ends first.
    jobs: dict[str, tuple] = {
        "closed": (closed_metrics, deals, ds, periods, freq, dimensions, interval),
        "cohort": (cohort_metrics, deals, ds.as_of_date, dimensions, interval, min_at_risk),
    }
    if "rep" in dimensions:
        jobs["shrunk"] = (shrunk_metrics, deals, interval)
    if ds.has("spend"):
        lag = cac_lag_months if cac_lag_months is not None else default_cac_lag(deals)
        jobs["cac"] = (cac_metrics, deals, ds, periods, freq, lag, gross_margin, revenue_per_customer)
    quota_dims = [d for d in dimensions if d in ("company", "team", "rep")]
    if ds.has("quotas") and freq == "Q" and quota_dims:
        jobs["attainment"] = (attainment_metrics, deals, ds, quota_dims, interval)
    if ds.has("stage_history"):
        jobs["stage"] = (stage_metrics, ds, freq, interval, min_at_risk)
    if freq == "Q":
        jobs["coverage"] = (coverage_metrics, deals, ds, periods, dimensions, min_at_risk)
    jobs["velocity"] = (velocity_metrics, deals, ds.as_of_date, dimensions, freq, fy, min_at_risk)
    lead_dims = [d for d in dimensions if d in ("company", "lead_source")]
    if ds.has("leads") and lead_dims:
        jobs["leads"] = (lead_metrics, ds, freq, lead_dims, interval)
    largest_first = ("stage", "cohort", "coverage", "closed", "shrunk", "velocity", "leads", "attainment", "cac")
    with ThreadPoolExecutor(max_workers=2) as pool:
        running = {name: pool.submit(*jobs[name]) for name in largest_first if name in jobs}
        parts = [running[name].result() for name in jobs]
    table = pd.concat([p for p in parts if len(p)], ignore_index=True)[COLUMNS]
    return finish(table, ds.as_of_date, freq, fy)
