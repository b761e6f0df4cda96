"""Reshape Olist's "Marketing Funnel" (MQLs + closed deals) into Quotacast's data contract.

The source has two files: ``olist_marketing_qualified_leads_dataset.csv`` (8,000 marketing-qualified leads:
``mql_id``, ``first_contact_date``, ``landing_page_id``, ``origin``) and ``olist_closed_deals_dataset.csv``
(the 842 leads that were won: ``mql_id``, ``sr_id``, ``won_date``, ``business_segment``, ...). Only won deals
are recorded: there are no lost or open deals and **no deal amounts** (``declared_monthly_revenue`` is 0 on
797 of 842 rows and is a self-declared seller revenue, not a deal size). This script writes, as CSV with ISO
dates (YYYY-MM-DD):

``opportunities.csv`` -- the 842 closed deals
    opportunity_id = mql_id; owner_id = sr_id (the sales rep who closed it);
    created_date = first_contact_date of its MQL; close_date = the date part of won_date; status = won;
    amount = empty (the column is present, every value empty: the data has no amounts);
    segment = business_segment (one deal has none: left empty, the contract's default is ``all``);
    lead_source = origin of its MQL (empty origin -> ``unknown``, the contract's default anyway).
``reps.csv`` -- one row per sr_id: rep_id = name = sr_id, team = ``all``.
``leads.csv`` -- the 8,000 MQLs: lead_id = mql_id, created_date = first_contact_date,
    source = origin (empty -> ``unknown``), opportunity_id = mql_id when the lead became a deal, else empty.

Known consequences when Quotacast loads the result:

- the contract requires an amount on a won deal, so every deal is quarantined with
  ``opportunities.won_without_amount``, and the leads that point at them with ``leads.unknown_opportunity``;
- one deal (mql_id ``b91cf8812365f50ff4bda4bcd6206b05``) was won on 2018-03-06, two days before the lead's
  first contact (2018-03-08): it would be quarantined with ``opportunities.close_before_create``.

Usage::

    python prepare.py SOURCE_DIR OUT_DIR

Only pandas is needed. ``prepare(source, out)`` does the same from Python and returns rows written per table.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

MQL_FILE = "olist_marketing_qualified_leads_dataset.csv"
DEALS_FILE = "olist_closed_deals_dataset.csv"


def _read(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    return frame.apply(lambda col: col.str.strip())


def _iso(text: pd.Series) -> pd.Series:
    dates = pd.to_datetime(text.where(text.ne("")), format="ISO8601")
    return dates.dt.strftime("%Y-%m-%d").where(dates.notna())


def prepare(source: Path, out: Path) -> dict[str, int]:
    """Read the two Olist files from ``source`` and write the contract tables into ``out``; rows per table."""
    source, out = Path(source), Path(out)
    mqls = _read(source / MQL_FILE)
    deals = _read(source / DEALS_FILE)
    origin = mqls["origin"].where(mqls["origin"].ne(""), "unknown")

    lead_of = mqls.assign(origin=origin).set_index("mql_id")
    missing = ~deals["mql_id"].isin(lead_of.index)
    if missing.any():
        raise SystemExit(f"{missing.sum()} closed deals have no MQL in {MQL_FILE}")

    opps = pd.DataFrame(
        {
            "opportunity_id": deals["mql_id"],
            "owner_id": deals["sr_id"],
            "created_date": _iso(deals["mql_id"].map(lead_of["first_contact_date"])),
            "close_date": _iso(deals["won_date"]),
            "status": "won",
            "amount": pd.Series(pd.NA, index=deals.index, dtype="object"),
            "segment": deals["business_segment"].where(deals["business_segment"].ne("")),
            "lead_source": deals["mql_id"].map(lead_of["origin"]),
        }
    )

    rep_ids = sorted(deals["sr_id"].loc[deals["sr_id"].ne("")].unique())
    reps = pd.DataFrame({"rep_id": rep_ids, "name": rep_ids, "team": "all"})

    converted = mqls["mql_id"].isin(deals["mql_id"])
    leads = pd.DataFrame(
        {
            "lead_id": mqls["mql_id"],
            "created_date": _iso(mqls["first_contact_date"]),
            "source": origin,
            "opportunity_id": mqls["mql_id"].where(converted),
        }
    )

    out.mkdir(parents=True, exist_ok=True)
    tables = {"opportunities": opps, "reps": reps, "leads": leads}
    for name, frame in tables.items():
        frame.to_csv(out / f"{name}.csv", index=False)
    return {name: len(frame) for name, frame in tables.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help=f"folder holding {MQL_FILE} and {DEALS_FILE}")
    parser.add_argument("out", type=Path, help="folder to write opportunities.csv, reps.csv, leads.csv into")
    args = parser.parse_args(argv)
    counts = prepare(args.source, args.out)
    for name, rows in counts.items():
        print(f"  {args.out / (name + '.csv')}: {rows:,} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
