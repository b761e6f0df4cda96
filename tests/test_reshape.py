"""Export shapes other than one row per deal: stage-change logs, order lines, conditional values — on tiny frames
whose right answer is written out by hand, and on the public sets through mapping files alone."""

from __future__ import annotations

import pandas as pd
import pytest

import analysis
from analysis.mapping import MappingError, parse_mapping
from analysis.reshape import Events, Grouping, conditional, from_events, group_rows
from helpers import ROOT, shared_dataset

LOG = pd.DataFrame(
    {
        "Deal": ["A", "A", "B", "A", "B", "C", "B"],
        "Stage": ["Lead", "Proposal", "Lead", "Closed Won", "Closed Lost", "Lead", "Closed Won"],
        "When": ["1/5/2026", "1/20/2026", "2/1/2026", "3/3/2026", "2/15/2026", "3/1/2026", "4/1/2026"],
        "Value": ["100", "120", "50", "150", "0", "", "0"],
        "Owner": ["ann", "ann", "bob", "ann", "bob", "cy", "bob"],
    }
)


def test_a_stage_change_log_becomes_one_deal_each():
    deals = from_events(LOG, Events("Deal", "Stage", "When", amount="Value"), "opportunities", ("%m/%d/%Y",)).set_index("opportunity_id")
    assert list(deals.index) == ["A", "B", "C"]  # in the order they first appear
    assert deals.loc["A", ["created_date", "close_date", "status", "stage", "amount"]].tolist() == [
        "1/5/2026",
        "3/3/2026",
        "won",
        "Closed Won",
        "150",
    ]
    # B: lost on 2/15 (its first closing event wins over the later "Closed Won"), amount the latest non-zero (50).
    assert deals.loc["B", ["close_date", "status", "stage", "amount"]].tolist() == ["2/15/2026", "lost", "Closed Won", "50"]
    assert pd.isna(deals.loc["C", "close_date"]) and deals.loc["C", "status"] == "open" and pd.isna(deals.loc["C", "amount"])
    assert deals["__source_row"].tolist() == [1, 3, 6], "a deal points at its first event in the file"
    assert deals.loc["A", "Owner"] == "ann"


def test_events_are_ordered_by_date_not_by_the_file():
    shuffled = LOG.iloc[[3, 0, 1]]  # A's Closed Won first in the file
    deal = from_events(shuffled, Events("Deal", "Stage", "When"), "opportunities", ("%m/%d/%Y",)).iloc[0]
    assert (deal["created_date"], deal["close_date"], deal["stage"]) == ("1/5/2026", "3/3/2026", "Closed Won")


def test_the_log_as_stage_history_keeps_every_event():
    hist = from_events(LOG, Events("Deal", "Stage", "When"), "stage_history", ("%m/%d/%Y",))
    assert len(hist) == len(LOG) and {"opportunity_id", "stage", "entered_date"} <= set(hist.columns)


def test_order_lines_become_one_row_per_order():
    lines = pd.DataFrame(
        {
            "Order": ["o1", "o1", "o2", "o3", "o3"],
            "Sales": ["10.5", "4.5", "7", "1", "x"],
            "Day": ["2026-01-02", "2026-01-01", "2026-01-05", "", "2026-02-01"],
            "Region": ["E", "W", "E", "E", "E"],
        }
    )
    out = group_rows(lines, Grouping(("Order",), {"Sales": "sum", "Day": "min"})).set_index("Order")
    assert float(out.loc["o1", "Sales"]) == 15.0 and out.loc["o1", "Region"] == "E" and out.loc["o1", "Day"] == "2026-01-01"
    assert out.loc["o3", "Sales"] == "x", "a value that is not a number is kept, so the order is quarantined naming it"
    assert out.loc["o3", "Day"] == "2026-02-01" and out["__source_row"].tolist() == [1, 3, 4]


def test_a_value_set_only_where_a_condition_holds():
    leads = pd.DataFrame({"mql_id": ["m1", "m2", "m3"], "won_date": ["2018-01-02", "", None], "origin": ["paid", "email", "paid"]})
    rule = {"if": {"won_date": "present", "origin": ["paid", "social"]}, "then": "mql_id"}
    assert [v if pd.notna(v) else None for v in conditional(leads, "opportunity_id", rule)] == ["m1", None, None]
    assert conditional(leads, "x", {"if": {"won_date": "empty"}, "then": {"value": "no"}, "else": "origin"}).tolist() == [
        "paid",
        "no",
        "no",
    ]


@pytest.mark.parametrize(
    "conf, words",
    [
        ({"from_events": {"deal": "d"}}, "give the columns deal, stage and date"),
        ({"group_by": {"key": "k", "aggregate": {"x": "median"}}}, "each column takes one of first, last, sum"),
        ({"when": {"x": {"then": "y"}}}, "give if"),
        ({"from_events": {"deal": "d", "stage": "s", "date": "t"}, "group_by": "k"}, "cannot both reshape"),
    ],
)
def test_a_reshaping_step_written_wrong_is_refused(conf, words):
    with pytest.raises(MappingError, match=words):
        parse_mapping({"tables": {"opportunities": conf}}, origin="m.yaml")


def test_a_column_the_file_lacks_is_named():
    m = parse_mapping({"tables": {"opportunities": {"from_events": {"deal": "Deal", "stage": "Phase", "date": "When"}}}}, origin="m.yaml")
    with pytest.raises(MappingError, match=r"from_events names the column 'Phase' that the file does not have"):
        m.apply("opportunities", LOG)


@pytest.mark.shared
def test_the_stage_history_set_through_its_mapping_file_alone():
    """Independent count from the raw log (SOURCE.md): 616 won, 7,980 lost, 975 open; each deal's close is its closing
    event, its creation its first event, its amount the latest non-zero revenue."""
    folder = shared_dataset("sales_pipeline_stage_history")
    ds = analysis.load(folder, mapping=ROOT / "examples/sales_pipeline_stage_history/mapping.yaml", as_of="2016-12-31")
    assert ds.quarantine.empty and ds.opportunities["status"].value_counts().to_dict() == {"lost": 7980, "open": 975, "won": 616}
    raw = pd.read_csv(folder / "sales-pipeline.csv")
    raw["day"] = pd.to_datetime(raw["Date"], format="%m/%d/%Y")
    raw = raw.sort_values(["Lead Name", "day"], kind="stable")
    first = raw.groupby("Lead Name")["day"].min()
    closing = raw[raw["Opportunity Stage"].isin(["Closed Won", "Closed Lost"])].groupby("Lead Name")["day"].min()
    nonzero = raw[raw["Forecasted Monthly Revenue"] != 0].groupby("Lead Name")["Forecasted Monthly Revenue"].last()
    o = ds.opportunities.set_index("opportunity_id")
    assert (o["created_date"] == first.reindex(o.index)).all()
    assert (o["close_date"].dropna() == closing.reindex(o["close_date"].dropna().index)).all() and o["close_date"].notna().sum() == len(
        closing
    )
    assert (o["amount"].dropna() == nonzero.reindex(o["amount"].dropna().index)).all() and o["amount"].notna().sum() == len(nonzero)
    assert len(ds.stage_history) == len(raw) and ds.reps.set_index("rep_id")["team"].to_dict()["Walter Landfair"] == "APAC"


@pytest.mark.shared
def test_superstore_order_lines_through_the_mapping_file_alone():
    folder = shared_dataset("superstore")
    ds = analysis.load(folder, mapping=ROOT / "examples/superstore/mapping.yaml", as_of="2019-12-30")
    raw = pd.read_csv(next(folder.glob("*.csv")), encoding="utf-8-sig")
    assert ds.quarantine.empty and len(ds.opportunities) == raw["Order ID"].nunique() == 5009
    per_order = raw.groupby("Order ID")["Sales"].sum()
    o = ds.opportunities.set_index("opportunity_id")
    assert (o["amount"] - per_order.reindex(o.index)).abs().max() < 1e-6
    assert (o["status"] == "won").all() and (o["close_date"] == o["created_date"]).all() and set(ds.reps["rep_id"]) == set(raw["Region"])
