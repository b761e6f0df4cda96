"""``quotacast mapping suggest``: a draft mapping from headers and sample values, every guess commented, that
validates as it is where the names allow it."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

import analysis
from analysis import cli, demo
from analysis.mapping import load_mapping
from analysis.suggest import date_format, suggest
from helpers import AS_OF, shared_dataset


def _renames(draft: str, table: str = "opportunities") -> dict:
    return (yaml.safe_load(draft)["tables"][table] or {}).get("rename", {})


def test_a_salesforce_style_export_is_mapped_and_validates(tmp_path, capsys):
    t = demo.generate(seed=2, reps=4, years=1, as_of=AS_OF, activities=False)
    o = t["opportunities"]
    export = pd.DataFrame(
        {
            "Opportunity ID": o["opportunity_id"],
            "Opportunity Owner": o["owner_id"],
            "Account Name": o["account_id"],
            "Created Date": o["created_date"].dt.strftime("%m/%d/%Y"),
            "Close Date": o["close_date"]
            .fillna(o["expected_close_date"])
            .dt.strftime("%m/%d/%Y"),  # Salesforce: open deals' expected close
            "Stage": o["status"].map({"won": "Closed Won", "lost": "Closed Lost", "open": "Negotiation"}),
            "Amount": o["amount"].map(lambda v: "" if pd.isna(v) else f"{v:,.2f}"),
            "Lead Source": o["lead_source"],
            "Favourite colour": "blue",
        }
    )
    export.to_csv(tmp_path / "opportunity_report.csv", index=False)
    draft = tmp_path / "draft.yaml"
    assert cli.main(["mapping", "suggest", str(tmp_path), "--out", str(draft)]) == 0
    text = draft.read_text()
    mapping = yaml.safe_load(text)
    assert _renames(text) == {
        "Opportunity ID": "opportunity_id",
        "Opportunity Owner": "owner_id",
        "Created Date": "created_date",
        "Close Date": "close_date",
        "Stage": "stage",
        "Amount": "amount",
        "Account Name": "account_id",
        "Lead Source": "lead_source",
    }
    assert mapping["date_formats"][0] == "%m/%d/%Y" and mapping["thousands"] == ","
    assert mapping["tables"]["opportunities"]["values"]["status"] == {"Closed Lost": "lost", "Closed Won": "won", "*": "open"}
    assert "Favourite colour" in text and "left out" in text and mapping["tables"]["reps"]["derive_from_owners"] is True
    lines = [line for line in text.splitlines() if ":" in line and not line.lstrip().startswith("#") and line.startswith("      ")]
    assert all("#" in line for line in lines), "every guessed column says what it rests on"
    assert mapping["tables"]["opportunities"]["open_close_date_to_expected"] is True
    ds = analysis.load(tmp_path, mapping=load_mapping(draft), as_of=AS_OF)
    assert ds.quarantine.empty and len(ds.opportunities) == len(o)
    assert (ds.opportunities["status"].value_counts() == o["status"].value_counts()).all()


def test_the_date_layout_is_read_from_the_values():
    assert date_format(pd.Series(["2026-01-05", "2026-02-01T10:00:00Z"]))[0] == ["ISO8601"]
    assert date_format(pd.Series(["25/01/2026", "03/02/2026"]))[0][0] == "%d/%m/%Y"
    assert date_format(pd.Series(["1/25/2026", "3/2/2026"]))[0][0] == "%m/%d/%Y"
    layout, why = date_format(pd.Series(["01/02/2026"]))
    assert layout[0] == "%m/%d/%Y" and "cannot be told apart" in why


@pytest.mark.shared
@pytest.mark.parametrize(
    "name, renames, validates",
    [
        ("maven_crm", {"sales_agent": "owner_id", "engage_date": "created_date", "deal_stage": "stage", "close_value": "amount"}, True),
        (
            "sparklesquad_crm",
            {"Opportunity_ID": "opportunity_id", "Sales_Agent": "owner_id", "Created_On": "created_date", "Close_Value": "amount"},
            True,
        ),
        ("sales_pipeline_stage_history", {"Salesperson": "owner_id", "Segment": "segment"}, True),
        ("superstore", {"Order ID": "opportunity_id", "Order Date": "created_date", "Sales": "amount"}, False),
        ("olist_marketing_funnel", {"mql_id": "opportunity_id", "sr_id": "owner_id", "won_date": "close_date"}, False),
    ],
)
def test_the_draft_for_each_public_dataset(name, renames, validates, tmp_path):
    folder = shared_dataset(name)
    text = suggest(folder)
    draft = tmp_path / "draft.yaml"
    draft.write_text(text)
    load_mapping(draft)  # always a valid mapping file
    assert renames.items() <= _renames(text).items()
    if validates:
        assert cli.main(["validate", "--data", str(folder), "--mapping", str(draft), "--as-of", "2019-12-31"]) == 0
    else:  # the names do not allow it: the draft says what to add
        assert "TODO" in text
