"""The metrics table: every number a sales organisation runs on, defined once (``docs/metrics.md``).

:func:`metrics_table` returns one long table with columns ``metric``, ``dimension``, ``group``, ``period``,
``value``, ``n``, ``lower``, ``upper``, ``note`` for ``dimension`` in company (group ``all``), team, segment,
rep and lead_source, by fiscal quarter (``freq="Q"``) or month (``freq="M"``). ``n`` is the number of
observations behind the value; ``lower``/``upper`` the interval (90 % by default) where one makes sense;
``note`` says why a value is missing or how to read it — a value is never silently NaN.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from analysis.calendar import DAYS_PER_MONTH, period_bounds, period_of, shift_period, to_period
from analysis.config import PROJECT_DIR
from analysis.data import CLOSING_STAGES, Dataset, stage_sequence
from analysis.present import money
from analysis.shrinkage import shrink_log_means, shrink_rates
from analysis.survival import cumulative_incidence, deal_times, plateau, win_probability_within, winner_cycle_quantiles

DIMENSIONS = ("company", "team", "segment", "rep", "lead_source")
COLUMNS = ["metric", "dimension", "group", "period", "value", "n", "lower", "upper", "note"]
_DIM_COLUMN = {"company": None, "team": "team", "segment": "segment", "rep": "owner_id", "lead_source": "lead_source"}


# --------------------------------------------------------------------------------------------------
# Periods and stacking
# --------------------------------------------------------------------------------------------------
def period_labels(dates: pd.Series, freq: str = "Q", fiscal_year_start: int = 1) -> pd.Series:
    """Fiscal quarter (``2026Q1``) or month (``2026-01``) label of each date; missing for NaT."""
    if freq == "Q":
        return period_of(dates, fiscal_year_start)
    if freq == "M":
        codes, uniques = pd.factorize(dates)
        labels = pd.DatetimeIndex(uniques).strftime("%Y-%m").to_numpy(dtype=object)
        return pd.Series(
            np.where(codes >= 0, labels[np.clip(codes, 0, None)] if len(labels) else None, None), index=dates.index, dtype="string"
        )
    raise ValueError(f"freq must be 'Q' or 'M', got {freq!r}")


def bounds(label: str, freq: str = "Q", fiscal_year_start: int = 1) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day of a period label."""
    if freq == "Q":
        return period_bounds(label, fiscal_year_start)
    start = pd.Timestamp(f"{label}-01")
    return start, start + pd.offsets.MonthEnd(0)


def periods_between(first: pd.Timestamp, last: pd.Timestamp, freq: str = "Q", fiscal_year_start: int = 1) -> list[str]:
    labels = period_labels(pd.Series(pd.date_range(first.normalize(), last.normalize(), freq="D")), freq, fiscal_year_start)
    return list(dict.fromkeys(labels.tolist()))


def with_owner(ds: Dataset) -> pd.DataFrame:
    """Opportunities with the owner's ``team`` (``unassigned`` if the owner has none)."""
    team = ds.reps.set_index("rep_id")["team"]
    return ds.opportunities.assign(team=ds.opportunities["owner_id"].map(team).fillna("unassigned"))


def keyed(frame: pd.DataFrame, dimensions=DIMENSIONS, period: str | None = "period") -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Which (dimension, group[, period]) each row belongs to, as integer codes.

    Returns ``rows`` (positions into ``frame``, once per dimension), ``gid`` (the group of each of those) and
    ``labels`` (``dimension``, ``group``, ``period`` of each gid, in gid order). Rows with a missing group or
    period belong to no group of that dimension. Codes, not strings, keep a million deals × five dimensions fast.
    """
    zeros = np.zeros(len(frame), dtype=np.int64)
    if period is None:
        pcodes, puniq = zeros, np.array([""], dtype=object)
    else:
        pcodes, puniq = pd.factorize(frame[period], sort=True)  # sorted: codes never depend on row order
        puniq = np.asarray(puniq, dtype=object)
    npd = max(len(puniq), 1)
    rows, gids, labels, offset = [], [], [], 0
    for dim in dimensions:
        col = _DIM_COLUMN[dim]
        if col is None:
            gcodes, guniq = zeros, np.array(["all"], dtype=object)
        else:
            gcodes, guniq = pd.factorize(frame[col], sort=True)
            guniq = np.asarray(guniq, dtype=object)
        ok = (gcodes >= 0) & (pcodes >= 0)
        uk, inv = np.unique(gcodes[ok].astype(np.int64) * npd + pcodes[ok], return_inverse=True)
        rows.append(np.flatnonzero(ok))
        gids.append(inv + offset)
        labels.append(pd.DataFrame({"dimension": dim, "group": guniq[uk // npd].astype(str), "period": puniq[uk % npd]}))
        offset += len(uk)
    return np.concatenate(rows), np.concatenate(gids), pd.concat(labels, ignore_index=True)


def _aggregate(frame: pd.DataFrame, dimensions, period: str | None, **aggs) -> pd.DataFrame:
    """``frame`` grouped by every (dimension, group[, period]) with named aggregations (pandas ``agg`` style):
    returns ``dimension``, ``group``, ``period`` and one column per aggregation."""
    rows, gid, labels = keyed(frame, dimensions, period)
    cols = sorted({c for c, _ in aggs.values()})
    values = pd.DataFrame({c: frame[c].to_numpy()[rows] for c in cols})
    values["gid"] = gid
    out = values.groupby("gid", sort=True).agg(**aggs)
    return labels.iloc[out.index].reset_index(drop=True).join(out.reset_index(drop=True))


def _rows(
    frame: pd.DataFrame, metric: str, value: str, n: str | None = None, lower: str | None = None, upper: str | None = None, note=None
) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "metric": metric,
            "dimension": frame["dimension"].reset_index(drop=True),
            "group": frame["group"].reset_index(drop=True),
            "period": frame["period"].reset_index(drop=True),
            "value": frame[value].to_numpy(dtype=float),
            "n": frame[n].to_numpy(dtype=float) if n else np.nan,
            "lower": frame[lower].to_numpy(dtype=float) if lower else np.nan,
            "upper": frame[upper].to_numpy(dtype=float) if upper else np.nan,
        }
    )
    if isinstance(note, str) or note is None:
        out["note"] = note or ""
    else:
        out["note"] = np.asarray(note, dtype=object)
    out.loc[out["value"].isna() & out["note"].eq(""), "note"] = "undefined"
    return out


def wilson(successes, trials, interval: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a proportion; NaN where there are no trials."""
    x = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    lo, hi = np.full(len(x), np.nan), np.full(len(x), np.nan)
    ok = n > 0
    if ok.any():
        lo[ok], hi[ok] = proportion_confint(x[ok], n[ok], alpha=1 - interval, method="wilson")
    return lo, hi


# --------------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------------
def metrics_table(
    ds: Dataset,
    freq: str = "Q",
    dimensions=DIMENSIONS,
    interval: float = 0.9,
    cac_lag_months: int | None = None,
    gross_margin: float | None = None,
    revenue_per_customer: float | None = None,
    min_at_risk: int = 50,
) -> pd.DataFrame:
    """Every metric of ``docs/metrics.md`` for the periods from the first deal to the as-of date.

    ``cac_lag_months`` defaults to the company's median won cycle in whole months; CAC payback needs
    ``gross_margin`` (share) and ``revenue_per_customer`` (monthly recurring revenue of a new customer).
    The current period is partial (``note`` says so on its rows).
    """
    for dim in dimensions:
        if dim not in _DIM_COLUMN:
            raise ValueError(f"unknown dimension {dim!r}; choose from {DIMENSIONS}")
    fy = ds.fiscal_year_start
    needed = ["opportunity_id", "owner_id", "team", "segment", "lead_source", "created_date", "close_date", "status", "amount", "type"]
    deals = with_owner(ds)[needed]  # every filter below copies the frame: carry only what is used
    if deals.empty:
        return pd.DataFrame(columns=COLUMNS)
    first = deals["created_date"].min()
    periods = periods_between(first, ds.as_of_date, freq, fy)
    deals["period_created"] = period_labels(deals["created_date"], freq, fy).astype("category")
    deals["period_closed"] = period_labels(deals["close_date"], freq, fy).astype("category")
    for col in {_DIM_COLUMN[d] for d in DIMENSIONS} - {None}:
        deals[col] = deals[col].astype("category")  # factorised once; every grouping below reuses the codes
    # Stage history is independent of the rest and mostly NumPy/Arrow work that releases the GIL:
    # on a 2-core machine it runs beside the other metrics in a second thread.
    pool = ThreadPoolExecutor(max_workers=1)
    stages = pool.submit(stage_metrics, ds, freq, interval, min_at_risk) if ds.has("stage_history") else None
    parts = [
        closed_metrics(deals, ds, periods, freq, dimensions, interval),
        cohort_metrics(deals, ds.as_of_date, dimensions, interval, min_at_risk),
    ]
    if "rep" in dimensions:
        parts.append(shrunk_metrics(deals, interval))
    lead_dims = [d for d in dimensions if d in ("company", "lead_source")]
    if ds.has("leads") and lead_dims:
        parts.append(lead_metrics(ds, freq, lead_dims, interval))
    if ds.has("spend"):
        lag = cac_lag_months if cac_lag_months is not None else default_cac_lag(deals)
        parts.append(cac_metrics(deals, ds, periods, freq, lag, gross_margin, revenue_per_customer))
    quota_dims = [d for d in dimensions if d in ("company", "team", "rep")]
    if ds.has("quotas") and freq == "Q" and quota_dims:
        parts.append(attainment_metrics(deals, ds, quota_dims, interval))
    if freq == "Q":
        parts.append(coverage_metrics(deals, ds, periods, dimensions, min_at_risk))
    parts.append(velocity_metrics(deals, ds.as_of_date, dimensions, freq, fy, min_at_risk))
    if stages is not None:
        parts.append(stages.result())
    pool.shutdown()
    table = pd.concat([p for p in parts if len(p)], ignore_index=True)[COLUMNS]
    current = period_labels(pd.Series([ds.as_of_date]), freq, fy).iloc[0]
    _, end = bounds(current, freq, fy)
    if ds.as_of_date < end:
        partial = table["period"].eq(current)
        table.loc[partial, "note"] = np.where(
            table.loc[partial, "note"].eq(""),
            f"partial period to {ds.as_of_date.date()}",
            table.loc[partial, "note"] + f"; partial period to {ds.as_of_date.date()}",
        )
    # Sorted by integer codes of the four keys (a string sort of a million rows costs seconds).
    codes = [pd.factorize(table[c].astype("str"), sort=True)[0] for c in ("period", "group", "dimension", "metric")]
    table = table.iloc[np.lexsort(codes)].reset_index(drop=True)
    return table.astype({c: "str" for c in ("metric", "dimension", "group", "period", "note")})


def _grid(deals: pd.DataFrame, ds: Dataset, periods: list[str], freq: str, dimensions) -> pd.DataFrame:
    """Every (dimension, group, period) a metric is reported for: all groups seen in the data × periods;
    reps: every rep in ``reps`` for the periods they were employed (so a rep with no deals still appears)."""
    parts = []
    fy = ds.fiscal_year_start
    for dim in dimensions:
        if dim == "rep":
            reps = ds.reps
            for period in periods:
                start, end = bounds(period, freq, fy)
                emp = reps[~(reps["hire_date"] > end) & ~(reps["end_date"] < start)]
                parts.append(pd.DataFrame({"dimension": dim, "group": emp["rep_id"].astype("str").to_numpy(), "period": period}))
            continue
        col = _DIM_COLUMN[dim]
        groups = ["all"] if col is None else sorted(deals[col].dropna().astype("str").unique())
        idx = pd.MultiIndex.from_product([[dim], groups, periods], names=["dimension", "group", "period"])
        parts.append(idx.to_frame(index=False))
    return pd.concat(parts, ignore_index=True)


def closed_metrics(deals: pd.DataFrame, ds: Dataset, periods: list[str], freq: str, dimensions, interval: float) -> pd.DataFrame:
    """Descriptive metrics of deals whose close date falls in the period."""
    closed = deals[deals["status"].ne("open") & deals["period_closed"].notna()]
    won = closed["status"].eq("won")
    base = pd.DataFrame(
        {
            "period": closed["period_closed"].astype("str").to_numpy(),
            "won": won.to_numpy(),
            "lost": (~won).to_numpy(),
            "won_amount": closed["amount"].where(won).to_numpy(),
            "won_cycle": (closed["close_date"] - closed["created_date"]).dt.days.where(won).to_numpy(dtype=float),
            "new": (won & closed["type"].eq("new")).to_numpy(),
        }
    )
    for col in set(_DIM_COLUMN.values()) - {None}:
        base[col] = closed[col].to_numpy()
    agg = _aggregate(
        base,
        dimensions,
        "period",
        won_deals=("won", "sum"),
        lost_deals=("lost", "sum"),
        bookings=("won_amount", "sum"),
        mean_size=("won_amount", "mean"),
        sd_size=("won_amount", "std"),
        median_size=("won_amount", "median"),
        median_cycle=("won_cycle", "median"),
        new_customers=("new", "sum"),
    )
    grid = _grid(deals, ds, periods, freq, dimensions)
    a = grid.merge(agg, on=["dimension", "group", "period"], how="outer")  # + reps closing deals after leaving
    for col in ("won_deals", "lost_deals", "bookings", "new_customers"):
        a[col] = a[col].fillna(0.0)
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
            _rows(a, "bookings", "bookings", "won_deals"),
            _rows(a, "won_deals", "won_deals", "closed"),
            _rows(a, "lost_deals", "lost_deals", "closed"),
            _rows(a, "win_rate", "win_rate", "closed", "wr_lo", "wr_hi", no_closed),
            _rows(a, "avg_deal_size", "mean_size", "won_deals", "size_lo", "size_hi", one_won),
            _rows(a, "median_deal_size", "median_size", "won_deals", note=no_won),
            _rows(a, "median_cycle_days", "median_cycle", "won_deals", note=no_won),
            _rows(a, "new_customers", "new_customers", "won_deals"),
        ],
        ignore_index=True,
    )


def cohort_metrics(deals: pd.DataFrame, as_of: pd.Timestamp, dimensions, interval: float, min_at_risk: int = 50) -> pd.DataFrame:
    """Censoring-aware estimates for the opportunities **created** in each period (docs/methods.md §2.1, §2.2):
    ``win_rate_cohort`` (Aalen–Johansen, won vs lost, open censored at the as-of date, read at the last time
    with enough deals at risk) beside ``win_rate_cohort_naive`` (won / closed of the same cohort), and the
    time to win among eventual winners ``cycle_days_cohort`` with ``cycle_days_cohort_p25`` / ``_p75``."""
    times = deal_times(deals, as_of)
    base = pd.DataFrame(
        {"period": deals["period_created"].astype("str").to_numpy(), "time": times["time"].to_numpy(), "event": times["event"].to_numpy()}
    )
    for col in set(_DIM_COLUMN.values()) - {None}:
        base[col] = deals[col].to_numpy()
    rows, gid, labels = keyed(base, dimensions, "period")
    event = base["event"].to_numpy()[rows]
    curves = cumulative_incidence(gid, base["time"].to_numpy()[rows], event)
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
            _rows(r, "win_rate_cohort", "cif_won", "cohort", "lo", "hi", read_note),
            _rows(
                labels,
                "win_rate_cohort_naive",
                "naive",
                "closed",
                "n_lo",
                "n_hi",
                np.where(labels["closed"] > 0, "closed deals only (ignores open deals)", "no closed deals yet"),
            ),
            _rows(r, "cycle_days_cohort", "q50", "cohort", note=no_win),
            _rows(r, "cycle_days_cohort_p25", "q25", "cohort", note=no_win),
            _rows(r, "cycle_days_cohort_p75", "q75", "cohort", note=no_win),
        ],
        ignore_index=True,
    )


def shrunk_metrics(deals: pd.DataFrame, interval: float) -> pd.DataFrame:
    """Per-rep ``win_rate_shrunk`` (beta-binomial) and ``avg_deal_size_shrunk`` (normal-normal on log amount),
    each prior fitted across the reps of the same period (docs/methods.md §2.7)."""
    closed = deals[deals["status"].ne("open") & deals["period_closed"].notna()]
    parts = []
    closed = closed.assign(is_won=closed["status"].eq("won"))
    for period, frame in closed.groupby("period_closed", sort=True):
        tally = frame.groupby("owner_id")["is_won"].agg(won="sum", n="size").reset_index()
        sh = shrink_rates(tally["won"], tally["n"], interval)
        parts.append(
            _rows(
                pd.DataFrame(
                    {
                        "dimension": "rep",
                        "group": tally["owner_id"].astype("str"),
                        "period": str(period),
                        "v": sh["estimate"],
                        "n": tally["n"],
                        "lo": sh["lower"],
                        "hi": sh["upper"],
                    }
                ),
                "win_rate_shrunk",
                "v",
                "n",
                "lo",
                "hi",
                "empirical Bayes (beta-binomial) across reps",
            )
        )
        won = frame[frame["status"].eq("won") & (frame["amount"] > 0)]
        if won["owner_id"].nunique() >= 1:
            s = shrink_log_means(won["owner_id"].astype("str"), won["amount"], interval)
            parts.append(
                _rows(
                    pd.DataFrame(
                        {
                            "dimension": "rep",
                            "group": s["group"],
                            "period": str(period),
                            "v": s["estimate"],
                            "n": s["n"],
                            "lo": s["lower"],
                            "hi": s["upper"],
                        }
                    ),
                    "avg_deal_size_shrunk",
                    "v",
                    "n",
                    "lo",
                    "hi",
                    "empirical Bayes (normal-normal on log amount) across reps",
                )
            )
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=COLUMNS)


def stage_metrics(ds: Dataset, freq: str, interval: float, min_at_risk: int = 50) -> pd.DataFrame:
    """Stage-to-stage conversion (company level, group ``from → to``, period of entering ``from``):
    ``stage_conversion`` = share of the deals that left ``from`` whose next stage was ``to`` (naive), and
    ``stage_conversion_censored`` = Aalen–Johansen cumulative incidence of moving to ``to`` with the other next
    stages competing and deals still in ``from`` censored; ``stage_win_rate`` = eventual win rate of the
    deals that entered a stage (AJ from the stage entry)."""
    hist, opps = ds.stage_history, ds.opportunities
    order, opp, codes = stage_sequence(hist, opps)
    opp, codes = opp[order], codes[order]
    names = np.asarray(pd.factorize(hist["stage"], sort=True)[1], dtype=object)
    entered = hist["entered_date"].to_numpy()[order]
    same = np.r_[opp[1:] == opp[:-1], False]  # the next row is the same deal: its stage is the next stage
    to = np.where(same, np.r_[codes[1:], -1], -1)
    left_at = np.where(same, np.r_[entered[1:], entered[-1:]], np.datetime64(ds.as_of_date))
    time = ((left_at - entered) / np.timedelta64(1, "D")).astype(float)
    period = period_labels(pd.Series(entered), freq, ds.fiscal_year_start)
    pcodes, puniq = pd.factorize(period, sort=True)
    source = ~np.isin(names, CLOSING_STAGES)[codes]
    moved = to >= 0
    n_st, n_p = len(names), max(len(puniq), 1)
    z = stats.norm.ppf(1 - (1 - interval) / 2)

    # One all-cause curve per (from, period): leaving the stage is the event, still in it is censored.
    # The incidence of each next stage k is then F_k(t*) = Σ_{t_j ≤ t*} S(t_{j−1}) / n_j · d_k,j.
    key = codes[source] * n_p + pcodes[source]
    uk, gid = np.unique(key, return_inverse=True)
    t_src, moved_src, to_src = time[source], moved[source], to[source]
    curves = cumulative_incidence(gid, t_src, moved_src.astype(int))
    read = plateau(curves, min_at_risk)
    g = curves["gid"].to_numpy()
    prev = np.r_[1.0, curves["surv"].to_numpy()[:-1]]
    prev[np.r_[True, g[1:] != g[:-1]]] = 1.0
    # Each move's weight S(t−)/n at its (group, time): curves are sorted by (gid, time), so one searchsorted.
    span = float(max(t_src.max(), 0) + 1) if len(t_src) else 1.0
    curve_key = g * span + curves["time"].to_numpy()
    mv = pd.DataFrame({"gid": gid[moved_src], "time": t_src[moved_src], "to": to_src[moved_src]})
    mv["w"] = (prev / curves["n_at_risk"].to_numpy())[np.searchsorted(curve_key, mv["gid"].to_numpy() * span + mv["time"].to_numpy())]
    mv = mv.merge(read[["gid", "t_star", "cohort"]], on="gid")
    cens = mv[mv["time"] <= mv["t_star"]].groupby(["gid", "to"])["w"].sum().rename("cif").reset_index()
    cens = cens.merge(read[["gid", "cohort"]], on="gid")
    # Naive: of the deals that left "from", the share that went to "to".
    naive = mv.groupby(["gid", "to"]).size().rename("hit").reset_index()
    naive = naive.merge(
        pd.Series(np.bincount(gid[moved_src], minlength=len(uk)), name="left_stage").rename_axis("gid").reset_index(), on="gid"
    )

    def label(frame: pd.DataFrame) -> pd.DataFrame:
        k = uk[frame["gid"].to_numpy()]
        return frame.assign(
            dimension="company",
            group=names[k // n_p] + " → " + names[frame["to"].to_numpy()],
            period=np.asarray(puniq, dtype=object)[k % n_p],
        )

    naive = label(naive)
    naive["v"] = naive["hit"] / naive["left_stage"]
    naive["lo"], naive["hi"] = wilson(naive["hit"], naive["left_stage"], interval)
    cens = label(cens)

    # Eventual win rate from entering each stage (first entry per deal and stage).
    first = source & ~pd.Series(opp * n_st + codes).duplicated().to_numpy()
    o_close = opps["close_date"].to_numpy()[opp[first]]
    closed = ~pd.isna(o_close)
    end = np.where(closed, o_close, np.datetime64(ds.as_of_date))
    t = ((end - entered[first]) / np.timedelta64(1, "D")).astype(float)
    ev = np.where(~closed, 0, np.where(opps["status"].to_numpy()[opp[first]] == "won", 1, 2))
    k2 = codes[first] * n_p + pcodes[first]
    uk2, gid2 = np.unique(k2, return_inverse=True)
    w = plateau(cumulative_incidence(gid2, t, ev), min_at_risk)
    kk = uk2[w["gid"].to_numpy()]
    w = w.assign(dimension="company", group=names[kk // n_p], period=np.asarray(puniq, dtype=object)[kk % n_p])
    w["lo"], w["hi"] = (w["cif_won"] - z * w["se_won"]).clip(0, 1), (w["cif_won"] + z * w["se_won"]).clip(0, 1)
    return pd.concat(
        [
            _rows(naive, "stage_conversion", "v", "left_stage", "lo", "hi", "deals that left the stage only"),
            _rows(cens, "stage_conversion_censored", "cif", "cohort", note="deals still in the stage censored; no interval"),
            _rows(w, "stage_win_rate", "cif_won", "cohort", "lo", "hi", "eventual win rate from entering the stage"),
        ],
        ignore_index=True,
    )


def lead_metrics(ds: Dataset, freq: str, dimensions, interval: float) -> pd.DataFrame:
    """``lead_conversion`` = leads created in the period that became opportunities / leads created."""
    leads = ds.leads
    base = pd.DataFrame(
        {
            "period": period_labels(leads["created_date"], freq, ds.fiscal_year_start).astype("str").to_numpy(),
            "converted": leads["opportunity_id"].notna().to_numpy(),
            "lead_source": leads["source"].to_numpy(),
        }
    )
    a = _aggregate(base, dimensions, "period", sum=("converted", "sum"), size=("converted", "size"))
    a["v"] = a["sum"] / a["size"]
    a["lo"], a["hi"] = wilson(a["sum"], a["size"], interval)
    return _rows(a, "lead_conversion", "v", "size", "lo", "hi", "leads created in the period; recent leads may still convert")


def default_cac_lag(deals: pd.DataFrame) -> int:
    """The company's median won cycle in whole months (docs/methods.md §2.4): spend precedes its customers."""
    won = deals[deals["status"].eq("won")]
    if won.empty:
        return 0
    return int(round((won["close_date"] - won["created_date"]).dt.days.median() / DAYS_PER_MONTH))


def cac_metrics(deals, ds: Dataset, periods, freq: str, lag: int, gross_margin=None, revenue_per_customer=None) -> pd.DataFrame:
    """Company CAC per period: ``cac`` (sales + marketing spend / new customers), ``cac_paid`` (marketing
    only), ``cac_lagged`` (spend of the months ``lag`` earlier), ``cac_payback_months`` (CAC / (monthly
    revenue per new customer × gross margin)). Undefined, and flagged, with no new customers or months
    of spend missing."""
    spend = ds.spend
    monthly = spend.groupby(["month", "category"])["amount"].sum().unstack(fill_value=0.0)
    for cat in ("marketing", "sales"):
        if cat not in monthly:
            monthly[cat] = 0.0
    have = set(monthly.index)
    won_new = deals[deals["status"].eq("won") & deals["type"].eq("new") & deals["period_closed"].notna()]
    new = won_new.groupby("period_closed").size()
    out = []
    for period in periods:
        start, end = bounds(period, freq, ds.fiscal_year_start)
        months = pd.date_range(start, end, freq="MS")
        lagged = months - pd.DateOffset(months=lag)
        n_new = float(new.get(period, 0))
        missing = [m.strftime("%Y-%m") for m in months if m not in have and m + pd.offsets.MonthEnd(0) <= ds.as_of_date]
        missing_lag = [m.strftime("%Y-%m") for m in lagged if m not in have]
        total = monthly.reindex(months).fillna(0.0)
        total_lag = monthly.reindex(lagged).fillna(0.0)
        sm, mk = float(total[["marketing", "sales"]].to_numpy().sum()), float(total["marketing"].sum())
        sm_lag = float(total_lag[["marketing", "sales"]].to_numpy().sum())

        def val(num: float, miss: list[str], n_new: float = n_new) -> tuple[float, str]:
            if miss:
                return np.nan, "spend missing for " + ", ".join(miss)
            if n_new == 0:
                return np.nan, "undefined: no new customers"
            return num / n_new, ""

        for metric, (v, note) in {
            "cac": val(sm, missing),
            "cac_paid": val(mk, missing),
            "cac_lagged": val(sm_lag, missing_lag),
        }.items():
            out.append(
                {
                    "metric": metric,
                    "dimension": "company",
                    "group": "all",
                    "period": period,
                    "value": v,
                    "n": n_new,
                    "note": note if metric != "cac_lagged" or note else f"spend lagged {lag} month(s)",
                }
            )
        if gross_margin and revenue_per_customer:
            v, note = val(sm, missing)
            out.append(
                {
                    "metric": "cac_payback_months",
                    "dimension": "company",
                    "group": "all",
                    "period": period,
                    "value": cac_payback_months(v, revenue_per_customer, gross_margin),
                    "n": n_new,
                    "note": note,
                }
            )
    frame = pd.DataFrame(out)
    frame["lower"] = np.nan
    frame["upper"] = np.nan
    return frame


def cac_payback_months(cac: float, revenue_per_customer: float, gross_margin: float) -> float:
    """Months of gross-margin revenue to repay the cost of acquiring a customer: CAC / (MRR × GM)."""
    return cac / (revenue_per_customer * gross_margin)


def ltv(revenue_per_customer: float, gross_margin: float, monthly_churn: float, max_months: float = 60) -> float:
    """Lifetime gross margin of a customer: ARPA × GM / churn, the lifetime capped at ``max_months``."""
    lifetime = min(1.0 / monthly_churn, max_months) if monthly_churn > 0 else max_months
    return revenue_per_customer * gross_margin * lifetime


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
        out.append(_rows(r, "quota_attainment", "attainment", "quota", note=np.where(r["quota"] > 0, "", "quota is 0")))
        out.append(_rows(r, "consecutive_misses", "misses"))
    for dim in [d for d in dimensions if d in ("company", "team")]:
        grp = "all" if dim == "company" else q["team"]
        a = q[q["attainment"].notna()].assign(group=grp).groupby(["group", "period"])["met"].agg(["sum", "size"]).reset_index()
        a["dimension"] = dim
        a["v"] = a["sum"] / a["size"]
        a["lo"], a["hi"] = wilson(a["sum"], a["size"], interval)
        out.append(_rows(a, "attainment_rate", "v", "size", "lo", "hi"))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=COLUMNS)


def required_coverage(p_within: float) -> float:
    """Coverage needed to expect to hit the target: 1 / p_q (docs/methods.md §2.5, check 11)."""
    return np.inf if p_within <= 0 else 1.0 / p_within


def expected_attainment(pipeline: float, p_within: float, target: float) -> float:
    """Expected share of the target won from the open pipeline: pipeline × p_q / target."""
    return pipeline * p_within / target


def coverage_metrics(deals: pd.DataFrame, ds: Dataset, periods: list[str], dimensions, min_at_risk: int = 50) -> pd.DataFrame:
    """At each quarter end: ``pipeline_open_amount``, ``pipeline_expected_won`` (Σ amount × P(won inside the
    next quarter | open at its age), from the segment's Aalen–Johansen curve as known then),
    ``required_coverage`` = 1 / p_q with p_q the value-weighted chance, ``pipeline_coverage`` = open amount /
    next quarter's target (company), team target or sum of team quotas (team), quota (rep), and
    ``pipeline_expected_attainment`` = expected won / that target."""
    fy = ds.fiscal_year_start
    quotas = ds.quotas
    cols = ["created_date", "close_date", "status", "amount"] + sorted({_DIM_COLUMN[d] for d in dimensions} - {None} | {"segment"})
    deals = deals[cols]
    out = []
    for period in periods:
        _, end = bounds(period, "Q", fy)
        if end > ds.as_of_date:
            continue  # the current quarter has not ended
        nxt = shift_period(period, 1, fy)
        n_start, n_end = period_bounds(nxt, fy)
        horizon = float((n_end - n_start).days + 1)
        known = deals[deals["created_date"] <= end]
        window = known[known["created_date"] > end - pd.DateOffset(years=1)]
        open_now = known[~(known["close_date"] <= end)]
        if open_now.empty:
            continue
        pi = np.zeros(len(open_now))
        age = (end - open_now["created_date"]).dt.days.to_numpy(dtype=float)
        times = deal_times(window, end)
        seg_codes, segs = pd.factorize(window["segment"])
        curves = cumulative_incidence(seg_codes, times["time"].to_numpy(), times["event"].to_numpy())
        all_curve = cumulative_incidence(np.zeros(len(window), int), times["time"].to_numpy(), times["event"].to_numpy())
        for i, seg in enumerate(segs):
            mask = open_now["segment"].eq(seg).to_numpy()
            curve = curves[curves["gid"] == i]
            if curve["cohort"].iloc[0] < min_at_risk:
                curve = all_curve
            pi[mask] = win_probability_within(curve, age[mask], horizon)
        other = ~open_now["segment"].isin(segs).to_numpy()
        if other.any():
            pi[other] = win_probability_within(all_curve, age[other], horizon)
        amount = open_now["amount"].fillna(0.0).to_numpy()
        base = pd.DataFrame({"amount": amount, "exp": amount * pi, "missing": open_now["amount"].isna().to_numpy(), "period": period})
        for col in {_DIM_COLUMN[d] for d in dimensions} - {None}:
            base[col] = open_now[col].to_numpy()
        a = _aggregate(
            base, dimensions, "period", amount=("amount", "sum"), exp=("exp", "sum"), n=("amount", "size"), missing=("missing", "sum")
        )
        unpriced = a["missing"] >= a["n"]  # no open deal of the group carries an amount: no pipeline value to speak of
        a.loc[unpriced, ["amount", "exp"]] = np.nan
        a["p_q"] = a["exp"] / a["amount"].where(a["amount"] > 0)
        a["required"] = 1.0 / a["p_q"].where(a["p_q"] > 0)
        company_t, team_t = ds.targets_for(nxt)
        qn = quotas[quotas["period"] == nxt]
        team_of = ds.reps.set_index("rep_id")["team"]
        team_q = qn.assign(team=qn["rep_id"].map(team_of)).groupby("team")["quota"].sum()
        denom = np.full(len(a), np.nan)
        is_c, is_t, is_r = (a["dimension"] == d for d in ("company", "team", "rep"))
        if company_t is not None:
            denom[is_c.to_numpy()] = company_t
        elif len(qn):
            denom[is_c.to_numpy()] = float(qn["quota"].sum())
        denom[is_t.to_numpy()] = a.loc[is_t, "group"].map(team_t).fillna(a.loc[is_t, "group"].map(team_q)).to_numpy(dtype=float)
        denom[is_r.to_numpy()] = a.loc[is_r, "group"].map(qn.set_index("rep_id")["quota"]).to_numpy(dtype=float)
        a["denom"] = np.where(denom > 0, denom, np.nan)
        a["coverage"] = a["amount"] / a["denom"]
        a["exp_att"] = a["exp"] / a["denom"]
        miss_note = np.where(
            unpriced,
            "open deals carry no amount",
            np.where(a["missing"] > 0, a["missing"].astype(int).astype(str) + " open deal(s) without an amount count as 0", ""),
        )
        no_target = np.where(
            unpriced, "open deals carry no amount", np.where(a["denom"].isna(), f"no target or quota for {nxt}", miss_note)
        )
        out += [
            _rows(a, "pipeline_open_amount", "amount", "n", note=miss_note),
            _rows(
                a,
                "pipeline_expected_won",
                "exp",
                "n",
                note=np.where(unpriced, "open deals carry no amount", f"expected to be won in {nxt}"),
            ),
            _rows(
                a,
                "required_coverage",
                "required",
                "n",
                note=np.where(
                    a["p_q"] > 0,
                    f"1 / chance an open deal is won in {nxt}",
                    np.where(unpriced, "open deals carry no amount", f"no open deal is expected to be won in {nxt}"),
                ),
            ),
            _rows(a, "pipeline_coverage", "coverage", "n", note=no_target),
            _rows(a, "pipeline_expected_attainment", "exp_att", "n", note=no_target),
        ]
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=COLUMNS)


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
    for col in {_DIM_COLUMN[d] for d in dimensions} - {None}:
        base[col] = known[col].to_numpy()
    out = _aggregate(base, dimensions, None, n_open=("open", "sum"), deal_size=("size", "mean"), days_in_pipeline=("length", "mean")).drop(
        columns="period"
    )
    co = base[base["cohort"]]
    rows, gid, labels = keyed(co, dimensions, None)
    read = plateau(cumulative_incidence(gid, co["time"].to_numpy()[rows], co["event"].to_numpy()[rows]), min_at_risk)
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
    return _rows(v, "velocity", "velocity", "n_open", note=notes)


def lognormal_mean(values: np.ndarray | pd.Series) -> float:
    """Mean of a lognormal fitted by maximum likelihood, exp(μ̂ + σ̂²/2) (docs/methods.md check 14)."""
    y = np.log(np.asarray(values, dtype=float))
    return float(np.exp(y.mean() + y.var() / 2))


def definitions(path: str | Path | None = None) -> pd.DataFrame:
    """The plain-words definitions of ``docs/metrics.md``: ``metric``, ``definition``, ``formula``."""
    path = Path(path) if path else PROJECT_DIR / "docs" / "metrics.md"
    if not path.exists():
        raise FileNotFoundError(f"{path}: the metric definitions are in docs/metrics.md of the Quotacast repository")
    rows, name, lines = [], None, []

    def flush() -> None:
        if name:
            text = " ".join(x.strip() for x in lines if x.strip())
            words, _, formula = text.partition("Formula:")
            rows.append({"metric": name, "definition": words.strip(), "formula": formula.strip()})

    for line in path.read_text().splitlines():
        if line.startswith("### "):
            flush()
            name, lines = line[4:].strip(), []
        elif line.startswith("## "):
            flush()
            name, lines = None, []
        elif name:
            lines.append(line)
    flush()
    return pd.DataFrame(rows)
