"""Quota attainment metrics: each rep's bookings over quota, the share of reps attaining, and consecutive misses."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.calendar import to_period
from analysis.data import Dataset
from analysis.formulas import wilson
from analysis.grouping import COLUMNS, as_rows


def attainment_metrics(deals: pd.DataFrame, ds: Dataset, dimensions, interval: float) -> pd.DataFrame:
    """``quota_attainment`` (rep: bookings / quota), ``attainment_rate`` (company, team: share of reps with a
    quota whose attainment ≥ 1) and ``consecutive_misses`` (rep: quarters in a row, up to this one, below quota)."""
    quotas = ds.quotas
    won = deals[deals["status"].eq("won") & deals["period_closed"].notna()]
    booked = won.groupby(["owner_id", "period_closed"])["amount"].sum().rename("bookings").reset_index()
    q = quotas.merge(booked, left_on=["rep_id", "period"], right_on=["owner_id", "period_closed"], how="left").drop(
        columns=["owner_id", "period_closed"]
    )
    q["bookings"] = q["bookings"].fillna(0.0)
    q["attainment"] = q["bookings"] / q["quota"].where(q["quota"] > 0)
    q["met"] = q["attainment"] >= 1
    q = q.sort_values(["rep_id", "period"])
    # Consecutive misses: the streak restarts after a met quarter or a quarter without a quota.
    uniq = pd.Index(sorted(q["period"].unique()))
    ordinal = pd.Series([to_period(p, ds.fiscal_year_start).ordinal for p in uniq], index=uniq)
    n_ord = q["period"].map(ordinal)
    contiguous = n_ord.groupby(q["rep_id"]).diff().eq(1)
    miss = (~q["met"] & q["attainment"].notna()).astype(int)
    block = (~contiguous | (miss == 0)).cumsum()
    q["misses"] = miss.groupby(block).cumsum()
    team = ds.reps.set_index("rep_id")["team"]
    q["team"] = q["rep_id"].map(team).fillna("unassigned")
    out = []
    if "rep" in dimensions:
        r = q.assign(dimension="rep", group=q["rep_id"].astype("str"))
        out.append(as_rows(r, "quota_attainment", "attainment", "quota", note=np.where(r["quota"] > 0, "", "quota is 0")))
        out.append(as_rows(r, "consecutive_misses", "misses"))
    for dim in [d for d in dimensions if d in ("company", "team")]:
        grp = "all" if dim == "company" else q["team"]
        a = q[q["attainment"].notna()].assign(group=grp).groupby(["group", "period"])["met"].agg(["sum", "size"]).reset_index()
        a["dimension"] = dim
        a["v"] = a["sum"] / a["size"]
        a["lo"], a["hi"] = wilson(a["sum"], a["size"], interval)
        out.append(as_rows(a, "attainment_rate", "v", "size", "lo", "hi"))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=COLUMNS)
