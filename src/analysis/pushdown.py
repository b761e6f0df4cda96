"""The closed-in-period metrics computed inside a database (DuckDB or PostgreSQL, an SQLAlchemy URL), so that
only per-group summaries, and the deals still open, come into memory.

:func:`closed_metrics_sql` returns the rows :func:`metrics.metrics_table` gives for ``bookings``, ``won_deals``,
``lost_deals``, ``win_rate``, ``avg_deal_size``, ``median_deal_size``, ``median_cycle_days`` and
``new_customers`` — the groups with closed deals; the table also lists, with zeros, groups and employed reps
without any — from one ``GROUPING SETS`` query over the ``opportunities`` and ``reps`` tables, read as the
data stood at ``as_of`` (:meth:`data.Dataset.as_of`). A first step: the tables must already be in the data
contract's complete shape, as :func:`data.load` gives them (no mapping is applied, nothing is quarantined, and the
columns the load fills in — deal ``type``, ``segment``, ``lead_source`` — must be there), and the normal run still
loads every row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa

from analysis.data import database_url
from analysis.grouping import DIM_COLUMN, DIMENSIONS, finish
from analysis.outcomes import closed_rows

#: Days from creation to close of a won deal, as each database writes a difference of dates.
_CYCLE = {
    "duckdb": "date_diff('day', CAST(o.created_date AS DATE), CAST(o.close_date AS DATE))",
    "postgresql": "(CAST(o.close_date AS DATE) - CAST(o.created_date AS DATE))",
}


def period_key(freq: str = "Q", fiscal_year_start: int = 1, column: str = "o.close_date") -> str:
    """SQL for the period of ``column`` as one integer, year × 100 + fiscal quarter (``freq="Q"``) or calendar month
    (``"M"``); the fiscal year is named by the calendar year it ends in (:mod:`analysis.calendar`)."""
    year, month = f"CAST(EXTRACT(YEAR FROM {column}) AS INTEGER)", f"CAST(EXTRACT(MONTH FROM {column}) AS INTEGER)"
    if freq == "M":
        return f"({year} * 100 + {month})"
    if freq != "Q":
        raise ValueError(f"freq must be 'Q' or 'M', got {freq!r}")
    fy = int(fiscal_year_start)
    shifted = f"(({month} - {fy} + 12) % 12)"
    later = f"(CASE WHEN {fy} > 1 AND {month} >= {fy} THEN 1 ELSE 0 END)"
    return f"(({year} + {later}) * 100 + CAST(FLOOR({shifted} / 3.0) AS INTEGER) + 1)"


def closed_query(backend: str, freq: str = "Q", fiscal_year_start: int = 1) -> str:
    """The one query: closed deals at ``:as_of`` aggregated per period for the company and per team, segment,
    rep and lead source (``GROUPING SETS``); ``gset`` tells which."""
    if backend not in _CYCLE:
        raise ValueError(f"closed metrics are pushed down to DuckDB and PostgreSQL only, not {backend!r}")
    won = "o.status = 'won'"
    return f"""
WITH d AS (
    SELECT o.owner_id, COALESCE(r.team, 'unassigned') AS team, o.segment, o.lead_source, o.status,
           CASE WHEN {won} THEN o.amount END AS won_amount,
           CASE WHEN {won} THEN {_CYCLE[backend]} END AS won_cycle,
           CASE WHEN {won} AND o.type = 'new' THEN 1 ELSE 0 END AS new_customer,
           {period_key(freq, fiscal_year_start)} AS period_key
    FROM opportunities o
    LEFT JOIN (SELECT rep_id, team FROM reps WHERE hire_date IS NULL OR hire_date <= :as_of) r ON r.rep_id = o.owner_id
    WHERE o.created_date <= :as_of AND o.close_date <= :as_of AND o.status IN ('won', 'lost')
)
SELECT GROUPING(team, segment, owner_id, lead_source) AS gset, team, segment, owner_id, lead_source, period_key,
       SUM(CASE WHEN status = 'won' THEN 1 ELSE 0 END) AS won_deals,
       SUM(CASE WHEN status = 'lost' THEN 1 ELSE 0 END) AS lost_deals,
       SUM(won_amount) AS bookings,
       AVG(won_amount) AS mean_size,
       STDDEV_SAMP(won_amount) AS sd_size,
       PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY won_amount) AS median_size,
       PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY won_cycle) AS median_cycle,
       SUM(new_customer) AS new_customers
FROM d
GROUP BY GROUPING SETS ((period_key), (team, period_key), (segment, period_key), (owner_id, period_key), (lead_source, period_key))
"""


#: GROUPING(team, segment, owner_id, lead_source) of each dimension's grouping set (1 = not grouped by it).
_GSET = {"company": 0b1111, "team": 0b0111, "segment": 0b1011, "rep": 0b1101, "lead_source": 0b1110}


def closed_metrics_sql(
    url: str,
    as_of: str | pd.Timestamp,
    freq: str = "Q",
    fiscal_year_start: int = 1,
    dimensions=DIMENSIONS,
    interval: float = 0.9,
) -> pd.DataFrame:
    """The closed-in-period metrics of the deals in the database at ``url``, aggregated there: the columns of
    the metrics table, one row per metric and group with closed deals (see the module's opening)."""
    as_of = pd.Timestamp(as_of).normalize()
    engine = sa.create_engine(database_url(url))
    try:
        with engine.connect() as conn:
            sql = closed_query(engine.dialect.name, freq, fiscal_year_start)
            agg = pd.read_sql_query(sa.text(sql), conn, params={"as_of": as_of.to_pydatetime()})
    finally:
        engine.dispose()
    return closed_rows_of(agg, as_of, freq, fiscal_year_start, dimensions, interval)


def closed_rows_of(agg: pd.DataFrame, as_of: pd.Timestamp, freq: str, fiscal_year_start: int, dimensions, interval: float) -> pd.DataFrame:
    """The metrics table's rows from :func:`closed_query`'s result."""
    key = agg["period_key"].to_numpy(dtype=np.int64)
    if freq == "Q":
        agg["period"] = [f"{k // 100}Q{k % 100}" for k in key]
    else:
        agg["period"] = [f"{k // 100}-{k % 100:02d}" for k in key]
    parts = []
    for dim in dimensions:
        col = DIM_COLUMN[dim]
        rows = agg[agg["gset"].to_numpy() == _GSET[dim]]
        group = pd.Series("all", index=rows.index) if col is None else rows[col]
        keep = group.notna().to_numpy()  # a deal without a segment (say) is in no segment's group, as in the table
        parts.append(rows[keep].assign(dimension=dim, group=group[keep].astype(str)))
    a = pd.concat(parts, ignore_index=True)
    for col in ("won_deals", "lost_deals", "new_customers"):
        a[col] = a[col].astype(float)
    a["bookings"] = a["bookings"].astype(float).fillna(0.0)  # won deals without an amount book nothing
    for col in ("mean_size", "sd_size", "median_size", "median_cycle"):
        a[col] = a[col].astype(float)
    return finish(closed_rows(a, interval), as_of, freq, fiscal_year_start)


def open_deals_sql(url: str, as_of: str | pd.Timestamp) -> pd.DataFrame:
    """The deals open at ``as_of`` (created by then, not closed by then): the pipeline, the only deals that have
    to come into memory."""
    as_of = pd.Timestamp(as_of).normalize()
    sql = """
SELECT * FROM opportunities
WHERE created_date <= :as_of AND (status = 'open' OR close_date IS NULL OR close_date > :as_of)
"""
    engine = sa.create_engine(database_url(url))
    try:
        with engine.connect() as conn:
            return pd.read_sql_query(sa.text(sql), conn, params={"as_of": as_of.to_pydatetime()})
    finally:
        engine.dispose()
