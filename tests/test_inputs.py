"""Inputs as real exports arrive: every odd value quarantined with its own rule, or the file refused with one
message naming the file, column or setting — never a traceback, never a value silently changed or dropped."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import analysis
from analysis import cli, demo
from analysis.data import DataError
from analysis.mapping import MappingError
from conftest import AS_OF


@pytest.fixture(scope="module")
def tables():
    return demo.generate(seed=4, reps=5, years=1, as_of=AS_OF, activities=False)


def _folder(tmp_path: Path, tables: dict, **changes) -> Path:
    """The small company written as text CSVs, with some tables replaced by ``changes`` (name → DataFrame)."""
    out = {k: v for k, v in tables.items()}
    out.update(changes)
    demo.write(out, tmp_path)
    return tmp_path


def _text(frame: pd.DataFrame) -> pd.DataFrame:
    return demo._as_text(frame)


def _rules(ds, table: str) -> pd.Series:
    q = ds.quarantine
    return q.loc[q["table"] == table, "rule"].value_counts()


def test_a_date_is_the_date_as_written_whatever_its_offset(tmp_path, tables):
    opps = _text(tables["opportunities"])
    opps["created_date"] = opps["created_date"] + "T00:30:00+09:00"  # late in the evening the day before in UTC
    opps.loc[0, "close_date"] = opps.loc[0, "close_date"] + "T23:30:00-05:00" if opps.loc[0, "close_date"] else ""
    ds = analysis.load(_folder(tmp_path, tables, opportunities=opps), as_of=AS_OF)
    assert ds.quarantine.empty
    want = pd.to_datetime(tables["opportunities"]["created_date"]).dt.normalize()
    assert (ds.opportunities["created_date"].to_numpy() == want.to_numpy()).all(), "an offset never moves a date"


@pytest.mark.parametrize("value, rule", [("2026", "unparseable"), ("2026-01", "unparseable"), ("2026/01/05", "unparseable"),
                                         ("20260105", "unparseable"), ("2026-1-5", "unparseable"), ("2026-02-30", "unparseable"),
                                         ("0001-01-01", "range"), ("1600-06-01", "range"), ("2300-01-01", "range")])
def test_partial_foreign_and_out_of_range_dates_are_quarantined_by_their_own_rule(tmp_path, tables, value, rule):
    opps = _text(tables["opportunities"])
    opps.loc[3, "created_date"] = value
    ds = analysis.load(_folder(tmp_path, tables, opportunities=opps), as_of=AS_OF)
    q = ds.quarantine[ds.quarantine["table"] == "opportunities"]  # its stage history and lead follow it, each with its own reason
    assert list(q["rule"])[0] == f"opportunities.created_date.{rule}" and (q["source_row"] == 4).all() and q["value"].iloc[0] == value
    assert set(q["rule"]) <= {f"opportunities.created_date.{rule}", "opportunities.close_before_create"}  # 2300 is after its close


def test_a_row_with_the_wrong_number_of_fields_is_quarantined_not_the_file(tmp_path, tables):
    folder = _folder(tmp_path, tables)
    lines = (folder / "opportunities.csv").read_text().splitlines()
    lines[5] = ",".join(lines[5].split(",")[:8])  # the 5th data row: 8 fields instead of the header's
    (folder / "opportunities.csv").write_text("\n".join(lines) + "\n")
    ds = analysis.load(folder, as_of=AS_OF)
    q = ds.quarantine[ds.quarantine["table"] == "opportunities"]
    assert list(q["rule"]) == ["opportunities.row.fields"] and q["source_row"].iloc[0] == 5 and "8 fields" in q["reason"].iloc[0]
    acc = ds.accounting.set_index("table").loc["opportunities"]
    assert acc.rows_in == len(tables["opportunities"]) and acc.rows_quarantined == 1 and acc.rows_used == acc.rows_in - 1
    # The rows after it keep their own row numbers.
    o = ds.opportunities.set_index("opportunity_id")
    assert len(o) == len(tables["opportunities"]) - 1 and tables["opportunities"]["opportunity_id"].iloc[4] not in o.index


def test_a_cell_of_megabytes_is_read(tmp_path, tables):
    opps = _text(tables["opportunities"])
    opps["notes"] = ""
    opps.loc[2, "notes"] = "x" * 2_000_000
    ds = analysis.load(_folder(tmp_path, tables, opportunities=opps), as_of=AS_OF)
    assert ds.quarantine.empty and len(ds.opportunities) == len(opps)
    assert ds.ignored_columns == {"opportunities": ["notes"]}


def test_a_repeated_column_header_is_refused_naming_the_column(tmp_path, tables):
    folder = _folder(tmp_path, tables)
    text = (folder / "opportunities.csv").read_text().splitlines()
    header = text[0].split(",")
    (folder / "opportunities.csv").write_text("\n".join([",".join([*header, "amount"])] + [line + ",1" for line in text[1:]]) + "\n")
    with pytest.raises(DataError) as err:
        analysis.load(folder, as_of=AS_OF)
    assert "opportunities.csv" in str(err.value) and "names column 'amount' 2 times" in str(err.value)


def test_a_parquet_float_id_matches_its_integer_twin(tmp_path, tables):
    reps = tables["reps"].copy()
    codes = {r: i + 1 for i, r in enumerate(reps["rep_id"])}
    reps["rep_id"] = reps["rep_id"].map(codes).astype("int64")
    opps = tables["opportunities"].copy()
    opps["owner_id"] = opps["owner_id"].map(codes).astype("float64")  # 8.0, as a float column of another system
    for name, frame in {"reps": reps, "opportunities": opps}.items():
        frame.to_parquet(tmp_path / f"{name}.parquet", index=False)
    ds = analysis.load(tmp_path, as_of=AS_OF)
    assert ds.quarantine.empty and set(ds.opportunities["owner_id"]) <= set(ds.reps["rep_id"]) and "1" in set(ds.reps["rep_id"])


def test_a_boolean_amount_column_is_not_a_number(tmp_path, tables):
    reps = tables["reps"]
    opps = tables["opportunities"].assign(amount=True)
    for name, frame in {"reps": reps, "opportunities": opps}.items():
        frame.to_parquet(tmp_path / f"{name}.parquet", index=False)
    ds = analysis.load(tmp_path, as_of=AS_OF)
    assert _rules(ds, "opportunities").get("opportunities.amount.unparseable", 0) == len(opps)
    assert cli.main(["validate", "--data", str(tmp_path), "--as-of", AS_OF]) == 2  # nothing usable is left: refused


def test_spend_and_leads_without_their_defaulted_columns_load(tmp_path, tables):
    spend = tables["spend"].drop(columns="channel").groupby(["month", "category"], as_index=False)["amount"].sum()
    leads = tables["leads"].drop(columns="source")
    ds = analysis.load(_folder(tmp_path, tables, spend=spend, leads=leads), as_of=AS_OF)
    assert ds.quarantine.empty and (ds.spend["channel"] == "all").all() and (ds.leads["source"] == "unknown").all()


def test_an_empty_channel_and_all_are_the_same_spend_line(tmp_path, tables):
    spend = tables["spend"]
    row = spend.iloc[[0]]
    twice = pd.concat([spend, row.assign(channel="all"), row.assign(channel="all").assign(channel=None)], ignore_index=True)
    ds = analysis.load(_folder(tmp_path, tables, spend=twice), as_of=AS_OF)
    assert _rules(ds, "spend").to_dict() == {"spend.duplicate": 1}


def test_a_rename_onto_an_existing_column_is_refused(tmp_path, tables):
    folder = _folder(tmp_path, tables)
    mapping = tmp_path / "m.yaml"
    mapping.write_text("tables:\n  opportunities:\n    rename: {margin: amount}\n")
    with pytest.raises(MappingError, match=r"m.yaml: tables.opportunities.rename maps 'margin' onto 'amount'"):
        analysis.load(folder, mapping=mapping, as_of=AS_OF)
    res = subprocess.run([sys.executable, "-m", "analysis", "validate", "--data", str(folder), "--mapping", str(mapping), "--as-of", AS_OF],
                         capture_output=True, text=True)
    assert res.returncode == 2 and "Traceback" not in res.stderr


def test_a_bad_date_format_names_the_mapping_file_and_line(tmp_path):
    mapping = tmp_path / "m.yaml"
    mapping.write_text("name: x\ndate_formats: ['%Q/%Y']\n")
    with pytest.raises(MappingError, match=r"m.yaml \(line 2\): date_formats: '%Q/%Y' is not a date format"):
        analysis.mapping.load_mapping(str(mapping))


def test_constants_fill_what_is_empty_and_keep_what_is_there(tables):
    from analysis.mapping import parse_mapping

    m = parse_mapping({"tables": {"opportunities": {"constants": {"segment": "SMB"}}}})
    frame = pd.DataFrame({"segment": ["Enterprise", None, ""]})
    assert m.apply("opportunities", frame)["segment"].tolist() == ["Enterprise", "SMB", "SMB"]


def test_an_open_deals_expected_close_date_is_kept_when_mapped(tables):
    from analysis.mapping import parse_mapping

    m = parse_mapping({"tables": {"opportunities": {"open_close_date_to_expected": True}}})
    frame = pd.DataFrame({"status": ["open", "open", "won"], "close_date": ["2027-01-10", "2027-02-01", "2026-10-01"],
                          "expected_close_date": ["2027-03-31", None, None]})
    out = m.apply("opportunities", frame)
    assert out["expected_close_date"].tolist()[:2] == ["2027-03-31", "2027-02-01"] and out["close_date"].tolist()[:2] == [None, None]
    assert out["close_date"].iloc[2] == "2026-10-01"


@pytest.mark.parametrize("make, words", [
    (lambda d: (d / "opportunities.csv").rename(d / "opportunities.CSV"), "found opportunities.CSV: file names are case-sensitive"),
    (lambda d: ((d / "opportunities.csv").unlink(), (d / "opportunities.csv").mkdir()), "opportunities.csv is a folder, not a file"),
    (lambda d: ((d / "opportunities.csv").unlink(), os.symlink(d / "opportunities.csv", d / "opportunities.csv")),
     "opportunities.csv is a link that leads to no file"),
])
def test_a_required_file_under_a_wrong_name_or_not_a_file_says_what_was_found(tmp_path, tables, make, words):
    folder = _folder(tmp_path, tables)
    make(folder)
    with pytest.raises(DataError) as err:
        analysis.load(folder, as_of=AS_OF)
    assert "required table 'opportunities' is missing" in str(err.value) and words in str(err.value)


def test_files_and_columns_outside_the_contract_are_listed_as_ignored(tmp_path, tables, capsys):
    folder = _folder(tmp_path, tables)
    (folder / "README.txt").write_text("hello")
    (folder / "opportunities.csv.bak").write_text("old")
    reps = _text(tables["reps"]).assign(nickname="x")
    reps.to_csv(folder / "reps.csv", index=False)
    ds = analysis.load(folder, as_of=AS_OF)
    assert ds.ignored == ["README.txt", "opportunities.csv.bak"] and ds.ignored_columns == {"reps": ["nickname"]}
    assert cli.main(["validate", "--data", str(folder), "--as-of", AS_OF]) == 0
    out = capsys.readouterr().out
    assert "README.txt, opportunities.csv.bak" in out and "Ignored columns of reps" in out and "nickname" in out


def test_a_single_offset_date_among_plain_dates_loads(tmp_path, tables):
    opps = _text(tables["opportunities"])
    opps.loc[7, "created_date"] = opps.loc[7, "created_date"] + "T08:00:00+02:00"
    ds = analysis.load(_folder(tmp_path, tables, opportunities=opps), as_of=AS_OF)
    assert ds.quarantine.empty and np.isfinite(ds.opportunities["created_date"].astype("int64")).all()


def test_a_day_first_date_format_on_iso_data_leaves_nothing_usable_and_is_refused(tmp_path, tables):
    folder = _folder(tmp_path, tables)
    mapping = tmp_path / "m.yaml"
    mapping.write_text('date_formats: ["%d/%m/%Y"]\n')  # ISO dates read day-first: none is a date
    ds = analysis.load(folder, mapping=mapping, as_of=AS_OF)
    assert ds.opportunities.empty and _rules(ds, "opportunities").get("opportunities.created_date.unparseable", 0) > 0
    assert cli.main(["validate", "--data", str(folder), "--mapping", str(mapping), "--as-of", AS_OF]) == 2
