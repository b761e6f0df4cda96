"""Loading, validation, quarantine, accounting, defaults and as-of snapshots."""

from __future__ import annotations

import csv
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import analysis
from analysis import cli, demo
from analysis.data import DataError, database_url
from helpers import AS_OF


def _csv_line(path: Path, source_row: int) -> dict[str, str]:
    with path.open(newline="") as fh:
        for i, row in enumerate(csv.DictReader(fh), 1):
            if i == source_row:
                return row
    raise AssertionError(f"{path} has no data row {source_row}")


def test_clean_demo_loads_with_nothing_quarantined(demo_dir):
    ds = analysis.load(demo_dir, as_of=AS_OF)
    assert ds.quarantine.empty
    acc = ds.accounting.set_index("table")
    for table, frame in ds.tables.items():
        raw_rows = len(pd.read_csv(demo_dir / f"{table}.csv"))
        assert acc.loc[table, "rows_in"] == raw_rows == len(frame)
    assert set(ds.tables) == {"reps", "opportunities", "stage_history", "spend", "leads", "quotas", "goals", "targets", "activities"}
    assert ds.ignored == []


def test_dirty_rows_are_quarantined_exactly_with_file_row_column_and_value(dirty_dir):
    ds = analysis.load(dirty_dir, as_of=AS_OF)
    got = ds.quarantine["rule"].value_counts().to_dict()
    assert got == demo.DIRTY_ROWS  # each injected row breaks exactly one rule, and nothing else is quarantined
    acc = ds.accounting
    assert (acc["rows_in"] == acc["rows_used"] + acc["rows_quarantined"]).all()
    assert acc["rows_quarantined"].sum() == sum(demo.DIRTY_ROWS.values())
    for q in ds.quarantine.itertuples():
        line = _csv_line(Path(q.file), q.source_row)  # the row and column named point at the bad value
        assert line[q.column].strip() == q.value, q
        assert q.reason and q.table in q.file


def test_used_rows_obey_the_rules(dirty_dir):
    ds = analysis.load(dirty_dir, as_of=AS_OF)
    o = ds.opportunities
    assert o["opportunity_id"].is_unique
    assert set(o["status"]) <= {"open", "won", "lost"}
    assert (o.loc[o.status == "won", "amount"] >= 0).all()
    closed = o.status != "open"
    assert o.loc[closed, "close_date"].notna().all() and o.loc[~closed, "close_date"].isna().all()
    assert (o.loc[closed, "close_date"] >= o.loc[closed, "created_date"]).all()
    assert o["owner_id"].isin(ds.reps["rep_id"]).all()
    assert (o["created_date"] <= pd.Timestamp(AS_OF)).all()


def _write(folder: Path, name: str, frame: pd.DataFrame) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.csv"
    frame.to_csv(path, index=False)
    return path


def test_table_level_problems_are_reported_together(tmp_path, capsys):
    _write(
        tmp_path,
        "opportunities",
        pd.DataFrame({"opportunity_id": ["a"], "owner_id": ["r"], "created_date": ["2025-01-01"], "close_date": [""]}),
    )
    (tmp_path / "leads.parquet").write_bytes(b"this is not parquet")
    with pytest.raises(DataError) as err:
        analysis.load(tmp_path, as_of=AS_OF)
    msg = str(err.value)
    assert len(err.value.problems) == 4
    assert "required table 'reps' is missing" in msg
    assert "column 'status'" in msg and "column 'amount'" in msg and "opportunities.csv" in msg
    assert "leads.parquet" in msg and "cannot be read" in msg
    assert all("Fix:" in str(p) for p in err.value.problems)
    assert cli.main(["validate", "--data", str(tmp_path), "--as-of", AS_OF]) == 2
    assert "required table 'reps' is missing" in capsys.readouterr().err


def test_empty_required_table_and_two_files_for_one_table(tmp_path):
    _write(tmp_path, "reps", pd.DataFrame({"rep_id": pd.Series([], dtype=str)}))
    pd.DataFrame({"rep_id": ["x"]}).to_parquet(tmp_path / "reps.parquet")
    opp_cols = ["opportunity_id", "owner_id", "created_date", "close_date", "status", "amount"]
    _write(tmp_path, "opportunities", pd.DataFrame(columns=opp_cols))
    with pytest.raises(DataError) as err:
        analysis.load(tmp_path, as_of=AS_OF)
    msg = str(err.value)
    assert "more than one file for table 'reps'" in msg and "table 'opportunities' has no rows" in msg


def test_csv_parquet_sqlite_and_duckdb_give_the_same_tables(demo_dir, tmp_path, monkeypatch):
    import sqlalchemy as sa

    ref = analysis.load(demo_dir, as_of=AS_OF)
    pq = tmp_path / "pq"
    pq.mkdir()
    for name, frame in ref.tables.items():
        frame.to_parquet(pq / f"{name}.parquet", index=False)
    sources = [str(pq)]
    for url in (f"sqlite:///{tmp_path / 'crm.sqlite'}", f"duckdb:///{tmp_path / 'crm.duckdb'}"):
        engine = sa.create_engine(url)
        for name, frame in ref.tables.items():
            frame.to_sql(name, engine, index=False)
        engine.dispose()
        sources.append(url)
    monkeypatch.delenv("QUOTACAST_DB_PASSWORD", raising=False)
    for source in sources:
        ds = analysis.load(source, as_of=AS_OF)
        assert ds.quarantine.empty, source
        for name, frame in ref.tables.items():
            pd.testing.assert_frame_equal(ds.tables[name], frame, check_dtype=True, obj=f"{source}:{name}")


def test_database_password_comes_from_the_environment_only(monkeypatch):
    with pytest.raises(DataError, match="QUOTACAST_DB_PASSWORD") as err:
        analysis.load("postgresql://analyst:hunter2@db.example/crm")
    assert "hunter2" not in str(err.value)
    monkeypatch.setenv("QUOTACAST_DB_PASSWORD", "s3cr3t-value")
    url = database_url("postgresql://analyst@db.example/crm")
    assert url.password == "s3cr3t-value"
    assert "s3cr3t-value" not in url.render_as_string(hide_password=True)
    with pytest.raises(DataError) as err:  # no driver / no server here: the message must not leak it either
        analysis.load("postgresql://analyst@127.0.0.1:9/crm")
    assert "s3cr3t-value" not in str(err.value)


def _tiny(tmp_path: Path, opps: dict, reps: dict | None = None, **tables: dict) -> Path:
    _write(tmp_path, "opportunities", pd.DataFrame(opps))
    _write(tmp_path, "reps", pd.DataFrame(reps or {"rep_id": ["r1", "r2"], "region": ["East", "West"]}))
    for name, frame in tables.items():
        _write(tmp_path, name, pd.DataFrame(frame))
    return tmp_path


def test_optional_columns_get_their_documented_defaults(tmp_path):
    folder = _tiny(
        tmp_path,
        {
            "opportunity_id": ["w1", "w2", "o1", "o2", "l1", "w3"],
            "owner_id": ["r1", "r1", "r2", "r2", "r1", "r2"],
            "account_id": ["A", "A", "A", "A", "B", ""],
            "created_date": ["2025-01-01", "2025-01-10", "2025-04-01", "2025-01-15", "2025-01-01", "2025-02-01"],
            "close_date": ["2025-02-01", "2025-03-01", "", "", "2025-02-01", "2025-03-01"],
            "status": ["Won", "won", "OPEN", "open", "lost", "won"],
            "amount": ["100", "50", "", "10", "", "7"],
        },
    )
    ds = analysis.load(folder, as_of=AS_OF)
    o = ds.opportunities.set_index("opportunity_id")
    # first won deal of an account is new; later wins expand; an open deal after a win expands; before it, new
    assert o["type"].to_dict() == {"w1": "new", "w2": "expansion", "o1": "expansion", "o2": "new", "l1": "new", "w3": "new"}
    assert o.loc["w3", "account_id"] == "w3"  # an empty account is the deal's own
    assert (o["segment"] == "all").all() and (o["lead_source"] == "unknown").all() and (o["product"] == "unknown").all()
    assert o["stage"].to_dict() == {"w1": "Won", "w2": "Won", "o1": "Open", "o2": "Open", "l1": "Lost", "w3": "Won"}
    assert o["region"].to_dict() == {"w1": "East", "w2": "East", "o1": "West", "o2": "West", "l1": "East", "w3": "West"}
    assert o["probability"].isna().all() and o["margin"].isna().all() and o["expected_close_date"].isna().all()
    r = ds.reps.set_index("rep_id")
    assert r.loc["r1", "name"] == "r1" and r.loc["r1", "team"] == "unassigned" and r.loc["r1", "fte"] == 1.0
    assert r["hire_date"].isna().all() and r["end_date"].isna().all()
    assert not ds.has("spend") and list(ds.spend.columns) == ["month", "category", "channel", "amount"]


def test_probability_in_percent_is_read_as_a_share(tmp_path):
    folder = _tiny(
        tmp_path,
        {
            "opportunity_id": ["a", "b"],
            "owner_id": ["r1", "r1"],
            "created_date": ["2025-01-01"] * 2,
            "close_date": ["", ""],
            "status": ["open", "open"],
            "amount": ["1", "2"],
            "probability": ["20", "75"],
        },
    )
    assert analysis.load(folder, as_of=AS_OF).opportunities["probability"].tolist() == [0.2, 0.75]


def test_a_quarantined_rep_quarantines_their_deals_with_its_own_reason(tmp_path):
    folder = _tiny(
        tmp_path,
        {
            "opportunity_id": ["a", "b"],
            "owner_id": ["r1", "r2"],
            "created_date": ["2025-01-01"] * 2,
            "close_date": ["", ""],
            "status": ["open", "open"],
            "amount": ["1", "2"],
        },
        reps={"rep_id": ["r1", "r2"], "hire_date": ["2020-01-01", "not a date"]},
    )
    ds = analysis.load(folder, as_of=AS_OF)
    assert ds.quarantine[["table", "source_row", "rule"]].values.tolist() == [
        ["reps", 2, "reps.hire_date.unparseable"],
        ["opportunities", 2, "opportunities.unknown_owner"],
    ]


# ------------------------------------------------------------------------------------------------
# As-of snapshots
# ------------------------------------------------------------------------------------------------
def _snapshot_fixture(tmp_path: Path):
    return _tiny(
        tmp_path,
        {
            "opportunity_id": ["early_won", "late_won", "still_open", "created_later", "lost_no_history"],
            "owner_id": ["r1", "r1", "r2", "r2", "r3"],
            "created_date": ["2025-01-05", "2025-02-01", "2025-03-01", "2025-07-01", "2025-02-01"],
            "close_date": ["2025-03-01", "2025-08-01", "", "2025-08-01", "2025-09-01"],
            "status": ["won", "won", "open", "won", "lost"],
            "amount": ["100", "200", "300", "400", ""],
            "stage": ["Closed Won", "Closed Won", "Proposal", "Closed Won", "Closed Lost"],
            "probability": ["", "", "50", "", ""],
        },
        reps={"rep_id": ["r1", "r2", "r3"], "hire_date": ["2020-01-01", "2024-01-01", "2025-08-15"], "end_date": ["2025-09-30", "", ""]},
        stage_history={
            "opportunity_id": ["late_won", "late_won", "late_won", "still_open", "still_open"],
            "stage": ["Discovery", "Proposal", "Closed Won", "Discovery", "Proposal"],
            "entered_date": ["2025-02-01", "2025-05-01", "2025-08-01", "2025-03-01", "2025-07-01"],
        },
        spend={"month": ["2025-05", "2025-06"], "category": ["marketing", "sales"], "channel": ["web", "salaries"], "amount": ["10", "20"]},
        targets={"period": ["2025Q2", "2025Q3", "2025Q4"], "target": ["1", "2", "3"]},
    )


def test_as_of_shows_the_data_as_it_stood(tmp_path):
    ds = analysis.load(_snapshot_fixture(tmp_path), as_of=AS_OF)
    # r3 was hired 2025-08-15 but owns a deal created 2025-02-01: allowed by the contract (reassigned deals).
    snap = ds.as_of("2025-06-15")
    o = snap.opportunities.set_index("opportunity_id")
    assert set(o.index) == {"early_won", "late_won", "still_open", "lost_no_history"}
    assert o.loc["early_won", "status"] == "won"
    assert o.loc["late_won", "status"] == "open" and pd.isna(o.loc["late_won", "close_date"])
    assert o.loc["late_won", "stage"] == "Proposal"  # rebuilt from history
    assert o.loc["still_open", "stage"] == "Discovery"  # entered Proposal only on 2025-07-01
    assert o.loc["lost_no_history", "stage"] == "unknown" and o.loc["lost_no_history", "status"] == "open"
    assert pd.isna(o.loc["still_open", "probability"]) is False  # an open deal keeps what it had
    assert snap.stage_history["entered_date"].max() <= pd.Timestamp("2025-06-15")
    assert snap.spend["month"].tolist() == [pd.Timestamp("2025-05-01")]  # June is not complete on 2025-06-15
    assert set(snap.reps["rep_id"]) == {"r1", "r2"} and snap.reps["end_date"].isna().all()
    assert snap.targets["period"].tolist() == ["2025Q2", "2025Q3"]
    assert snap.as_of_date == pd.Timestamp("2025-06-15")
    with pytest.raises(ValueError, match="only runs to"):
        snap.as_of("2025-07-01")


def test_snapshots_compose(demo_dir):
    ds = analysis.load(demo_dir, as_of=AS_OF)
    direct = ds.as_of("2025-09-30")
    via = ds.as_of("2026-03-31").as_of("2025-09-30")
    for name in direct.tables:
        pd.testing.assert_frame_equal(direct.tables[name], via.tables[name], obj=name)
    # Nothing in a snapshot is dated after it.
    o = direct.opportunities
    assert (o["created_date"] <= pd.Timestamp("2025-09-30")).all() and not (o["close_date"] > pd.Timestamp("2025-09-30")).any()


def test_summary_reports_date_ranges_and_reasons(dirty_dir):
    ds = analysis.load(dirty_dir, as_of=AS_OF)
    s = ds.summary().set_index("table")
    assert s.loc["opportunities", "last_date"] <= pd.Timestamp(AS_OF).date()
    qs = ds.quarantine_summary()
    assert qs["rows"].sum() == len(ds.quarantine)
    meta = json.loads((dirty_dir / "demo.json").read_text()) if (dirty_dir / "demo.json").exists() else None
    assert meta is None or meta["dirty"]


# ------------------------------------------------------------------------------------------------
# Property: rows in = rows used + rows quarantined, for any mess
# ------------------------------------------------------------------------------------------------
DATES = ["2025-01-01", "2025-02-15", "2025-06-30", "2024-12-31", "", "31/12/2025", "2030-01-01", "garbage"]
STATUSES = ["open", "won", "lost", "Won", " LOST ", "", "pending"]
AMOUNTS = ["100", "0", "", "-5", "1e3", "abc", "12.5"]
IDS = ["a", "b", "c", "d", "e", ""]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(IDS),
            st.sampled_from(["r1", "r2", "zz", ""]),
            st.sampled_from(DATES),
            st.sampled_from(DATES),
            st.sampled_from(STATUSES),
            st.sampled_from(AMOUNTS),
        ),
        min_size=1,
        max_size=25,
    ),
    reps=st.lists(st.tuples(st.sampled_from(["r1", "r2", "r3", ""]), st.sampled_from(DATES)), min_size=1, max_size=5),
    history=st.lists(st.tuples(st.sampled_from(IDS), st.sampled_from(["A", "B", ""]), st.sampled_from(DATES)), max_size=10),
)
def test_rows_in_equal_rows_used_plus_rows_quarantined(rows, reps, history):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cols = ["opportunity_id", "owner_id", "created_date", "close_date", "status", "amount"]
        _write(folder, "opportunities", pd.DataFrame(rows, columns=cols))
        _write(folder, "reps", pd.DataFrame(reps, columns=["rep_id", "hire_date"]))
        _write(folder, "stage_history", pd.DataFrame(history, columns=["opportunity_id", "stage", "entered_date"]))
        try:
            ds = analysis.load(folder, as_of="2026-01-01")
        except DataError as err:  # only table-level problems may stop a load
            assert all("has no rows" in str(p) for p in err.problems)
            return
        sizes = {"opportunities": len(rows), "reps": len(reps), "stage_history": len(history)}
        for r in ds.accounting.itertuples():
            assert r.rows_in == sizes[r.table] == r.rows_used + r.rows_quarantined
            assert r.rows_used == len(ds.tables[r.table])
            quarantined = ds.quarantine.loc[ds.quarantine["table"] == r.table, "source_row"]
            assert quarantined.nunique() == r.rows_quarantined
            assert quarantined.between(1, r.rows_in).all()


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_loading_does_not_depend_on_row_order(seed):
    tables = demo.generate(seed=5, reps=6, years=1, as_of=AS_OF, activities=False)
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as tmp:
        a, b = Path(tmp) / "a", Path(tmp) / "b"
        demo.write(tables, a)
        demo.write({k: v.sample(frac=1, random_state=rng) for k, v in tables.items()}, b)
        da, db = analysis.load(a, as_of=AS_OF), analysis.load(b, as_of=AS_OF)
    for name in da.tables:
        key = list(da.tables[name].columns)
        pd.testing.assert_frame_equal(
            da.tables[name].sort_values(key).reset_index(drop=True), db.tables[name].sort_values(key).reset_index(drop=True), obj=name
        )


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_infinite_numbers_are_quarantined_not_used(tmp_path, fmt):
    """'inf', '1e400' and '-Infinity' parse as floats but are not amounts: quarantined as not a finite number, from
    text and from a typed (Parquet) column alike; the other rows are untouched."""
    tables = demo.generate(seed=1, reps=5, years=1, as_of=AS_OF, activities=False)
    opps = tables["opportunities"].astype({"amount": "object"})
    won = opps.index[opps["status"] == "won"][:3]
    opps.loc[won, "amount"] = ["inf", "1e400", "-Infinity"]
    if fmt == "parquet":
        opps["amount"] = pd.to_numeric(opps["amount"])
    tables["opportunities"] = opps
    demo.write(tables, tmp_path, fmt=fmt)
    ds = analysis.load(tmp_path, as_of=AS_OF)
    q = ds.quarantine[ds.quarantine["table"] == "opportunities"]
    assert list(q["rule"]) == ["opportunities.amount.unparseable"] * 3 and list(q["source_row"]) == list(won + 1)
    assert (q["reason"] == "amount is not a finite number").all()
    assert np.isfinite(ds.opportunities["amount"].dropna()).all() and len(ds.opportunities) == len(opps) - 3
