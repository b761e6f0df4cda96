"""Closed-deal metrics aggregated inside DuckDB equal the metrics table's rows, at the data's as-of date and at an
earlier snapshot, by quarter and by month; only the open deals need to come into memory (issue 16, point 5)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from conftest import AS_OF

import analysis
from analysis.metrics import metrics_table
from analysis.pushdown import closed_metrics_sql, closed_query, open_deals_sql, period_key

CLOSED = ["bookings", "won_deals", "lost_deals", "win_rate", "avg_deal_size", "median_deal_size", "median_cycle_days", "new_customers"]
KEY = ["metric", "dimension", "group", "period"]


@pytest.fixture(scope="module")
def database(demo_dir, tmp_path_factory):
    ds = analysis.load(demo_dir, as_of=AS_OF)
    url = f"duckdb:///{tmp_path_factory.mktemp('db') / 'crm.duckdb'}"
    engine = sa.create_engine(url)
    for name in ("opportunities", "reps"):
        ds.tables[name].to_sql(name, engine, index=False)
    engine.dispose()
    return ds, url


@pytest.mark.parametrize("freq", ["Q", "M"])
@pytest.mark.parametrize("as_of", [AS_OF, "2026-05-20"])
def test_pushed_down_closed_metrics_equal_the_tables(database, monkeypatch, freq, as_of):
    monkeypatch.delenv("QUOTACAST_DB_PASSWORD", raising=False)
    ds, url = database
    snap = ds if as_of == AS_OF else ds.as_of(as_of)
    got = closed_metrics_sql(url, as_of, freq, ds.fiscal_year_start)
    ref = metrics_table(snap, freq)
    ref = ref[ref["metric"].isin(CLOSED)]
    assert set(got["metric"]) == set(CLOSED) and set(got["dimension"]) == set(ref["dimension"])
    both = got.merge(ref, on=KEY, how="left", suffixes=("", "_table"), indicator=True)
    assert (both["_merge"] == "both").all()
    for col in ("value", "n", "lower", "upper"):
        np.testing.assert_allclose(both[col], both[f"{col}_table"], rtol=1e-9, equal_nan=True, err_msg=col)
    assert (both["note"] == both["note_table"]).all()
    # The table also lists groups without a closed deal in the period (reps employed then, with zeros).
    only = ref.merge(got[KEY], on=KEY, how="left", indicator=True)
    only = only[only["_merge"] == "left_only"]
    assert only.loc[only["metric"].isin(["won_deals", "lost_deals", "bookings"]), "value"].eq(0).all()


def test_only_the_open_deals_come_into_memory(database, monkeypatch):
    monkeypatch.delenv("QUOTACAST_DB_PASSWORD", raising=False)
    ds, url = database
    snap = ds.as_of("2026-05-20")
    open_now = open_deals_sql(url, "2026-05-20")
    expected = snap.opportunities.loc[snap.opportunities["status"].eq("open"), "opportunity_id"]
    assert sorted(open_now["opportunity_id"]) == sorted(expected)
    assert len(open_now) < len(ds.opportunities) / 2


def test_other_databases_and_frequencies_are_refused_plainly():
    with pytest.raises(ValueError, match="DuckDB and PostgreSQL only"):
        closed_query("sqlite")
    with pytest.raises(ValueError, match="freq"):
        closed_query("duckdb", freq="W")
    assert "GROUPING SETS" in closed_query("postgresql", "M", 2)


def test_fiscal_quarters_in_sql_match_the_calendar(tmp_path):
    """The SQL period key names fiscal quarters as analysis.calendar does, for every start month."""
    days = pd.Series(pd.date_range("2024-01-01", "2026-12-31", freq="D"))
    url = f"duckdb:///{tmp_path / 'days.duckdb'}"
    engine = sa.create_engine(url)
    pd.DataFrame({"close_date": days}).to_sql("o", engine, index=False)
    with engine.connect() as conn:
        for start in (1, 2, 4, 7, 11):
            keys = pd.read_sql_query(sa.text(f"SELECT {period_key('Q', start, 'close_date')} AS k FROM o ORDER BY close_date"), conn)
            keys = keys["k"].to_numpy()
            labels = [f"{k // 100}Q{k % 100}" for k in keys]
            assert labels == analysis.calendar.period_of(days, start).tolist(), start
    engine.dispose()
