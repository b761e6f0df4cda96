"""The house formats: money, shares, counts, days and multiples in sentences, tables and chart axes, and the
one way a page shows a section — its chart or table, or the sentence saying why it is missing.

A reader never sees ``nan``, ``None``, ``inf`` or scientific notation: a value that does not exist is written
:data:`MISSING` (an em dash), and tables show it the same way, with human column labels (each with its definition
when the pointer rests on it, where one is given: :class:`Label`) and no index. Money carries the run's currency
(``Settings.currency``, set once per step with :func:`set_currency`) wherever it is written.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pandas as pd

MISSING = "—"
_currency = ""  # the run's currency symbol, written before every amount of money


def set_currency(symbol: str | None) -> None:
    """Write money with ``symbol`` from now on (``€``, ``$``, ``CHF``; empty: no symbol, the data's own currency)."""
    global _currency
    _currency = (symbol or "").strip()


@contextmanager
def currency(symbol: str | None) -> Iterator[None]:
    """Money written with ``symbol`` inside the block (a run's own currency where several runs are listed)."""
    before = _currency
    set_currency(symbol)
    try:
        yield
    finally:
        set_currency(before)


def _ok(value: Any) -> bool:
    try:
        return value is not None and not pd.isna(value) and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def money(value: Any) -> str:
    """``€1.2M``, ``€850.0k``, ``-€950``, ``CHF 1.2M`` with the currency set (:func:`set_currency`; a symbol of more
    than one character is followed by a space), ``1.2M`` without one; :data:`MISSING` when undefined."""
    if not _ok(value):
        return MISSING
    v = float(value)
    prefix = "-" * (v < 0) + _currency + " " * (len(_currency) > 1)
    for unit, size in (("bn", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(v) >= size:
            return f"{prefix}{abs(v) / size:,.1f}{unit}"
    return f"{prefix}{abs(v):,.0f}"


def share(value: Any, digits: int = 0) -> str:
    """``65%``; :data:`MISSING` when undefined; ``0%``, not ``-0%``, for a share that rounds to nothing."""
    if not _ok(value):
        return MISSING
    text = f"{float(value):.{digits}%}"
    return text[1:] if text.startswith("-") and not any(ch in "123456789" for ch in text) else text


def count(value: Any) -> str:
    """``1,234``; :data:`MISSING` when undefined."""
    return f"{float(value):,.0f}" if _ok(value) else MISSING


def number(value: Any, digits: int = 2) -> str:
    return f"{float(value):,.{digits}f}" if _ok(value) else MISSING


def days(value: Any) -> str:
    return f"{float(value):,.0f} days" if _ok(value) else MISSING


def multiple(value: Any) -> str:
    """``1.3x``; :data:`MISSING` when undefined."""
    return f"{float(value):,.1f}x" if _ok(value) else MISSING


FORMATS: dict[str, Callable[[Any], str]] = {
    "money": money,
    "share": share,
    "count": count,
    "number": number,
    "days": days,
    "multiple": multiple,
    "text": lambda v: str(v) if v is not None and not pd.isna(v) else MISSING,
}


def label(column: str) -> str:
    """A column name as a reader reads it when no :class:`Label` is given: ``forecast_p50`` → ``Forecast p50``."""
    text = str(column).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class Label:
    """A table column's heading: the words a reader reads and, where there is one, what the number means — shown
    when the pointer rests on the heading (its ``title``), on screen only."""

    text: str
    definition: str = ""

    def html(self) -> str:
        text = html.escape(self.text, quote=False)
        if not self.definition:
            return text
        return f'<span class="qc-defined" title="{html.escape(" ".join(self.definition.split()), quote=True)}">{text}</span>'


def heading(column: str, labels: Mapping[str, str | Label] | None = None) -> Label:
    """The heading of ``column``: its entry in ``labels`` (a :class:`Label`, or plain words), else :func:`label`."""
    given = (labels or {}).get(column)
    if isinstance(given, Label):
        return given
    return Label(given if given else label(column))


def table(
    frame: pd.DataFrame,
    formats: Mapping[str, str] | None = None,
    labels: Mapping[str, str | Label] | None = None,
    max_rows: int | None = None,
    hide: tuple[str, ...] = (),
):
    """``frame`` as a page shows it: formatted per column (``formats``: column → money | share | count | number |
    days | multiple | text; numbers default to ``number``), headed by ``labels`` (column → :class:`Label` with its
    definition, or plain words; other columns by :func:`label`), no index, missing values as :data:`MISSING`, at most
    ``max_rows`` rows, without the columns in ``hide``. Returns a pandas ``Styler``."""
    if frame is None or len(frame) == 0 or len(frame.columns) == 0:
        return ""  # nothing to show: the section's sentence says why
    formats = dict(formats or {})
    shown = frame.drop(columns=[c for c in hide if c in frame.columns])
    shown = shown.head(max_rows) if max_rows else shown
    shown = shown.reset_index(drop=True)
    fmt = {}
    for col in shown.columns:
        kind = formats.get(col) or (
            "number" if pd.api.types.is_numeric_dtype(shown[col]) and not pd.api.types.is_bool_dtype(shown[col]) else "text"
        )
        fmt[col] = FORMATS[kind]
    names = [heading(c, labels).html() for c in shown.columns]
    styler = shown.style.format(fmt).hide(axis="index").relabel_index(names, axis="columns")
    styler = styler.set_table_styles(
        [
            {"selector": "th", "props": [("text-align", "left")]},
            {"selector": "th .qc-defined", "props": [("text-decoration", "underline dotted"), ("cursor", "help")]},
        ],
        overwrite=False,
    )
    return styler.set_table_attributes('class="qc-table"').set_properties(**{"text-align": "left"})


def dollars_escaped(markdown: str) -> str:
    """Markdown whose dollar signs are money, not mathematics: Jupyter and nbconvert read ``$…$`` as a formula (the
    bold around ``**$4.9M**`` would be lost)."""
    return re.sub(r"(?<!\\)\$", r"\\$", markdown)


def show(item: Any) -> None:
    """Display a chart (a matplotlib Axes or Figure, closed once shown), a table, Markdown text, or a list of these in
    order."""
    from IPython.display import Markdown, display

    if item is None:
        return
    if isinstance(item, list | tuple):
        for part in item:
            show(part)
        return
    if isinstance(item, str):
        if item:
            display(Markdown(dollars_escaped(item)))
        return
    fig = getattr(item, "figure", None) if not hasattr(item, "savefig") else item
    if fig is not None and hasattr(fig, "savefig"):
        import matplotlib.pyplot as plt

        display(fig, metadata={"image/png": {"alt": described(fig)}})  # the page's <img alt> (report's template)
        plt.close(fig)
        return
    display(item)


def described(fig) -> str:
    """A chart in words, for the readers who do not see it (the image's alt text): the figure's label where a chart
    sets one, else each panel's title and what its axes show."""
    if fig.get_label():
        return str(fig.get_label())
    parts = []
    suptitle = fig._suptitle.get_text() if getattr(fig, "_suptitle", None) is not None else ""
    for ax in fig.axes:
        if not ax.get_visible() or not ax.get_title():
            continue  # a colour bar, a hidden panel
        axes = "; ".join(f"{side}: {text}" for side, text in (("across", ax.get_xlabel()), ("up", ax.get_ylabel())) if text)
        parts.append(f"{ax.get_title()} ({axes})" if axes else ax.get_title())
    return "Chart: " + ". ".join([p for p in (suptitle, *parts) if p]) if (suptitle or parts) else "Chart"


def section(notes: Mapping[str, str], key: str, draw: Callable[..., Any] | None = None, *args: Any, **kwargs: Any) -> None:
    """Show a section: the sentence in ``notes[key]`` when the data cannot serve it, else what ``draw(*args)``
    returns (a chart, a table or text)."""
    if key in notes:
        text = notes.say(key) if hasattr(notes, "say") else notes[key]
        if text:
            show(f"*{text}*")
        return
    if draw is not None:
        show(draw(*args, **kwargs))


def axis_format(ax, kind: str, axis: str = "y") -> None:
    """A chart axis in the house format ``kind`` (money | share | count | multiple …, as :data:`FORMATS`): the same
    text as the tables and sentences, no ``1e6`` offset, and on a log axis no labels on the minor ticks."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(FuncFormatter(lambda v, _: FORMATS[kind](v)))
    if target.get_scale() == "log":
        target.set_minor_formatter(NullFormatter())


def axis_money(ax, axis: str = "y") -> None:
    """Money on a chart axis in the house format, in the run's currency."""
    axis_format(ax, "money", axis)


def axis_share(ax, axis: str = "y") -> None:
    """Shares on a chart axis: ``40%``."""
    axis_format(ax, "share", axis)
