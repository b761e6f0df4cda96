"""Metrics of deal outcomes: bookings, win rates, deal size and cycle of the deals closed in a period; the
censoring-aware win rate and cycle of the deals created in it (cohorts); per-rep shrunk win rate and deal size."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from analysis.calendar import period_bounds
from analysis.data import Dataset
from analysis.formulas import wilson
from analysis.grouping import COLUMNS, DIM_COLUMN, as_rows, codes_of, curves_by_dimension, keyed
from analysis.shrinkage import fit_beta_prior, shrink_log_means, shrink_rates
from analysis.survival import deal_times, plateau, winner_cycle_quantiles


def _grid(deals: pd.DataFrame, ds: Dataset, periods: list[str], freq: str, dimensions) -> pd.DataFrame:
    """Every (dimension, group, period) a metric is reported for: all groups seen in the data × periods;
    reps: every rep in ``reps`` for the periods they were employed (so a rep with no deals still appears)."""
    parts = []
    fy = ds.fiscal_year_start
    for dim in dimensions:
        if dim == "rep":
            reps = ds.reps
            for period in periods:
                start, end = period_bounds(period, fy)
                emp = reps[~(reps["hire_date"] > end) & ~(reps["end_date"] < start)]
                parts.append(pd.DataFrame({"dimension": dim, "group": emp["rep_id"].astype("str").to_numpy(), "period": period}))
            continue
        col = DIM_COLUMN[dim]
        if col is None:
            groups = ["all"]
        else:
            codes, uniques = codes_of(deals[col])
            groups = uniques[np.unique(codes[codes >= 0])].astype(str).tolist()  # sorted, as the codes are
        idx = pd.MultiIndex.from_product([[dim], groups, periods], names=["dimension", "group", "period"])
        parts.append(idx.to_frame(index=False))
    return pd.concat(parts, ignore_index=True)


def closed_metrics(deals: pd.DataFrame, ds: Dataset, periods: list[str], freq: str, dimensions, interval: float) -> pd.DataFrame:
    """Descriptive metrics of deals whose close date falls in the period."""
    closed = deals[deals["status"].ne("open") & deals["period_closed"].notna()]
    won = closed["status"].eq("won")
    base = pd.DataFrame(
        {
            "period": closed["period_closed"].array,  # categorical: grouped by its codes
            "won": won.to_numpy(),
            "lost": (~won).to_numpy(),
            "won_amount": closed["amount"].where(won).to_numpy(),
            "won_cycle": (closed["close_date"] - closed["created_date"]).dt.days.where(won).to_numpy(dtype=float),
            "new": (won & closed["type"].eq("new")).to_numpy(),
        }
    )
    for col in set(DIM_COLUMN.values()) - {None}:
        base[col] = closed[col].array
    # Counts by integer codes; the amounts and cycles (NaN on lost deals, which every statistic skips) from the won
    # deals only: the same numbers as one groupby over every closed deal, on a third of the rows.
    rows, gid, agg = keyed(base, dimensions, "period")
    won_rows = base["won"].to_numpy()[rows]
    for col, hit in (("won_deals", won_rows), ("lost_deals", ~won_rows), ("new_customers", base["new"].to_numpy()[rows])):
        agg[col] = np.bincount(gid[hit], minlength=len(agg))
    at = rows[won_rows]
    sizes = pd.DataFrame({c: base[c].to_numpy()[at] for c in ("won_amount", "won_cycle")}).groupby(gid[won_rows], sort=True)
    sizes = sizes.agg(
        bookings=("won_amount", "sum"),
        mean_size=("won_amount", "mean"),
        sd_size=("won_amount", "std"),
        median_size=("won_amount", "median"),
        median_cycle=("won_cycle", "median"),
    )
    for col in sizes:
        agg[col] = sizes[col].reindex(range(len(agg)), fill_value=0.0 if col == "bookings" else np.nan).to_numpy()
    grid = _grid(deals, ds, periods, freq, dimensions)
    a = grid.merge(agg, on=["dimension", "group", "period"], how="outer")  # + reps closing deals after leaving
    for col in ("won_deals", "lost_deals", "bookings", "new_customers"):
        a[col] = a[col].fillna(0.0)
    return closed_rows(a, interval)


def closed_rows(a: pd.DataFrame, interval: float) -> pd.DataFrame:
    """The closed-in-period metrics' rows from per-group aggregates (``dimension``, ``group``, ``period``,
    ``won_deals``, ``lost_deals``, ``bookings``, ``mean_size``, ``sd_size``, ``median_size``, ``median_cycle``,
    ``new_customers``), however they were computed (here, or inside a database: :mod:`analysis.pushdown`)."""
    a = a.copy()
    a["closed"] = a["won_deals"] + a["lost_deals"]
    a["win_rate"] = np.where(a["closed"] > 0, a["won_deals"] / a["closed"].where(a["closed"] > 0), np.nan)
    a["wr_lo"], a["wr_hi"] = wilson(a["won_deals"], a["closed"], interval)
    t = stats.t.ppf(1 - (1 - interval) / 2, np.maximum(a["won_deals"] - 1, 1))
    half = t * a["sd_size"] / np.sqrt(a["won_deals"].where(a["won_deals"] > 0))
    a["size_lo"], a["size_hi"] = a["mean_size"] - half, a["mean_size"] + half
    no_closed = np.where(a["closed"] > 0, "", "no closed deals")
    no_won = np.where(a["won_deals"] > 0, "", np.where(a["closed"] > 0, "no won deals", "no closed deals"))
    one_won = np.where(a["won_deals"] == 1, "one won deal: no interval", no_won)
    return pd.concat(
        [
            as_rows(a, "bookings", "bookings", "won_deals"),
            as_rows(a, "won_deals", "won_deals", "closed"),
            as_rows(a, "lost_deals", "lost_deals", "closed"),
            as_rows(a, "win_rate", "win_rate", "closed", "wr_lo", "wr_hi", no_closed),
            as_rows(a, "avg_deal_size", "mean_size", "won_deals", "size_lo", "size_hi", one_won),
            as_rows(a, "median_deal_size", "median_size", "won_deals", note=no_won),
            as_rows(a, "median_cycle_days", "median_cycle", "won_deals", note=no_won),
            as_rows(a, "new_customers", "new_customers", "won_deals"),
        ],
        ignore_index=True,
    )


def cohort_metrics(deals: pd.DataFrame, as_of: pd.Timestamp, dimensions, interval: float, min_at_risk: int = 50) -> pd.DataFrame:
    """Censoring-aware estimates for the opportunities **created** in each period (docs/methods.md §2.1, §2.2):
    ``win_rate_cohort`` (Aalen–Johansen, won vs lost, open censored at the as-of date, read at the last time
    with enough deals at risk) beside ``win_rate_cohort_naive`` (won / closed of the same cohort), and the
    time to win among eventual winners ``cycle_days_cohort`` with ``cycle_days_cohort_p25`` / ``_p75``."""
    times = deal_times(deals, as_of)
    base = pd.DataFrame({"period": deals["period_created"].array, "time": times["time"].to_numpy(), "event": times["event"].to_numpy()})
    for col in set(DIM_COLUMN.values()) - {None}:
        base[col] = deals[col].array
    rows, gid, labels = keyed(base, dimensions, "period")
    event = base["event"].to_numpy()[rows]
    curves = curves_by_dimension(gid, labels, base["time"].to_numpy()[rows], event)
    read = plateau(curves, min_at_risk)
    cyc = winner_cycle_quantiles(curves, read)
    r = labels.iloc[read["gid"]].reset_index(drop=True).join(read.drop(columns="gid"))
    r = r.join(cyc.drop(columns="gid"))
    z = stats.norm.ppf(1 - (1 - interval) / 2)
    r["lo"] = (r["cif_won"] - z * r["se_won"]).clip(0, 1)
    r["hi"] = (r["cif_won"] + z * r["se_won"]).clip(0, 1)
    labels["won"] = np.bincount(gid, weights=event == 1, minlength=len(labels))
    labels["lost"] = np.bincount(gid, weights=event == 2, minlength=len(labels))
    labels["closed"] = labels["won"] + labels["lost"]
    labels["naive"] = labels["won"] / labels["closed"].where(labels["closed"] > 0)
    labels["n_lo"], labels["n_hi"] = wilson(labels["won"], labels["closed"], interval)
    # A cohort none of whose deals has closed has no win rate yet (the estimate would read 0 with a [0, 0] interval).
    closed_n = labels["closed"].to_numpy()[read["gid"].to_numpy()]
    r.loc[closed_n == 0, ["cif_won", "lo", "hi"]] = np.nan
    read_note = np.array(
        [
            f"read at day {int(t)} of {int(n)} deals" if c > 0 else "none of its deals has closed yet"
            for t, n, c in zip(r["t_star"], r["cohort"], closed_n, strict=True)
        ],
        dtype=object,
    )
    no_win = np.where(r["q50"].notna(), read_note, np.where(closed_n > 0, "no won deals in the cohort", "none of its deals has closed yet"))
    return pd.concat(
        [
            as_rows(r, "win_rate_cohort", "cif_won", "cohort", "lo", "hi", read_note),
            as_rows(
                labels,
                "win_rate_cohort_naive",
                "naive",
                "closed",
                "n_lo",
                "n_hi",
                np.where(labels["closed"] > 0, "closed deals only (ignores open deals)", "no closed deals yet"),
            ),
            as_rows(r, "cycle_days_cohort", "q50", "cohort", note=no_win),
            as_rows(r, "cycle_days_cohort_p25", "q25", "cohort", note=no_win),
            as_rows(r, "cycle_days_cohort_p75", "q75", "cohort", note=no_win),
        ],
        ignore_index=True,
    )


def shrunk_metrics(deals: pd.DataFrame, interval: float) -> pd.DataFrame:
    """Per-rep ``win_rate_shrunk`` (beta-binomial) and ``avg_deal_size_shrunk`` (normal-normal on log amount),
    each prior fitted across the reps of the same period (docs/methods.md §2.7).

    The tallies of every (period, rep) are taken in one grouping and only the priors period by period: the same
    numbers as grouping each period's deals on its own, at a fraction of the cost over three years of months."""
    closed = deals.loc[deals["status"].ne("open") & deals["period_closed"].notna(), ["owner_id", "period_closed", "status", "amount"]]
    if closed.empty:
        return pd.DataFrame(columns=COLUMNS)
    is_won = closed["status"].eq("won").to_numpy()
    base = pd.DataFrame({"period": closed["period_closed"].array, "owner": closed["owner_id"].array, "won": is_won})
    tally = base.groupby(["period", "owner"], sort=True, observed=True)["won"].agg(won="sum", n="size").reset_index()
    bounds = _runs(tally["period"])
    x, n = tally["won"].to_numpy(dtype=float), tally["n"].to_numpy(dtype=float)
    a, b = np.empty(len(tally)), np.empty(len(tally))
    for lo, hi in bounds:
        a[lo:hi], b[lo:hi] = fit_beta_prior(tally["won"].iloc[lo:hi], tally["n"].iloc[lo:hi])
    sh = shrink_rates(x, n, interval, prior=(a, b))
    rates = pd.DataFrame(
        {
            "dimension": "rep",
            "group": tally["owner"].astype("str").to_numpy(),
            "period": tally["period"].astype("str").to_numpy(),
            "v": sh["estimate"],
            "n": tally["n"],
            "lo": sh["lower"],
            "hi": sh["upper"],
        }
    )
    # Deal size: the won deals with an amount, in deal order within each period; its prior is fitted period by period.
    priced = closed[is_won & (closed["amount"] > 0).to_numpy()]
    order = np.argsort(priced["period_closed"].cat.codes.to_numpy(), kind="stable")
    priced = priced.iloc[order]
    amount = priced["amount"].to_numpy(dtype=float)
    owner = priced["owner_id"].astype("str").to_numpy()
    sizes, size_periods = [], []
    for lo, hi in _runs(priced["period_closed"]):
        # Each period on arrays of its own, grouped on its own: NumPy's vectorised loops and pandas' grouped sums
        # round the last digit by where a value sits, and a period's figures must not depend on the other periods.
        sizes.append(shrink_log_means(pd.Series(owner[lo:hi]), pd.Series(amount[lo:hi].copy()), interval))
        size_periods.append(np.full(len(sizes[-1]), priced["period_closed"].cat.codes.iloc[lo]))
    size = pd.concat(sizes, ignore_index=True) if sizes else pd.DataFrame(columns=["group", "n", "estimate", "lower", "upper"])
    size_codes = np.concatenate(size_periods) if size_periods else np.zeros(0, dtype=np.int64)
    labels = np.array([str(c) for c in priced["period_closed"].cat.categories], dtype=object)
    # Period by period, the win rates then the deal sizes (the order grouping each period on its own gave).
    out = pd.concat(
        [
            as_rows(rates, "win_rate_shrunk", "v", "n", "lo", "hi", "empirical Bayes (beta-binomial) across reps"),
            as_rows(
                pd.DataFrame(
                    {
                        "dimension": "rep",
                        "group": size["group"].to_numpy(),
                        "period": labels[size_codes],
                        "v": size["estimate"].to_numpy(),
                        "n": size["n"].to_numpy(),
                        "lo": size["lower"].to_numpy(),
                        "hi": size["upper"].to_numpy(),
                    }
                ),
                "avg_deal_size_shrunk",
                "v",
                "n",
                "lo",
                "hi",
                "empirical Bayes (normal-normal on log amount) across reps",
            ),
        ],
        ignore_index=True,
    )
    key = np.r_[tally["period"].cat.codes.to_numpy(), size_codes]
    return out.iloc[np.argsort(key, kind="stable")].reset_index(drop=True)


def _runs(codes: pd.Series) -> list[tuple[int, int]]:
    """The (start, end) of each run of equal values in a sorted column."""
    v = codes.cat.codes.to_numpy() if isinstance(codes.dtype, pd.CategoricalDtype) else pd.factorize(codes)[0]
    if not len(v):
        return []
    starts = np.flatnonzero(np.r_[True, v[1:] != v[:-1]])
    return list(zip(starts.tolist(), np.r_[starts[1:], len(v)].tolist(), strict=True))
