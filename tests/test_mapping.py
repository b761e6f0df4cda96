"""Mapping presets and user mapping files: real CRM layouts load without code."""

from __future__ import annotations

import csv

import pandas as pd
import pytest

import analysis
from analysis import cli
from analysis.mapping import MappingError, load_mapping
from helpers import shared_dataset


@pytest.mark.shared
def test_maven_preset_uses_or_quarantines_every_row():
    folder = shared_dataset("maven_crm")
    ds = analysis.load(folder, mapping="maven", as_of="2018-01-01")
    acc = ds.accounting.set_index("table")
    with (folder / "sales_pipeline.csv").open(newline="") as fh:
        raw = list(csv.DictReader(fh))
    assert len(raw) == 8800
    assert acc.loc["opportunities", "rows_in"] == 8800
    assert acc.loc["opportunities", "rows_used"] + acc.loc["opportunities", "rows_quarantined"] == 8800
    # Independent count: only the Prospecting deals lack an engage date, so only they are quarantined.
    prospecting = [i for i, r in enumerate(raw, 1) if r["deal_stage"] == "Prospecting"]
    q = ds.quarantine[ds.quarantine["table"] == "opportunities"]
    assert sorted(q["source_row"]) == prospecting and len(prospecting) == 500
    assert set(q["reason"]) == {"created_date is empty (required)"}
    o = ds.opportunities
    counts = o["status"].value_counts().to_dict()
    assert counts == {"won": 4238, "lost": 2473, "open": 1589}
    assert o.loc[o["status"] == "lost", "amount"].isna().all()  # a lost deal's 0 is not its size
    assert o.loc[o["status"] == "won", "amount"].sum() == sum(int(r["close_value"]) for r in raw if r["deal_stage"] == "Won")
    assert "GTXPro" not in set(o["product"]) and (o["product"] == "GTX Pro").sum() == sum(
        r["product"] == "GTXPro" for r in raw if r["deal_stage"] != "Prospecting"
    )
    assert acc.loc["reps", "rows_used"] == 35 and ds.reps["team"].nunique() == 6
    assert set(ds.reps["rep_id"]) - set(o["owner_id"]) == {
        "Carl Lin",
        "Natalya Ivanova",
        "Carol Thompson",
        "Mei-Mei Johns",
        "Elizabeth Anderson",
    }
    assert set(ds.ignored) == {
        "accounts.csv",
        "data_dictionary.csv",
        "products.csv",
        "SOURCE.md",
    }  # every file outside the contract is named


@pytest.mark.shared
def test_maven_through_the_command_line(capsys):
    folder = shared_dataset("maven_crm")
    assert cli.main(["validate", "--data", str(folder), "--mapping", "maven", "--as-of", "2018-01-01"]) == 0
    out = capsys.readouterr().out
    assert "8,335 of 8,835 rows usable, 500 quarantined" in out and "created_date is empty (required)" in out


def test_salesforce_export(tmp_path):
    pd.DataFrame(
        {
            "Opportunity ID": ["006A", "006B", "006C", "006D"],
            "Opportunity Name": ["Big", "Small", "Mid", "Lost one"],
            "Opportunity Owner": ["Ann Lee", "Bo Chan", "Ann Lee", "Bo Chan"],
            "Account Name": ["Acme", "Beta", "Acme", "Gamma"],
            "Created Date": ["1/15/2025", "2/3/2025", "3/1/2025", "2/20/2025"],
            "Close Date": ["3/31/2025", "4/30/2025", "9/30/2026", "5/2/2025"],
            "Stage": ["Closed Won", "Closed Won", "Proposal/Price Quote", "Closed Lost"],
            "Amount": ["1,250,000.00", "15,000", "40,000", ""],
            "Probability (%)": ["100", "100", "60", "0"],
            "Type": ["New Customer", "Existing Customer - Upgrade", "", "New Customer"],
            "Lead Source": ["Web", "Partner", "Web", ""],
        }
    ).to_csv(tmp_path / "opportunities.csv", index=False)
    ds = analysis.load(tmp_path, mapping="salesforce", as_of="2025-06-30")
    assert ds.quarantine.empty
    o = ds.opportunities.set_index("opportunity_id")
    assert o["status"].to_dict() == {"006A": "won", "006B": "won", "006C": "open", "006D": "lost"}
    assert o.loc["006A", "amount"] == 1_250_000.0 and o.loc["006A", "created_date"] == pd.Timestamp("2025-01-15")
    assert pd.isna(o.loc["006C", "close_date"]) and o.loc["006C", "expected_close_date"] == pd.Timestamp("2026-09-30")
    assert o.loc["006C", "probability"] == 0.6 and o.loc["006C", "stage"] == "Proposal/Price Quote"
    assert o.loc["006A", "type"] == "new" and o.loc["006B", "type"] == "expansion"
    assert sorted(ds.reps["rep_id"]) == ["Ann Lee", "Bo Chan"]  # derived from the owners
    assert ds.accounting.set_index("table").loc["reps", "file"].startswith("(derived")


def test_hubspot_export_with_owners_file(tmp_path):
    pd.DataFrame(
        {
            "Record ID": [101, 102, 103],
            "Deal Name": ["a", "b", "c"],
            "Deal Stage": ["Closed won", "Contract sent", "Closed lost"],
            "Deal owner": ["Kim", "Kim", "Lou"],
            "Create Date": ["2025-01-05 10:31", "2025-02-10 08:00", "2025-02-11 17:45"],
            "Close Date": ["2025-03-01 12:00", "2025-12-01 00:00", "2025-03-03 09:00"],
            "Amount": [5000, 7000, None],
            "Deal Type": ["newbusiness", "existingbusiness", "New Business"],
            "Pipeline": ["Sales Pipeline"] * 3,
        }
    ).to_csv(tmp_path / "deals.csv", index=False)
    pd.DataFrame({"Owner": ["Kim", "Lou"], "Team": ["North", "South"]}).to_csv(tmp_path / "owners.csv", index=False)
    ds = analysis.load(tmp_path, mapping="hubspot", as_of="2025-06-30")
    assert ds.quarantine.empty
    o = ds.opportunities.set_index("opportunity_id")
    assert list(o.index) == ["101", "102", "103"]
    assert o["status"].tolist() == ["won", "open", "lost"] and o["type"].tolist() == ["new", "expansion", "new"]
    assert o.loc["101", "close_date"] == pd.Timestamp("2025-03-01") and o.loc["102", "expected_close_date"] == pd.Timestamp("2025-12-01")
    assert ds.reps.set_index("rep_id")["team"].to_dict() == {"Kim": "North", "Lou": "South"}


def test_user_mapping_file(tmp_path):
    data = tmp_path / "crm"
    data.mkdir()
    pd.DataFrame(
        {
            "Deal": ["d1", "d2"],
            "Who": ["u1", "u1"],
            "Opened": ["15/01/2025", "01/02/2025"],
            "Closed": ["28/02/2025", ""],
            "State": ["Gewonnen", "Offen"],
            "Value": ["1.500", "2.000"],
        }
    ).to_csv(data / "deals.csv", index=False)
    pd.DataFrame({"User": ["u1"]}).to_csv(data / "users.csv", index=False)
    (tmp_path / "m.yaml").write_text(
        """
name: german-crm
date_formats: ["%d/%m/%Y"]
thousands: "."
tables:
  opportunities:
    source: deals
    rename: {Deal: opportunity_id, Who: owner_id, Opened: created_date, Closed: close_date, State: status, Value: amount}
    values: {status: {gewonnen: won, verloren: lost, offen: open}}
    constants: {segment: DACH}
  reps:
    source: users
    rename: {User: rep_id}
"""
    )
    ds = analysis.load(data, mapping=tmp_path / "m.yaml", as_of="2025-06-30")
    o = ds.opportunities
    assert ds.quarantine.empty and ds.mapping == "german-crm"
    assert o["amount"].tolist() == [1500.0, 2000.0] and o["status"].tolist() == ["won", "open"]
    assert o["created_date"].tolist() == [pd.Timestamp("2025-01-15"), pd.Timestamp("2025-02-01")] and (o["segment"] == "DACH").all()


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("tables: {deals: {}}", "tables.deals: unknown table"),
        ("tables: {opportunities: {renames: {}}}", "tables.opportunities: unknown field(s) ['renames']"),
        ("tables: {opportunities: {rename: [a, b]}}", "tables.opportunities.rename: expected a mapping"),
        ("tables: {opportunities: {values: {status: won}}}", "tables.opportunities.values.status"),
        ("colour: blue", "unknown top-level field(s) ['colour']"),
        ("[1, 2]", "expected a mapping"),
        ("tables: {opportunities: {rename: {a: b}}\n  bad", "not valid YAML"),
    ],
)
def test_bad_mapping_files_name_the_field(tmp_path, text, needle):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(MappingError) as err:
        load_mapping(path)
    assert needle in str(err.value) and str(path) in str(err.value)


def test_unknown_preset_is_a_clear_error_and_exit_code_2(tmp_path, capsys):
    with pytest.raises(MappingError, match="no such preset or file; presets are maven, salesforce, hubspot"):
        load_mapping("pipedrive")
    assert cli.main(["validate", "--data", str(tmp_path), "--mapping", "pipedrive"]) == 2
    assert "pipedrive" in capsys.readouterr().err
