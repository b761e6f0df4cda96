"""Reading one table file as exports write it: CSV (comma, semicolon or tab separated; UTF-8 with or without a BOM;
gzip-compressed or not) or Parquet. Every CSV cell is text, an empty cell missing: parsing is the loader's, so a bad
value quarantines its row instead of failing the file.

A CSV row keeps its number: ``__source_row`` is the line it starts on minus one (the header's), so line =
``source_row + 1`` even with blank lines or values that span lines. Rows with more or fewer fields than the header
are returned apart, to be quarantined. What cannot be read as a table — not UTF-8, a header naming a column twice, a
quote that opens and swallows the rows after it — raises :class:`Unreadable` with the reason.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

RAGGED = "row.fields"  # the rule of a CSV row whose number of fields differs from the header's
RAGGED_COLUMNS = ["source_row", "fields", "text"]
_BLOCK = 1 << 26  # pyarrow's CSV block: a cell may be megabytes long (a notes field), far more than the 1 MB default
_SEPARATORS = (",", ";", "\t")


class Unreadable(ValueError):
    """A file that cannot be read as a table; the message says why."""


def _open(path: Path) -> io.TextIOBase:
    raw = gzip.open(path, "rb") if path.name.endswith(".gz") else path.open("rb")
    return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")


def _not_utf8(path: Path, exc: UnicodeDecodeError) -> Unreadable:
    head = (gzip.open(path, "rb") if path.name.endswith(".gz") else path.open("rb")).read(4)
    guess = " (it looks like UTF-16)" if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else ""
    return Unreadable(
        f"is not UTF-8 text{guess}: byte 0x{exc.object[exc.start]:02x} at position {exc.start:,} of a line cannot be read; save it as UTF-8"
    )


def header(path: Path) -> tuple[list[str], str]:
    """The column names (trimmed) and the separator: a comma, or a semicolon or tab when the first line has no comma."""
    try:
        with _open(path) as fh:
            first = fh.readline()
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, exc) from None
    if not first.strip():
        raise Unreadable("has no header row (its first line is empty)")
    sep = next((s for s in _SEPARATORS if s in first), ",")
    names = next(csv.reader([first.rstrip("\r\n")], delimiter=sep))
    names = [n.strip() for n in names]
    while names and names[-1] == "":  # the empty columns spreadsheets add at the end of a header
        names.pop()
    seen: dict[str, list[int]] = {}
    for i, name in enumerate(names, 1):
        if name:
            seen.setdefault(name, []).append(i)
    twice = {name: at for name, at in seen.items() if len(at) > 1}
    if twice:
        name, at = next(iter(twice.items()))
        raise Unreadable(
            f"the header names column '{name}' {len(at)} times (columns {', '.join(map(str, at))}): "
            "which one holds the values cannot be told"
        )
    return [n or f"(unnamed column {i})" for i, n in enumerate(names, 1)], sep


def _needs_lines(path: Path) -> bool:
    """Whether line numbers and data-row numbers could differ (a blank line), so rows must be read one by one."""
    tail = b""
    with gzip.open(path, "rb") if path.name.endswith(".gz") else path.open("rb") as fh:
        while chunk := fh.read(1 << 24):
            block = tail + chunk
            if b"\n\n" in block or b"\n\r\n" in block or b"\r\r" in block:
                return True
            tail = block[-3:]
    return False


def read_csv(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every cell as text, empty cells missing, with ``__source_row``; and the rows of the wrong length
    (``source_row``, ``fields``, ``text``)."""
    names, sep = header(path)
    if not _needs_lines(path):
        ragged: list[int] = []
        options = pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=True, quoted_strings_can_be_null=True, null_values=[""]
        )
        parse = pacsv.ParseOptions(delimiter=sep, newlines_in_values=True, invalid_row_handler=lambda row: ragged.append(1) or "skip")
        read = pacsv.ReadOptions(block_size=_BLOCK, column_names=names, skip_rows=1)
        try:
            table = pacsv.read_csv(str(path), read_options=read, parse_options=parse, convert_options=options)
        except pa.ArrowInvalid as exc:
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if "UTF8" in text or "utf-8" in text.lower():
                raise Unreadable("is not UTF-8 text; save it as UTF-8") from None
            raise Unreadable(text) from None
        multiline = any(pc.any(pc.match_substring(col, "\n")).as_py() for col in table.columns if len(col))
        if not ragged and not multiline:
            frame = table.to_pandas()
            frame["__source_row"] = np.arange(1, len(frame) + 1)
            return frame, pd.DataFrame(columns=RAGGED_COLUMNS)
    return _read_rows(path, names, sep)


def _swallowed(value: str, width: int, sep: str) -> bool:
    """A value holding whole rows of the file: a quote that opened and never closed where it should."""
    lines = value.split("\n")[1:]
    return sum(len(next(csv.reader([line], delimiter=sep), [])) >= width - 1 for line in lines) >= 2


def _read_rows(path: Path, names: list[str], sep: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`read_csv` row by row (slower): for files with rows of the wrong length, blank lines or values over
    several lines, so each row keeps the line it starts on."""
    csv.field_size_limit(1 << 30)
    width = len(names)
    starts, rows, bad = [], [], []
    try:
        with _open(path) as fh:
            reader = csv.reader(fh, delimiter=sep)
            next(reader, None)
            line = reader.line_num
            for row in reader:
                start, line = line + 1, reader.line_num
                if not any(cell.strip() for cell in row):
                    continue  # a blank line is no row
                for i, cell in enumerate(row):
                    if "\n" in cell and _swallowed(cell, width, sep):
                        where = f"column '{names[i]}'" if i < width else f"field {i + 1}"
                        raise Unreadable(
                            f"line {start}: a quote opens in {where} and does not close until line {line}, so "
                            f"{line - start} lines would be read as one value; close the quote (a quote inside a value "
                            'is written twice: "")'
                        )
                extra = row[width:]
                if len(row) == width or (len(row) > width and not any(c.strip() for c in extra)):
                    starts.append(start - 1)
                    rows.append(row[:width])
                else:
                    bad.append({"source_row": start - 1, "fields": len(row), "text": sep.join(row)[:200]})
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, exc) from None
    frame = pd.DataFrame(rows, columns=names, dtype="str")
    frame = frame.where(frame.ne(""))
    frame["__source_row"] = np.array(starts, dtype=np.int64)
    return frame, pd.DataFrame(bad, columns=RAGGED_COLUMNS)


def read_parquet(path: Path) -> pd.DataFrame:
    """A Parquet file; a column pandas stored as the index (``df.set_index('rep_id').to_parquet``) comes back as a column."""
    frame = pd.read_parquet(path)
    if not isinstance(frame.index, pd.RangeIndex) or frame.index.name is not None:
        frame = frame.reset_index()
    frame["__source_row"] = np.arange(1, len(frame) + 1)
    return frame


def read_file(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A table file: its rows (with ``__source_row``) and its rows of the wrong length."""
    if path.suffix in {".parquet", ".pq"}:
        return read_parquet(path), pd.DataFrame(columns=RAGGED_COLUMNS)
    return read_csv(path)
