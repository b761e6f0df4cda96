"""What every as-of snapshot of a dataset needs, computed once: when each deal was created and closed, each stage-history
row's deal, day and stage, and each lead's deal. A snapshot then finds its rows and its deals' stages with array
comparisons instead of sorting and matching millions of identifiers again (a run takes some 25 snapshots)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.stages import funnel_places, positions


@dataclass
class Timeline:
    """Per deal ``created``, ``closed`` and ``has_history``; per stage-history row its deal (``deal``, -1 when
    absent), ``entered``, ``codes`` into ``names``, the days from the deal's creation (``offset``, NaN without the
    deal) and the day (``day``, as :func:`analysis.stages.stage_sequence` counts them); ``by_deal``, the rows by deal,
    day and row; per lead the creation of its deal (``lead_deal_created``, NaT when none). Built when the data are
    loaded and kept with them (about 30 bytes per stage-history row)."""

    created: np.ndarray
    closed: np.ndarray
    has_history: np.ndarray
    deal: np.ndarray
    entered: np.ndarray
    codes: np.ndarray
    names: np.ndarray
    offset: np.ndarray
    day: np.ndarray
    by_deal: np.ndarray
    lead_deal_created: np.ndarray

    @classmethod
    def of(cls, tables: Mapping[str, pd.DataFrame]) -> Timeline:
        opps = tables["opportunities"]
        created = opps["created_date"].to_numpy(dtype="datetime64[us]")
        sh = tables["stage_history"] if "stage_history" in tables else None
        if sh is None:
            sh = pd.DataFrame(
                {
                    "opportunity_id": pd.Series(dtype="str"),
                    "stage": pd.Series(dtype="str"),
                    "entered_date": pd.Series(dtype="datetime64[us]"),
                }
            )
        deal = positions(sh["opportunity_id"], opps["opportunity_id"]).astype(np.int32)
        entered = sh["entered_date"].to_numpy(dtype="datetime64[us]")
        codes, names = pd.factorize(sh["stage"], sort=True)
        day = ((entered - entered.min()) / np.timedelta64(1, "D")).astype(np.int64) if len(entered) else np.zeros(0, np.int64)
        lead_deal_created = np.zeros(0, dtype="datetime64[us]")
        if "leads" in tables:
            lead_deal = positions(tables["leads"]["opportunity_id"], opps["opportunity_id"])
            lead_deal_created = _created_of(created, lead_deal)
        return cls(
            created=created,
            closed=opps["close_date"].to_numpy(dtype="datetime64[us]"),
            has_history=np.bincount(deal[deal >= 0], minlength=len(opps)) > 0,
            deal=deal,
            entered=entered,
            codes=codes.astype(np.int32),
            names=np.asarray(names, dtype=object),
            offset=(entered - _created_of(created, deal)) / np.timedelta64(1, "D"),
            day=day.astype(np.int32),
            by_deal=np.lexsort((np.arange(len(deal)), day, deal)).astype(np.int32),
            lead_deal_created=lead_deal_created,
        )

    def sequence(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """:func:`analysis.stages.stage_sequence` of all the rows, and the stage names its codes index: the rows are
        already by deal and day, so only a day's stages are put in funnel order (a sort of sorted runs)."""
        place = funnel_places(self.names, self.codes, self.offset)
        deal, day = self.deal[self.by_deal].astype(np.int64), self.day[self.by_deal].astype(np.int64)
        key = (deal * (int(day.max(initial=0)) + 1) + day) * max(len(self.names), 1) + place[self.codes[self.by_deal]]
        order = self.by_deal[np.argsort(key, kind="stable")].astype(np.int64)
        return order, self.deal.astype(np.int64), self.codes, self.names

    def stages_at(self, d: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
        """The stage history seen at the end of ``d``: which rows (a mask), and per deal the stage code of its last
        row by day and funnel place (-1 when it has none yet) — what sorting the snapshot's history with
        :func:`analysis.stages.stage_sequence` and keeping each deal's last row gives."""
        at = np.datetime64(d, "us")
        seen = self.entered <= at
        last = np.full(len(self.created), -1, dtype=np.int64)
        if not seen.any():
            return seen, last
        # Places from the rows seen, each against its deal's creation if the deal is in the snapshot.
        offset = np.where(_created_of(self.created, self.deal) <= at, self.offset, np.nan)[seen]
        place = funnel_places(self.names, self.codes[seen], offset)
        rows = self.by_deal[seen[self.by_deal]]
        rows = rows[self.deal[rows] >= 0]
        if not len(rows):
            return seen, last
        deal, day = self.deal[rows], self.day[rows]
        start = np.r_[True, deal[1:] != deal[:-1]]
        end = np.r_[start[1:], True]
        last_day = day[end][np.cumsum(start) - 1]
        rows = rows[day == last_day]  # each deal's rows of its last day, by deal
        deal = self.deal[rows]
        key = place[self.codes[rows]] * len(self.deal) + rows  # then the latest funnel place, then the later row
        firsts = np.flatnonzero(np.r_[True, deal[1:] != deal[:-1]])
        best = np.maximum.reduceat(key, firsts) % len(self.deal)
        last[self.deal[best]] = self.codes[best]
        return seen, last


def _created_of(created: np.ndarray, deal: np.ndarray) -> np.ndarray:
    """The creation date of each row's deal (NaT where the row has none, ``deal`` -1)."""
    if not len(created):
        return np.full(len(deal), np.datetime64("NaT"), dtype="datetime64[us]")
    return np.where(deal >= 0, created[np.maximum(deal, 0)], np.datetime64("NaT")).astype("datetime64[us]")


def leads_at(leads: pd.DataFrame, timeline: Timeline, d: pd.Timestamp) -> pd.DataFrame:
    """The leads created by the end of ``d``; a lead whose deal was created later has no deal yet."""
    seen = (leads["created_date"] <= d).to_numpy()
    out = leads[seen].copy()
    out.loc[~(timeline.lead_deal_created[seen] <= np.datetime64(d, "us")), "opportunity_id"] = None
    return out.reset_index(drop=True)


def rows_until(frame: pd.DataFrame, column: str, d: pd.Timestamp) -> pd.DataFrame:
    """The rows dated by the end of ``d``."""
    return frame[frame[column] <= d].reset_index(drop=True)


class Tables(Mapping):
    """A snapshot's tables by name; a table given as a function is made when first read, then kept."""

    def __init__(self, tables: dict[str, pd.DataFrame | Callable[[], pd.DataFrame]]) -> None:
        self._tables = dict(tables)

    def __getitem__(self, name: str) -> pd.DataFrame:
        table = self._tables[name]
        if not isinstance(table, pd.DataFrame):
            table = self._tables[name] = table()
        return table

    def __iter__(self) -> Iterator[str]:
        return iter(self._tables)

    def __len__(self) -> int:
        return len(self._tables)

    def __reduce__(self):
        return (dict, (dict(self),))  # pickled (and unpickled) as the plain tables
