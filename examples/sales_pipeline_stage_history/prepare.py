"""Reshape the "sales pipeline stage history" event log into Quotacast's data contract.

The source (``sales-pipeline.csv``, most likely the AWS QuickSight "Sales Pipeline" sample) has one row per
stage-change event: ``Date`` (m/d/yyyy), ``Salesperson``, ``Lead Name``, ``Segment``, ``Region``,
``Target Close`` (m/d/yyyy), ``Forecasted Monthly Revenue``, ``Opportunity Stage`` (Lead, Prospect, Qualified,
Contracting, Closed Won, Closed Lost) and a few derived flags. This script writes three contract tables as CSV
with ISO dates (YYYY-MM-DD):

``opportunities.csv`` -- one row per ``Lead Name``
    opportunity_id = Lead Name; owner_id = Salesperson (a lead never changes owner);
    created_date = Date of its first event (the data has no other creation date);
    close_date / status = Date and outcome of its first Closed Won / Closed Lost event (won / lost);
    no closing event: status open, close_date empty;
    amount = Forecasted Monthly Revenue of the *latest event with a positive value*. Closed Lost rows always
    carry 0, which is not the deal's size, so a lost deal keeps the amount it had just before it was lost;
    a won deal gets its Closed Won amount; an open deal its current amount. The 285 leads whose only event
    is Closed Lost have no positive value and get an empty amount (allowed on lost deals);
    segment = Segment; region = Region; stage = the stage name of the latest event;
    expected_close_date = Target Close of the latest event, for open deals only (for closed rows the source
    sets it equal to Date, so it carries no forecast).
``stage_history.csv`` -- one row per event: opportunity_id, stage, entered_date.
``reps.csv`` -- one row per Salesperson: rep_id = name = Salesperson; team = region = the Region of most
    of their deals (in this data every salesperson works in exactly one region).

The ``Latest Status Entry`` flag is unreliable (several rows per lead can be TRUE), so it is not used: the
order of events comes from ``Date`` (ties keep the file order).

Usage::

    python prepare.py SOURCE_DIR OUT_DIR

Only pandas is needed. ``prepare(source, out)`` does the same from Python and returns rows written per table.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

SOURCE_FILE = "sales-pipeline.csv"
CLOSED = {"Closed Won": "won", "Closed Lost": "lost"}


def _iso(dates: pd.Series) -> pd.Series:
    return dates.dt.strftime("%Y-%m-%d").where(dates.notna())


def prepare(source: Path, out: Path) -> dict[str, int]:
    """Read ``SOURCE_DIR/sales-pipeline.csv`` and write the contract tables into ``out``; rows per table."""
    source, out = Path(source), Path(out)
    events = pd.read_csv(source / SOURCE_FILE, dtype=str, keep_default_na=False)
    events = events.apply(lambda col: col.str.strip())
    events["_date"] = pd.to_datetime(events["Date"], format="%m/%d/%Y")
    events["_target"] = pd.to_datetime(events["Target Close"], format="%m/%d/%Y", errors="coerce")
    events["_amount"] = pd.to_numeric(events["Forecasted Monthly Revenue"], errors="coerce")
    events["_order"] = range(len(events))
    events = events.sort_values(["Lead Name", "_date", "_order"], kind="mergesort")

    by_lead = events.groupby("Lead Name", sort=True)
    first = by_lead.first()
    last = by_lead.last()  # the latest event per lead (max Date)
    closing = events[events["Opportunity Stage"].isin(CLOSED)].groupby("Lead Name").first()
    positive = events[events["_amount"] > 0].groupby("Lead Name")["_amount"].last()

    opps = pd.DataFrame(index=first.index)
    opps["opportunity_id"] = first.index
    opps["owner_id"] = first["Salesperson"]
    opps["created_date"] = _iso(first["_date"])
    opps["close_date"] = _iso(closing["_date"].reindex(opps.index))
    opps["status"] = closing["Opportunity Stage"].map(CLOSED).reindex(opps.index).fillna("open")
    opps["amount"] = positive.reindex(opps.index).astype("Int64")
    opps["segment"] = first["Segment"]
    opps["region"] = first["Region"]
    opps["stage"] = last["Opportunity Stage"]
    is_open = opps["status"].eq("open")
    opps["expected_close_date"] = _iso(last["_target"]).where(is_open)

    history = pd.DataFrame(
        {
            "opportunity_id": events["Lead Name"],
            "stage": events["Opportunity Stage"],
            "entered_date": _iso(events["_date"]),
        }
    )

    deals_per_region = events.drop_duplicates("Lead Name").groupby(["Salesperson", "Region"]).size()
    ranked = deals_per_region.sort_values(ascending=False, kind="mergesort").reset_index()
    main_region = ranked.drop_duplicates("Salesperson").set_index("Salesperson")["Region"].sort_index()
    names, regions = main_region.index, main_region.values
    reps = pd.DataFrame({"rep_id": names, "name": names, "team": regions, "region": regions})

    out.mkdir(parents=True, exist_ok=True)
    tables = {"opportunities": opps, "stage_history": history, "reps": reps}
    for name, frame in tables.items():
        frame.to_csv(out / f"{name}.csv", index=False)
    return {name: len(frame) for name, frame in tables.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="folder holding sales-pipeline.csv")
    parser.add_argument("out", type=Path, help="folder to write opportunities.csv, stage_history.csv, reps.csv into")
    args = parser.parse_args(argv)
    counts = prepare(args.source, args.out)
    for name, rows in counts.items():
        print(f"  {args.out / (name + '.csv')}: {rows:,} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
