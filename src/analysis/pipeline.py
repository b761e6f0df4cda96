"""Metrics of the open pipeline: coverage of the next quarter's target and the value expected to be won from it
at each quarter end, and sales velocity (Little's law) at the as-of date."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.calendar import period_bounds, period_labels, shift_period
from analysis.data import Dataset
from analysis.grouping import COLUMNS, DIM_COLUMN, aggregate, as_rows, codes_of, curves_by_dimension, keyed
from analysis.present import money
from analysis.survival import cumulative_incidence, deal_times, plateau, win_probability_within


def coverage_metrics(deals: pd.DataFrame, ds: Dataset, periods: list[str], dimensions, min_at_risk: int = 50) -> pd.DataFrame:
    """At each quarter end: ``pipeline_open_amount``, ``pipeline_expected_won`` (Σ amount × P(won inside the
    next quarter | open at its age), from the segment's Aalen–Johansen curve as known then),
    ``required_coverage`` = 1 / p_q with p_q the value-weighted chance, ``pipeline_coverage`` = open amount /
    next quarter's target (company), team target or sum of team quotas (team), quota (rep), and
    ``pipeline_expected_attainment`` = expected won / that target."""
    fy = ds.fiscal_year_start
    quotas = ds.quotas
    dim_cols = sorted({DIM_COLUMN[d] for d in dimensions} - {None})
    # Masks over NumPy arrays, not a filtered copy of a million deals per quarter end.
    slim = deals[["created_date", "close_date", "status"]]
    created, close = deals["created_date"].to_numpy(), deals["close_date"].to_numpy()
    amounts = deals["amount"].to_numpy()
    seg_codes, _ = codes_of(deals["segment"])
    team_of = ds.reps.set_index("rep_id")["team"]
    bases, following, company_d, team_d, rep_d = [], {}, {}, {}, {}
    for period in periods:
        _, end = period_bounds(period, fy)
        if end > ds.as_of_date:
            continue  # the current quarter has not ended
        nxt = shift_period(period, 1, fy)
        n_start, n_end = period_bounds(nxt, fy)
        horizon = float((n_end - n_start).days + 1)
        known = created <= np.datetime64(end)
        window = known & (created > np.datetime64(end - pd.DateOffset(years=1)))
        open_at = np.flatnonzero(known & ~(close <= np.datetime64(end)))
        if len(open_at) == 0:
            continue
        pi = np.zeros(len(open_at))
        age = ((np.datetime64(end) - created[open_at]) // np.timedelta64(1, "D")).astype(float)
        times = deal_times(slim[window], end)
        w_seg, o_seg = seg_codes[window], seg_codes[open_at]
        curves = cumulative_incidence(w_seg, times["time"].to_numpy(), times["event"].to_numpy())
        all_curve = cumulative_incidence(np.zeros(len(w_seg), int), times["time"].to_numpy(), times["event"].to_numpy())
        segs = np.unique(w_seg[w_seg >= 0])  # the segments with deals in the window, each with its own curve
        for i in segs:
            mask = o_seg == i
            curve = curves[curves["gid"] == i]
            if curve["cohort"].iloc[0] < min_at_risk:
                curve = all_curve
            pi[mask] = win_probability_within(curve, age[mask], horizon)
        other = ~np.isin(o_seg, segs)
        if other.any():
            pi[other] = win_probability_within(all_curve, age[other], horizon)
        missing = np.isnan(amounts[open_at])
        amount = np.where(missing, 0.0, amounts[open_at])
        base = pd.DataFrame({"amount": amount, "exp": amount * pi, "missing": missing, "period": period})
        for col in dim_cols:
            base[col] = deals[col].array.take(open_at)
        bases.append(base)
        # What the next quarter's pipeline is measured against: the targets and quotas of that quarter.
        company_t, team_t = ds.targets_for(nxt)
        qn = quotas[quotas["period"] == nxt]
        following[period] = nxt
        team_q = qn.assign(team=qn["rep_id"].map(team_of)).groupby("team")["quota"].sum()
        company_d[period] = company_t if company_t is not None else (float(qn["quota"].sum()) if len(qn) else np.nan)
        team_d |= {(period, t): v for t, v in team_q.items()} | {(period, t): v for t, v in team_t.items() if pd.notna(v)}  # target first
        rep_d |= {(period, r): v for r, v in zip(qn["rep_id"], qn["quota"], strict=True)}
    if not bases:
        return pd.DataFrame(columns=COLUMNS)
    # One grouping for every quarter end (the sums are the same as quarter by quarter, each over the same rows).
    a = aggregate(
        pd.concat(bases, ignore_index=True),
        dimensions,
        "period",
        amount=("amount", "sum"),
        exp=("exp", "sum"),
        n=("amount", "size"),
        missing=("missing", "sum"),
    )
    unpriced = (a["missing"] >= a["n"]).to_numpy()  # no open deal of the group carries an amount: no pipeline value to speak of
    a.loc[unpriced, ["amount", "exp"]] = np.nan
    a["p_q"] = a["exp"] / a["amount"].where(a["amount"] > 0)
    a["required"] = 1.0 / a["p_q"].where(a["p_q"] > 0)
    keys = list(zip(a["period"], a["group"], strict=True))
    dims = a["dimension"].to_numpy()
    denom = np.array(
        [
            company_d[p]
            if d == "company"
            else team_d.get((p, g), np.nan)
            if d == "team"
            else rep_d.get((p, g), np.nan)
            if d == "rep"
            else np.nan
            for d, (p, g) in zip(dims, keys, strict=True)
        ],
        dtype=float,
    )
    a["denom"] = np.where(denom > 0, denom, np.nan)
    a["coverage"] = a["amount"] / a["denom"]
    a["exp_att"] = a["exp"] / a["denom"]
    nxt = a["period"].map(following).to_numpy(dtype=object)
    miss_note = np.where(
        unpriced,
        "open deals carry no amount",
        np.where(a["missing"] > 0, a["missing"].astype(int).astype(str) + " open deal(s) without an amount count as 0", ""),
    )
    no_target = np.where(unpriced, "open deals carry no amount", np.where(a["denom"].isna(), "no target or quota for " + nxt, miss_note))
    return pd.concat(
        [
            as_rows(a, "pipeline_open_amount", "amount", "n", note=miss_note),
            as_rows(
                a,
                "pipeline_expected_won",
                "exp",
                "n",
                note=np.where(unpriced, "open deals carry no amount", "expected to be won in " + nxt),
            ),
            as_rows(
                a,
                "required_coverage",
                "required",
                "n",
                note=np.where(
                    a["p_q"] > 0,
                    "1 / chance an open deal is won in " + nxt,
                    np.where(unpriced, "open deals carry no amount", "no open deal is expected to be won in " + nxt),
                ),
            ),
            as_rows(a, "pipeline_coverage", "coverage", "n", note=no_target),
            as_rows(a, "pipeline_expected_attainment", "exp_att", "n", note=no_target),
        ],
        ignore_index=True,
    )


def velocity_by(
    opps: pd.DataFrame, as_of: pd.Timestamp, dimensions=("company",), window_days: int = 365, min_at_risk: int = 50
) -> pd.DataFrame:
    """Sales velocity by Little's law (docs/methods.md §2.6), V = N · p · D / L per day, per dimension and group.

    N = deals open at ``as_of``; p = Aalen–Johansen eventual win rate of the deals created in the trailing
    window; D = mean amount of the deals won in the window; L = mean days in pipeline of **all** deals closed
    in the window (won and lost). Returns ``dimension``, ``group``, ``n_open``, ``win_rate``, ``deal_size``,
    ``days_in_pipeline``, ``velocity``. ``opps`` needs the dimension columns (``team`` for team).
    """
    as_of = pd.Timestamp(as_of)
    start = as_of - pd.Timedelta(days=window_days)
    known = opps[opps["created_date"] <= as_of]
    closed = (known["close_date"] <= as_of).to_numpy()
    in_window = closed & (known["close_date"] > start).to_numpy()
    won = in_window & known["status"].eq("won").to_numpy()
    times = deal_times(known, as_of)
    base = pd.DataFrame(
        {
            "open": ~closed,
            "size": known["amount"].where(won).to_numpy(),
            "length": (known["close_date"] - known["created_date"]).dt.days.where(in_window).to_numpy(dtype=float),
            "cohort": (known["created_date"] > start).to_numpy(),
            "time": times["time"].to_numpy(),
            "event": times["event"].to_numpy(),
        }
    )
    for col in {DIM_COLUMN[d] for d in dimensions} - {None}:
        base[col] = known[col].array
    out = aggregate(base, dimensions, None, n_open=("open", "sum"), deal_size=("size", "mean"), days_in_pipeline=("length", "mean")).drop(
        columns="period"
    )
    co = base[base["cohort"]]
    rows, gid, labels = keyed(co, dimensions, None)
    read = plateau(curves_by_dimension(gid, labels, co["time"].to_numpy()[rows], co["event"].to_numpy()[rows]), min_at_risk)
    p = labels.iloc[read["gid"]][["dimension", "group"]].assign(win_rate=read["cif_won"].to_numpy())
    out = out.merge(p, on=["dimension", "group"], how="left")
    out["velocity"] = out["n_open"] * out["win_rate"] * out["deal_size"] / out["days_in_pipeline"].where(out["days_in_pipeline"] > 0)
    return out


def velocity(opps: pd.DataFrame, as_of: pd.Timestamp, window_days: int = 365, min_at_risk: int = 50) -> dict[str, float]:
    """:func:`velocity_by` for one set of deals: ``n_open``, ``win_rate``, ``deal_size``, ``days_in_pipeline``, ``velocity``."""
    row = velocity_by(opps, as_of, ("company",), window_days, min_at_risk).iloc[0]
    return {k: float(row[k]) for k in ("n_open", "win_rate", "deal_size", "days_in_pipeline", "velocity")}


def velocity_metrics(deals: pd.DataFrame, as_of: pd.Timestamp, dimensions, freq: str, fy: int, min_at_risk: int = 50) -> pd.DataFrame:
    """``velocity`` (revenue per day, Little's law) per group at the as-of date, over the trailing year."""
    v = velocity_by(deals, as_of, dimensions, min_at_risk=min_at_risk)
    v["period"] = period_labels(pd.Series([as_of]), freq, fy).iloc[0]
    notes = [
        f"at {as_of.date()}: {int(r.n_open)} open x win rate {r.win_rate:.2f} x deal size {money(r.deal_size)} / {r.days_in_pipeline:.0f} days (trailing year)"
        if np.isfinite(r.velocity)
        else "undefined: no deals closed, or none created, in the trailing year"
        for r in v.itertuples()
    ]
    return as_rows(v, "velocity", "velocity", "n_open", note=notes)
