"""The grouping engine of the metrics table: which (dimension, group, period) each deal counts in, named
aggregations over those groups, and the table's long rows (columns ``metric`` … ``note``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.calendar import period_bounds, period_labels
from analysis.survival import CURVE_COLUMNS, cumulative_incidence, incidence_columns

DIMENSIONS = ("company", "team", "segment", "rep", "lead_source")
COLUMNS = ["metric", "dimension", "group", "period", "value", "n", "lower", "upper", "note"]
#: The deals' column behind each dimension (the company is one group, ``all``).
DIM_COLUMN = {"company": None, "team": "team", "segment": "segment", "rep": "owner_id", "lead_source": "lead_source"}


def owner_teams(owner: pd.Series, reps: pd.DataFrame) -> pd.Series:
    """Each deal's owner's ``team`` (``unassigned`` if the owner has none) as a categorical with sorted categories,
    from ``owner`` as a categorical: looked up once per owner, not once per deal (the same as mapping the owner ids
    to teams and making that a categorical, in a fraction of the time at a million deals)."""
    team = reps.set_index("rep_id")["team"]
    per_owner = pd.Series(owner.cat.categories).map(team).fillna("unassigned").to_numpy(dtype=object)
    values = np.append(per_owner, "unassigned")  # code -1, a deal without an owner: unassigned too
    names, code_of = np.unique(values, return_inverse=True)
    rows = code_of[owner.cat.codes.to_numpy()]
    seen = np.unique(rows)  # a categorical's categories are the values present
    rank = np.full(len(names), -1)
    rank[seen] = np.arange(len(seen))
    categories = pd.Index(names[seen], dtype=owner.cat.categories.dtype)
    return pd.Series(pd.Categorical.from_codes(rank[rows], categories=categories), index=owner.index, name="team")


def codes_of(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of ``values`` (-1 where missing) and the sorted distinct values they index: a categorical's own
    codes when its categories are sorted (no strings hashed again), else ``pd.factorize(sort=True)``."""
    if isinstance(values.dtype, pd.CategoricalDtype) and values.cat.categories.is_monotonic_increasing:
        return values.cat.codes.to_numpy(), np.asarray(values.cat.categories, dtype=object)
    codes, uniques = pd.factorize(values, sort=True)
    return codes, np.asarray(uniques, dtype=object)


def period_codes(dates: pd.Series | np.ndarray, freq: str = "Q", fiscal_year_start: int = 1) -> pd.Categorical:
    """The period of each date as a categorical with sorted labels (missing for NaT): each distinct date labelled
    once, no label string built per row (what :func:`calendar.period_labels` then a factorize would give)."""
    dcodes, days = pd.factorize(np.asarray(dates))
    labels = period_labels(pd.Series(days), freq, fiscal_year_start).to_numpy(dtype=object)
    lcodes, uniques = pd.factorize(labels, sort=True)
    codes = np.where(dcodes >= 0, lcodes[np.clip(dcodes, 0, None)] if len(lcodes) else -1, -1)
    return pd.Categorical.from_codes(codes, categories=pd.Index(np.asarray(uniques, dtype=object), dtype=object))


def compact(key: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The sorted distinct values of ``key`` (non-negative integers below ``size``) and each entry's place among
    them: ``np.unique(key, return_inverse=True)`` by marking a table of ``size`` slots instead of sorting."""
    if size > 4 * len(key) + 1_000_000:
        return np.unique(key, return_inverse=True)
    seen = np.zeros(size, dtype=bool)
    seen[key] = True
    place = np.cumsum(seen) - 1
    return np.flatnonzero(seen), place[key]


def keyed(frame: pd.DataFrame, dimensions=DIMENSIONS, period: str | None = "period") -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Which (dimension, group[, period]) each row belongs to, as integer codes.

    Returns ``rows`` (positions into ``frame``, once per dimension), ``gid`` (the group of each of those) and
    ``labels`` (``dimension``, ``group``, ``period`` of each gid, in gid order: by group, then period). Rows with a
    missing group or period belong to no group of that dimension. Codes, not strings, keep a million deals × five
    dimensions fast: categorical columns are read by their codes.
    """
    zeros = np.zeros(len(frame), dtype=np.int64)
    if period is None:
        pcodes, puniq = zeros, np.array([""], dtype=object)
    else:
        pcodes, puniq = codes_of(frame[period])  # sorted: codes never depend on row order
    npd = max(len(puniq), 1)
    rows, gids, labels, offset = [], [], [], 0
    for dim in dimensions:
        col = DIM_COLUMN[dim]
        if col is None:
            gcodes, guniq = zeros, np.array(["all"], dtype=object)
        else:
            gcodes, guniq = codes_of(frame[col])
        ok = (gcodes >= 0) & (pcodes >= 0)
        uk, inv = compact(gcodes[ok].astype(np.int64) * npd + pcodes[ok], max(len(guniq), 1) * npd)
        rows.append(np.flatnonzero(ok))
        gids.append(inv + offset)
        labels.append(pd.DataFrame({"dimension": dim, "group": guniq[uk // npd].astype(str), "period": puniq[uk % npd]}))
        offset += len(uk)
    return np.concatenate(rows), np.concatenate(gids), pd.concat(labels, ignore_index=True)


def curves_by_dimension(gid: np.ndarray, labels: pd.DataFrame, time: np.ndarray, event: np.ndarray) -> pd.DataFrame:
    """:func:`survival.cumulative_incidence` of :func:`keyed` groups, one dimension at a time: the same curves (each
    group's is its own) with each dimension's small (group, time) grid counted in place, not five sorted together."""
    dim_of = pd.factorize(labels["dimension"])[0]  # keyed numbers the groups dimension by dimension
    ends = np.cumsum(np.bincount(dim_of[gid], minlength=dim_of.max(initial=-1) + 1))  # and lays their rows out so
    parts = [incidence_columns(gid[a:b], time[a:b], event[a:b])[0] for a, b in zip(np.r_[0, ends[:-1]], ends) if b > a]
    if not parts:
        return cumulative_incidence(gid, time, event)
    return pd.DataFrame({c: np.concatenate([p[c] for p in parts]) for c in CURVE_COLUMNS})


def aggregate(frame: pd.DataFrame, dimensions, period: str | None, **aggs) -> pd.DataFrame:
    """``frame`` grouped by every (dimension, group[, period]) with named aggregations (pandas ``agg`` style):
    returns ``dimension``, ``group``, ``period`` and one column per aggregation."""
    rows, gid, labels = keyed(frame, dimensions, period)
    cols = sorted({c for c, _ in aggs.values()})
    values = pd.DataFrame({c: frame[c].to_numpy()[rows] for c in cols})
    values["gid"] = gid
    out = values.groupby("gid", sort=True).agg(**aggs)
    return labels.iloc[out.index].reset_index(drop=True).join(out.reset_index(drop=True))


def as_rows(
    frame: pd.DataFrame, metric: str, value: str, n: str | None = None, lower: str | None = None, upper: str | None = None, note=None
) -> pd.DataFrame:
    """One metric's rows of the table from a frame of ``dimension``, ``group``, ``period`` and the named columns;
    a missing value without a note is noted ``undefined``."""
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


def finish(table: pd.DataFrame, as_of: pd.Timestamp, freq: str, fiscal_year_start: int) -> pd.DataFrame:
    """The table as it is handed out: rows of the period holding ``as_of`` noted partial when it has not ended,
    sorted by metric, dimension, group and period, the text columns as strings."""
    current = period_labels(pd.Series([as_of]), freq, fiscal_year_start).iloc[0]
    _, end = period_bounds(current, fiscal_year_start)
    if as_of < end:
        partial = table["period"].eq(current)
        table.loc[partial, "note"] = np.where(
            table.loc[partial, "note"].eq(""),
            f"partial period to {as_of.date()}",
            table.loc[partial, "note"] + f"; partial period to {as_of.date()}",
        )
    # Sorted by integer codes of the four keys (a string sort of a million rows costs seconds).
    table = table.astype({c: "str" for c in ("metric", "dimension", "group", "period", "note")})
    codes = [pd.factorize(table[c], sort=True)[0].astype(np.int64) for c in ("metric", "dimension", "group", "period")]
    sizes = [int(c.max(initial=0)) + 1 for c in codes]
    if np.prod(np.array(sizes, dtype=float)) < 2**62:  # one integer key: a stable sort of it is a lexsort of the four
        key = codes[0]
        for c, size in zip(codes[1:], sizes[1:], strict=True):
            key = key * size + c
        order = np.argsort(key, kind="stable")
    else:
        order = np.lexsort(codes[::-1])
    return table.iloc[order].reset_index(drop=True)
