"""Reshape Tableau's "Sample - Superstore" order lines into Quotacast's data contract.

The source is one CSV of order lines (UTF-8 **with BOM**, m/d/yyyy dates, 21 columns: ``Row ID``,
``Order ID``, ``Order Date``, ``Customer ID``, ``Segment``, ``Region``, ``Category``, ``Sales``, ...). It is
published as ``Sample - Superstore.csv`` (a space in the name); the copy in the shared datasets folder is named
``superstore.csv``. The script takes whichever is there (or the only CSV in the folder).

Superstore has orders only: no reps, no stages, no lost or open deals. Every order is booked business, so this
script writes, as CSV with ISO dates (YYYY-MM-DD):

``opportunities.csv`` -- one won deal per ``Order ID``
    opportunity_id = Order ID; status = won;
    created_date = close_date = Order Date (of the order's first line; all lines of an order share it);
    amount = sum of Sales over the order's lines (rounded to 4 decimals, the source's precision);
    segment = Segment; account_id = Customer ID; product = Category of the order's first line (lowest Row ID;
    1,717 orders mix categories); region = Region;
    owner_id = Region. **The data has no sales reps**, so the four regions (Central, East, South, West) stand in
    for them: per-"rep" quotas and forecasts are then per-region ones.
``reps.csv`` -- one row per Region: rep_id = name = team = region = the Region.

The source's one fully duplicated order line (Row IDs 3406 and 3407, order US-2016-150119) is summed as given.

Usage::

    python prepare.py SOURCE_DIR OUT_DIR

Only pandas is needed. ``prepare(source, out)`` does the same from Python and returns rows written per table.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

FILE_NAMES = ("Sample - Superstore.csv", "superstore.csv")


def find_source_file(source: Path) -> Path:
    """The Superstore CSV in ``source``: its published name, the shared copy's name, or the only CSV there."""
    for name in FILE_NAMES:
        if (source / name).is_file():
            return source / name
    csvs = sorted(source.glob("*.csv"))
    if len(csvs) == 1:
        return csvs[0]
    raise SystemExit(f"{source}: expected one of {', '.join(repr(n) for n in FILE_NAMES)} (or a single .csv file)")


def prepare(source: Path, out: Path) -> dict[str, int]:
    """Read the Superstore order lines from ``source`` and write the contract tables into ``out``; rows per table."""
    source, out = Path(source), Path(out)
    lines = pd.read_csv(find_source_file(source), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    lines = lines.apply(lambda col: col.str.strip())
    lines["_row"] = pd.to_numeric(lines["Row ID"])
    lines["_date"] = pd.to_datetime(lines["Order Date"], format="%m/%d/%Y")
    lines["_sales"] = pd.to_numeric(lines["Sales"])
    lines = lines.sort_values("_row", kind="mergesort")

    orders = lines.groupby("Order ID", sort=False)
    first = orders.first()
    date = first["_date"].dt.strftime("%Y-%m-%d")
    opps = pd.DataFrame(
        {
            "opportunity_id": first.index,
            "owner_id": first["Region"].values,
            "account_id": first["Customer ID"].values,
            "created_date": date.values,
            "close_date": date.values,
            "status": "won",
            "amount": orders["_sales"].sum().round(4).values,
            "segment": first["Segment"].values,
            "product": first["Category"].values,
            "region": first["Region"].values,
        }
    )
    opps = opps.sort_values(["created_date", "opportunity_id"], kind="mergesort")

    regions = sorted(lines["Region"].unique())
    reps = pd.DataFrame({"rep_id": regions, "name": regions, "team": regions, "region": regions})

    out.mkdir(parents=True, exist_ok=True)
    tables = {"opportunities": opps, "reps": reps}
    for name, frame in tables.items():
        frame.to_csv(out / f"{name}.csv", index=False)
    return {name: len(frame) for name, frame in tables.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="folder holding the Superstore CSV")
    parser.add_argument("out", type=Path, help="folder to write opportunities.csv and reps.csv into")
    args = parser.parse_args(argv)
    counts = prepare(args.source, args.out)
    for name, rows in counts.items():
        print(f"  {args.out / (name + '.csv')}: {rows:,} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
