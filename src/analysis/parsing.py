"""Reading values as CRMs write them: text trimmed (empty is missing), dates as written, numbers with the
mapping's thousands separator. Used by the loader (:mod:`analysis.data`) and by mappings that reshape a file
before it is loaded (:mod:`analysis.mapping`)."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd


def text_of(values: pd.Series) -> pd.Series:
    out = values.astype("str").str.strip()
    return out.where(values.notna() & out.ne(""))


#: An ISO date as CRMs write it: the day, optionally a time and an offset, which are dropped (the date as written).
ISO_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ](?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:[.,]\d+)?)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)?$")


def strptime_wall(text: pd.Series, fmt: str) -> pd.Series:
    """``text`` parsed with ``fmt``, offsets dropped (the wall-clock date as written), NaT where it does not match."""
    try:
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
    except (ValueError, TypeError):  # mixed offsets under %z: one value at a time
        parsed = pd.Series([pd.NaT] * len(text), index=text.index, dtype="datetime64[us]")
        for i, v in text.items():
            try:
                parsed[i] = pd.Timestamp(dt.datetime.strptime(v, fmt).replace(tzinfo=None))
            except ValueError:
                pass
        return parsed
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    return parsed


def parse_dates(values: pd.Series, formats: tuple[str, ...]) -> pd.Series:
    """Dates as written: ``ISO8601`` is ``YYYY-MM-DD`` (a time and an offset after it are dropped, never converted;
    partial dates such as ``2026-01`` and other layouts are not dates); other formats are strptime patterns from the
    mapping. A typed datetime keeps its wall-clock date."""
    if pd.api.types.is_datetime64_any_dtype(values):
        out = values.dt.tz_localize(None) if getattr(values.dt, "tz", None) is not None else values
        return out.dt.normalize().astype("datetime64[us]")
    text = text_of(values)
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    todo = text.notna()
    for fmt in formats:
        if not todo.any():
            break
        if fmt == "ISO8601":
            day = text[todo].str.extract(ISO_DATE, expand=False)
            parsed = pd.to_datetime(day, format="%Y-%m-%d", errors="coerce")
        else:
            parsed = strptime_wall(text[todo], fmt)
        out.loc[parsed.index] = parsed.dt.normalize().astype("datetime64[us]")
        todo = todo & out.isna()
    return out


def parse_numbers(values: pd.Series, thousands: str | None) -> pd.Series:
    """Numbers as written: plain (``1200.5``, ``-3``, ``4.5E+04``), or with the mapping's ``thousands`` separator
    grouping digits in threes (``1,200.50``; with ``.`` as the separator the decimal mark is ``,``: ``1.200,50``). A
    separator anywhere else (``1,5``, ``45360.0`` under ``.``) makes the value not a number, as does one too small to
    be told from 0 (``1e-400``): NaN, so the row is quarantined instead of its value being changed."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype("float64")
    text = text_of(values)
    if thousands and text.notna().any():
        text = text.astype("str").where(text.notna())
        decimal = "," if thousands == "." else "."
        sep, dec = re.escape(thousands), re.escape(decimal)
        grouped = text.str.fullmatch(rf"[+-]?\d{{1,3}}(?:{sep}\d{{3}})+(?:{dec}\d+)?").fillna(False).astype(bool)
        stray = text.str.contains(thousands, regex=False).fillna(False).astype(bool) & ~grouped
        text = text.where(~stray, "not a number").str.replace(thousands, "", regex=False)
        if decimal == ",":
            text = text.where(~text.str.contains(".", regex=False).fillna(False), "not a number").str.replace(",", ".", regex=False)
    number = pd.to_numeric(text, errors="coerce").astype("float64")
    zero = text[(number == 0) & text.notna()].astype("str")
    underflow = zero[zero.str.split(r"[eE]", n=1, regex=True).str[0].str.contains("[1-9]")].index
    return number.where(~number.index.isin(underflow))
