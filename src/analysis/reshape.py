"""Export shapes other than one row per deal, turned into the contract's before a mapping renames anything: a
stage-change event log into deals and stage history (:func:`from_events`), line-level exports into one row per key
(:func:`group_rows`), and values that depend on another column (:func:`conditional`).

Every function works on the file's own text and column names, and keeps ``__source_row`` (the file's data-row
number): a row made from several takes the number of its first, so quarantine.csv still points at the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis.parsing import parse_dates, parse_numbers, text_of

AGGREGATIONS = ("first", "last", "sum", "min", "max", "count")


@dataclass(frozen=True)
class Events:
    """How to read a stage-change log: the columns holding the deal, the stage entered and the date; the stages that
    end a deal as won or lost; and (for deals) the column holding the amount."""

    deal: str
    stage: str
    date: str
    won: tuple[str, ...] = ("Closed Won", "Won")
    lost: tuple[str, ...] = ("Closed Lost", "Lost")
    amount: str | None = None


@dataclass(frozen=True)
class Grouping:
    """One row per value of ``key`` (one or more columns); ``aggregate`` says how each column is summed up
    (``first`` by default: the first non-empty value in the file's order)."""

    key: tuple[str, ...]
    aggregate: dict[str, str] = field(default_factory=dict)


def _rows(frame: pd.DataFrame) -> np.ndarray:
    return frame["__source_row"].to_numpy() if "__source_row" in frame else np.arange(1, len(frame) + 1)


def _missing(values: pd.Series) -> pd.Series:
    return text_of(values).isna()


def from_events(frame: pd.DataFrame, spec: Events, table: str, date_formats: tuple[str, ...]) -> pd.DataFrame:
    """A stage-change log (one row per stage a deal entered) as ``opportunities`` or ``stage_history``.

    Deals: ``opportunity_id`` the deal; ``created_date`` the date of its first event; ``close_date`` and ``status``
    from its first event in a won or lost stage (open while there is none; the date is kept as written);
    ``stage`` the latest stage; ``amount`` the latest non-zero amount (a closing row often carries 0, which is not
    the deal's size), else the latest one; every other column from the latest event. Events are ordered by date
    (the mapping's ``date_formats``), ties in file order. Stage history: one row per event, ``opportunity_id``,
    ``stage``, ``entered_date`` (and the other columns as they are)."""
    for col in (spec.deal, spec.stage, spec.date, *([spec.amount] if spec.amount else [])):
        if col not in frame.columns:
            raise KeyError(col)
    ev = frame.copy()
    ev["__source_row"] = _rows(frame)
    if table == "stage_history":
        out = ev.rename(columns={spec.deal: "opportunity_id", spec.stage: "stage", spec.date: "entered_date"})
        return out.reset_index(drop=True)
    when = parse_dates(ev[spec.date], date_formats)
    ev["__when"] = when.fillna(pd.Timestamp.max)  # an unreadable date goes last; its deal's own row says so
    ev["__deal"] = text_of(ev[spec.deal]).fillna("")  # events without a deal id make one deal with an empty id: quarantined
    ev = ev.sort_values(["__deal", "__when", "__source_row"], kind="stable")
    stage = text_of(ev[spec.stage]).str.lower()
    won, lost = {s.lower() for s in spec.won}, {s.lower() for s in spec.lost}
    ev["__end"] = np.where(stage.isin(won), "won", np.where(stage.isin(lost), "lost", ""))
    groups = ev.groupby("__deal", sort=False)
    first, latest = groups.head(1).set_index("__deal"), groups.tail(1).set_index("__deal")
    ends = ev[ev["__end"] != ""].groupby("__deal", sort=False).head(1).set_index("__deal")
    out = latest.drop(columns=[spec.deal, spec.stage, spec.date], errors="ignore").copy()
    out.insert(0, "opportunity_id", first[spec.deal].reindex(out.index))
    out["created_date"] = first[spec.date].reindex(out.index)
    out["close_date"] = ends[spec.date].reindex(out.index)
    out["status"] = ends["__end"].reindex(out.index).fillna("open")
    out["stage"] = latest[spec.stage]
    if spec.amount:
        value = parse_numbers(ev[spec.amount], None)
        priced = ev[value.notna() & (value != 0)].groupby("__deal", sort=False).tail(1).set_index("__deal")[spec.amount]
        out = out.drop(columns=[spec.amount])
        out["amount"] = priced.reindex(out.index).fillna(text_of(latest[spec.amount]))
    out["__source_row"] = first["__source_row"].reindex(out.index).to_numpy()
    out = out.drop(columns=["__when", "__end"]).reset_index(drop=True)
    return out.sort_values("__source_row", kind="stable").reset_index(drop=True)


def group_rows(frame: pd.DataFrame, spec: Grouping, thousands: str | None = None) -> pd.DataFrame:
    """One row per key: ``first`` / ``last`` non-empty value, ``sum`` (numbers; a group with a value that is not a
    number keeps that value, so the row is quarantined naming it), ``min`` / ``max`` (as numbers when every value is
    one, else as text: ISO dates compare right), ``count`` (rows in the group)."""
    for col in spec.key:
        if col not in frame.columns:
            raise KeyError(col)
    work = frame.copy()
    work["__source_row"] = _rows(frame)
    work["__key"] = work.groupby(list(spec.key), sort=False, dropna=False).ngroup()  # rows without a key make one group
    groups = work.groupby("__key", sort=False)
    out = pd.DataFrame(index=pd.Index(groups.size().index, name="__key"))
    for col in frame.columns:
        if col == "__source_row":
            continue
        how = spec.aggregate.get(col, "first")
        values = work[col].where(~_missing(work[col]))
        if how in ("first", "last"):
            out[col] = getattr(values.groupby(work["__key"], sort=False), how)()
        elif how == "count":
            out[col] = groups.size().astype(str)
        else:
            number = parse_numbers(values, thousands)
            unreadable = values.notna() & number.isna()
            if how == "sum":
                total = number.groupby(work["__key"], sort=False).sum(min_count=1)
                out[col] = total.map(lambda v: repr(float(v)) if pd.notna(v) else None)
                bad = values[unreadable].groupby(work["__key"][unreadable], sort=False).first()
                out.loc[bad.index, col] = bad  # the value that is not a number, for the quarantine to name
            else:
                numeric = ~unreadable.groupby(work["__key"], sort=False).any()
                as_number = getattr(number.groupby(work["__key"], sort=False), how)().map(lambda v: repr(float(v)) if pd.notna(v) else None)
                as_text = getattr(values.groupby(work["__key"], sort=False), how)()
                out[col] = as_number.where(numeric, as_text)
    out["__source_row"] = groups["__source_row"].min()
    return out.reset_index(drop=True).sort_values("__source_row", kind="stable").reset_index(drop=True)


def conditional(frame: pd.DataFrame, column: str, rule: dict[str, Any]) -> pd.Series:
    """``column`` set by ``rule``: ``if`` (every condition holds: ``{col: present | empty | a value | [values]}``),
    ``then`` and ``else`` (a column's value, ``{value: X}``, or ``empty``; ``else`` defaults to empty)."""
    hold = pd.Series(True, index=frame.index)
    for col, test in rule["if"].items():
        text = text_of(frame[col]) if col in frame.columns else pd.Series(None, index=frame.index, dtype="object")
        if test == "present":
            hold &= text.notna()
        elif test == "empty":
            hold &= text.isna()
        elif isinstance(test, list):
            hold &= text.isin([str(t) for t in test])
        else:
            hold &= text.eq(str(test)).fillna(False)

    def source(spec: Any) -> pd.Series:
        if spec in (None, "empty"):
            return pd.Series(None, index=frame.index, dtype="object")
        if isinstance(spec, dict):
            return pd.Series(spec["value"], index=frame.index, dtype="object")
        return frame[spec].astype("object") if spec in frame.columns else pd.Series(None, index=frame.index, dtype="object")

    return source(rule.get("then")).where(hold, source(rule.get("else", "empty")))
