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
from helpers import AS_OF


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


@pytest.mark.parametrize(
    "value, rule",
    [
        ("2026", "unparseable"),
        ("2026-01", "unparseable"),
        ("2026/01/05", "unparseable"),
        ("20260105", "unparseable"),
        ("2026-1-5", "unparseable"),
        ("2026-02-30", "unparseable"),
        ("0001-01-01", "range"),
        ("1600-06-01", "range"),
        ("2300-01-01", "range"),
    ],
)
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
    res = subprocess.run(
        [sys.executable, "-m", "analysis", "validate", "--data", str(folder), "--mapping", str(mapping), "--as-of", AS_OF],
        capture_output=True,
        text=True,
    )
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
    frame = pd.DataFrame(
        {
            "status": ["open", "open", "won"],
            "close_date": ["2027-01-10", "2027-02-01", "2026-10-01"],
            "expected_close_date": ["2027-03-31", None, None],
        }
    )
    out = m.apply("opportunities", frame)
    assert out["expected_close_date"].tolist()[:2] == ["2027-03-31", "2027-02-01"] and out["close_date"].tolist()[:2] == [None, None]
    assert out["close_date"].iloc[2] == "2026-10-01"


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda d: (d / "opportunities.csv").rename(d / "opportunities.CSV"), "found opportunities.CSV: file names are case-sensitive"),
        (lambda d: ((d / "opportunities.csv").unlink(), (d / "opportunities.csv").mkdir()), "opportunities.csv is a folder, not a file"),
        (
            lambda d: ((d / "opportunities.csv").unlink(), os.symlink(d / "opportunities.csv", d / "opportunities.csv")),
            "opportunities.csv is a link that leads to no file",
        ),
    ],
)
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


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def test_a_quote_that_never_closes_is_refused_naming_its_line(tmp_path, tables):
    folder = _folder(tmp_path, tables)
    lines = _lines(folder / "opportunities.csv")
    lines[5] = lines[5].replace(",", ',"', 1)  # opens a quote in the second field of line 6 and never closes it
    (folder / "opportunities.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError) as err:
        analysis.load(folder, as_of=AS_OF)
    assert "line 6: a quote opens in column 'owner_id' and does not close" in str(err.value)
    assert "required table 'opportunities' is missing" not in str(err.value), "an unreadable file is said once"


def test_rows_keep_their_line_with_blank_lines_and_values_over_several_lines(tmp_path, tables):
    opps = _text(tables["opportunities"])
    opps.loc[1, "product"] = "Core\nwith notes"  # a value over two lines
    folder = _folder(tmp_path, tables, opportunities=opps)
    lines = _lines(folder / "opportunities.csv")
    lines[7:7] = ["", ""]  # two blank lines after line 7
    target = 12  # the line that now holds a row we break
    lines[target - 1] = lines[target - 1].replace(",open,", ",bogus,").replace(",won,", ",bogus,").replace(",lost,", ",bogus,")
    (folder / "opportunities.csv").write_text("\n".join(lines) + "\n")
    ds = analysis.load(folder, as_of=AS_OF)
    q = ds.quarantine[ds.quarantine["table"] == "opportunities"]
    assert list(q["rule"]) == ["opportunities.status.unparseable"] and q["source_row"].iloc[0] + 1 == target
    assert ds.opportunities.set_index("opportunity_id").loc[opps.loc[1, "opportunity_id"], "product"] == "Core\nwith notes"


@pytest.mark.parametrize(
    "thousands, written, read",
    [
        (",", "1,200.50", 1200.5),
        (",", "1,5", None),
        (",", "12,34", None),
        (",", "1.200,50", None),
        (",", "1,234,567", 1234567.0),
        (".", "1.200,50", 1200.5),
        (".", "45360.0", None),
        (".", "1,5", 1.5),
        (None, "1e-400", None),
        (None, "4.5E+04", 45000.0),
        (None, "$1,200", None),
    ],
)
def test_a_thousands_separator_must_group_digits_in_threes(thousands, written, read):
    from analysis.parsing import parse_numbers

    got = parse_numbers(pd.Series([written]), thousands).iloc[0]
    assert (pd.isna(got) and read is None) or got == pytest.approx(read)


def test_a_misplaced_separator_quarantines_the_row_instead_of_changing_the_amount(tmp_path, tables):
    opps = _text(tables["opportunities"])
    row = opps.index[opps["status"] == "won"][0]
    opps.loc[row, "amount"] = "1,5"  # under thousands "," this is not 15
    folder = _folder(tmp_path, tables, opportunities=opps)
    (tmp_path / "m.yaml").write_text('thousands: ","\n')
    ds = analysis.load(folder, mapping=tmp_path / "m.yaml", as_of=AS_OF)
    q = ds.quarantine[ds.quarantine["table"] == "opportunities"]
    assert list(q["rule"]) == ["opportunities.amount.unparseable"] and q["value"].iloc[0] == "1,5"


def test_an_impossible_time_is_not_a_date(tmp_path, tables):
    opps = _text(tables["opportunities"])
    opps.loc[2, "created_date"] = opps.loc[2, "created_date"] + " 25:61"
    ds = analysis.load(_folder(tmp_path, tables, opportunities=opps), as_of=AS_OF)
    assert "opportunities.created_date.unparseable" in set(ds.quarantine["rule"])


def test_semicolons_gzip_and_trailing_empty_columns_read_like_commas(tmp_path, tables):
    import gzip

    folder = _folder(tmp_path, tables)
    (folder / "reps.csv").write_text("\n".join(line.replace(",", ";") + ";;" for line in _lines(folder / "reps.csv")) + "\n")
    data = ("\n".join(line + ",,," for line in _lines(folder / "opportunities.csv")) + "\n").encode()
    (folder / "opportunities.csv").unlink()
    (folder / "opportunities.csv.gz").write_bytes(gzip.compress(data))
    ds = analysis.load(folder, as_of=AS_OF)
    assert ds.quarantine.empty and len(ds.reps) == len(tables["reps"]) and len(ds.opportunities) == len(tables["opportunities"])


def test_a_gzipped_csv_follows_the_same_rules(tmp_path, tables):
    import gzip

    folder = _folder(tmp_path, tables)
    lines = _lines(folder / "opportunities.csv")
    lines[5] += ",extra"
    (folder / "opportunities.csv").unlink()
    (folder / "opportunities.csv.gz").write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    ds = analysis.load(folder, as_of=AS_OF)
    assert list(ds.quarantine.loc[ds.quarantine["table"] == "opportunities", "source_row"]) == [5]
    lines[0] = lines[0].replace("margin", "amount")
    (folder / "opportunities.csv.gz").write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    with pytest.raises(DataError, match="names column 'amount' 2 times"):
        analysis.load(folder, as_of=AS_OF)


def test_rows_that_all_have_the_wrong_length_say_so(tmp_path, tables):
    folder = _folder(tmp_path, tables)
    lines = _lines(folder / "reps.csv")
    (folder / "reps.csv").write_text("\n".join([lines[0]] + [line + ",x,y" for line in lines[1:]]) + "\n")
    with pytest.raises(DataError, match=r"none of the \d+ rows of table 'reps' has as many fields as the header"):
        analysis.load(folder, as_of=AS_OF)


def test_a_file_that_is_not_utf8_is_said_once(tmp_path, tables):
    folder = _folder(tmp_path, tables)
    (folder / "reps.csv").write_bytes(_lines(folder / "reps.csv")[0].encode() + "\nR1,Jos\u00e9\n".encode("cp1252"))
    with pytest.raises(DataError) as err:
        analysis.load(folder, as_of=AS_OF)
    assert "reps.csv: cannot be read: is not UTF-8 text" in str(err.value) and len(err.value.problems) == 1


def test_a_parquet_index_column_and_a_planned_hire(tmp_path, tables):
    reps = tables["reps"].copy()
    reps.loc[len(reps)] = {**reps.iloc[0].to_dict(), "rep_id": "R9999", "hire_date": pd.Timestamp("2027-01-04"), "end_date": pd.NaT}
    reps.set_index("rep_id").to_parquet(tmp_path / "reps.parquet")
    tables["opportunities"].to_parquet(tmp_path / "opportunities.parquet", index=False)
    ds = analysis.load(tmp_path, as_of=AS_OF)
    assert ds.quarantine.empty and "R9999" in set(ds.reps["rep_id"]) and "R9999" not in set(ds.active_reps()["rep_id"])


def test_a_database_view_and_a_database_file_that_does_not_exist(tmp_path, tables):
    import sqlalchemy as sa

    db = tmp_path / "crm.sqlite"
    engine = sa.create_engine(f"sqlite:///{db}")
    tables["opportunities"].to_sql("opportunities", engine, index=False)
    tables["reps"].to_sql("people", engine, index=False)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE VIEW reps AS SELECT * FROM people"))
        conn.execute(sa.text("UPDATE opportunities SET amount = x'00ff' WHERE rowid = 3"))
    engine.dispose()
    ds = analysis.load(f"sqlite:///{db}", as_of=AS_OF)
    assert len(ds.reps) == len(tables["reps"]) and list(ds.quarantine["rule"]) == ["opportunities.amount.unparseable"]
    missing = tmp_path / "nope.sqlite"
    with pytest.raises(DataError, match="no such database file"):
        analysis.load(f"sqlite:///{missing}", as_of=AS_OF)
    assert not missing.exists(), "looking at a database never creates one"
