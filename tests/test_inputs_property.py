"""Property: random mixtures of valid and invalid rows, for every table. Whatever the mixture, validate exits 0 or 2
(never a traceback), rows in = used + quarantined for every table, every invalid row is quarantined with the rule
its fault breaks (and only that rule), and every valid row of the table is used with its values unchanged."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import analysis
from analysis import cli, demo
from helpers import AS_OF

#: Per table: (column, bad value, the rule it breaks). "{dup}" is replaced by the key of the table's first row.
FAULTS = {
    "opportunities": [
        ("amount", "abc", "opportunities.amount.unparseable"),
        ("amount", "-5", "opportunities.amount.negative"),
        ("amount", "inf", "opportunities.amount.unparseable"),
        ("status", "maybe", "opportunities.status.unparseable"),
        ("owner_id", "ghost", "opportunities.unknown_owner"),
        ("opportunity_id", "{dup}", "opportunities.duplicate"),
        ("created_date", "2026/01/05", "opportunities.created_date.unparseable"),
        ("created_date", "", "opportunities.created_date.missing"),
        ("probability", "250", "opportunities.probability.range"),
        (None, "ragged", "opportunities.row.fields"),
    ],
    "reps": [("fte", "2", "reps.fte.range"), ("hire_date", "someday", "reps.hire_date.unparseable"), ("rep_id", "", "reps.rep_id.missing")],
    "stage_history": [
        ("opportunity_id", "ghost", "stage_history.unknown_opportunity"),
        ("entered_date", "2026-13-01", "stage_history.entered_date.unparseable"),
    ],
    "spend": [
        ("amount", "-1", "spend.amount.negative"),
        ("month", "2026-13", "spend.month.unparseable"),
        ("category", "travel", "spend.category.unparseable"),
    ],
    "leads": [
        ("created_date", "x", "leads.created_date.unparseable"),
        ("opportunity_id", "ghost", "leads.unknown_opportunity"),
        ("lead_id", "{dup}", "leads.duplicate"),
    ],
    "quotas": [
        ("quota", "-1", "quotas.quota.negative"),
        ("period", "2026Q5", "quotas.period.unparseable"),
        ("rep_id", "ghost", "quotas.unknown_rep"),
        (None, "ragged", "quotas.row.fields"),
    ],
    "targets": [
        ("target", "0", "targets.target.zero"),
        ("target", "1e400", "targets.target.unparseable"),
        ("period", "Q1", "targets.period.unparseable"),
    ],
}
KEYS = {"opportunities": "opportunity_id", "reps": "rep_id", "leads": "lead_id"}
BASE = demo._as_text  # every table as the text a CSV export holds


@pytest.fixture(scope="module")
def company():
    tables = demo.generate(seed=11, reps=3, years=0.75, as_of=AS_OF, activities=False)
    return {name: BASE(frame) for name, frame in tables.items()}


def _corrupt(frame: pd.DataFrame, table: str, picks: list[tuple[int, int]]) -> tuple[pd.DataFrame, dict[int, str], list[int]]:
    """Apply faults to distinct rows (position, fault); returns the frame, the expected rule per 1-based row, ragged rows."""
    out, expected, ragged = frame.copy(), {}, []
    for row, fault in picks:
        column, value, rule = FAULTS[table][fault]
        if column is None:
            ragged.append(row)
        else:
            if value == "{dup}":
                value = out.iloc[0][column]
            elif value == "ghost":
                value = f"ghost-{row}"  # each its own unknown id (two alike would also be duplicates of each other)
            out.iloc[row, out.columns.get_loc(column)] = value
        expected[row + 1] = rule
    return out, expected, ragged


def _write(folder: Path, tables: dict[str, pd.DataFrame], table: str, ragged: list[int]) -> None:
    demo.write(tables, folder)
    if ragged:
        path = folder / f"{table}.csv"
        lines = path.read_text().splitlines()
        for row in ragged:
            lines[row + 1] = ",".join(lines[row + 1].split(",")[:2])
        path.write_text("\n".join(lines) + "\n")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data(), table=st.sampled_from(sorted(FAULTS)))
def test_every_invalid_row_is_quarantined_by_its_rule_and_every_valid_row_is_used_unchanged(company, tmp_path_factory, data, table):
    frame = company[table]
    n = data.draw(st.integers(1, min(8, len(frame) - 1)))
    rows = data.draw(st.lists(st.integers(1, len(frame) - 1), min_size=n, max_size=n, unique=True))
    faults = data.draw(st.lists(st.integers(0, len(FAULTS[table]) - 1), min_size=n, max_size=n))
    bad, expected, ragged = _corrupt(frame, table, list(zip(rows, faults, strict=True)))
    folder = tmp_path_factory.mktemp("mix")
    _write(folder, {**company, table: bad}, table, ragged)

    assert cli.main(["validate", "--data", str(folder), "--as-of", AS_OF]) in (0, 2)  # never a traceback
    ds = analysis.load(folder, as_of=AS_OF)
    acc = ds.accounting
    assert (acc["rows_in"] == acc["rows_used"] + acc["rows_quarantined"]).all()
    assert int(acc.set_index("table").loc[table, "rows_in"]) == len(frame)
    q = ds.quarantine[ds.quarantine["table"] == table]
    for row, rule in expected.items():
        assert set(q.loc[q["source_row"] == row, "rule"]) == {rule}, (table, row, rule, q[q["source_row"] == row])
    # The valid rows: used, in order, values unchanged (their key and one value column compared as text).
    if table in KEYS and table != "reps":
        key = KEYS[table]
        valid = frame.drop(index=[r - 1 for r in expected]).reset_index(drop=True)
        used = ds.tables[table]
        referring = ds.quarantine[(ds.quarantine["table"] == table) & ~ds.quarantine["source_row"].isin(list(expected))]
        assert referring.empty, f"valid rows quarantined: {referring[['source_row', 'rule']].head()}"
        assert used[key].tolist() == valid[key].tolist()
        if table == "opportunities":
            want = pd.to_numeric(valid["amount"].replace("", None))
            assert used["amount"].fillna(-1).tolist() == want.fillna(-1).tolist()
