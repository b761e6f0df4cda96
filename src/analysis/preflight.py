"""What a quarterly run needs from the data and the settings, checked before anything runs.

``quotacast validate`` and ``quotacast run`` both call :func:`check`, so a source and settings that validate always
give a complete run: every page renders, and a section whose data is missing says so in a sentence
(:mod:`analysis.sections`). What can never work is refused up front with one :class:`~analysis.data.DataError`
(exit code 2) naming the setting or table: an as-of date that is not a date, a period that is not after the last
complete quarter or lies too far ahead, no usable opportunity or rep, no rep employed at the as-of date, a quota
type the data cannot count, a pay plan that cannot be read.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pandas as pd

from analysis.calendar import last_complete_period, period_of, resolve_period, to_period
from analysis.compensation import resolve_plan
from analysis.config import Settings
from analysis.data import DataError, Dataset, Problem

#: The furthest quarter a plan may be made for, counted from the as-of date's quarter.
MAX_LEAD = 8
#: Notebook parameters that come from the run's own options, never from ``--param``.
RUN_OPTIONS = {
    "data": "--data",
    "mapping": "--mapping",
    "period": "--period",
    "as_of": "--as-of",
    "run_dir": "--out",
    "fiscal_year_start": "--fiscal-year-start",
}
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SETTINGS = "The settings cannot be used"
RUN = "The run cannot be made on these data with these settings"


def parse_as_of(text: str | dt.date | pd.Timestamp | None) -> pd.Timestamp:
    """The as-of date: ``None`` is today; otherwise an ISO date ``YYYY-MM-DD``, refused with a clear message."""
    if text is None:
        return pd.Timestamp.today().normalize()
    if isinstance(text, (dt.date, pd.Timestamp)):
        return pd.Timestamp(text).normalize()
    value = str(text).strip()
    problem = None
    if not _ISO_DAY.match(value):
        problem = f"{value!r} is not a date written YYYY-MM-DD"
    else:
        try:
            return pd.Timestamp(dt.date.fromisoformat(value))
        except ValueError as exc:
            problem = f"{value!r} is not a calendar date ({exc})"
    raise DataError(Problem("setting 'as_of' (--as-of)", problem, "give the day the extract was taken, e.g. 2026-11-15"), SETTINGS)


def run_period(label: str, as_of: pd.Timestamp, fiscal_year_start: int) -> str:
    """The quarter to plan: ``next`` or a label, which must lie after the last complete quarter at ``as_of`` and
    at most :data:`MAX_LEAD` quarters after the as-of date's quarter."""
    where = "setting 'period' (--period)"
    try:
        period = resolve_period(str(label).strip(), today=as_of, fiscal_year_start=fiscal_year_start)
    except ValueError as exc:
        raise DataError(Problem(where, str(exc), "give 'next' or a fiscal quarter like 2027Q1"), SETTINGS) from None
    last = last_complete_period(as_of, fiscal_year_start)
    now = period_of(as_of, fiscal_year_start)
    lead = (to_period(period, fiscal_year_start) - to_period(now, fiscal_year_start)).n
    if to_period(period, fiscal_year_start) <= to_period(last, fiscal_year_start):
        raise DataError(
            Problem(
                where,
                f"{period} is not after {last}, the last complete quarter at the as-of date {as_of.date()}",
                "plan a quarter that has not ended yet ('next' is the quarter after the as-of date), or give an earlier --as-of",
            ),
            SETTINGS,
        )
    if lead > MAX_LEAD:
        raise DataError(
            Problem(
                where,
                f"{period} is {lead} quarters after the as-of date's quarter {now}; a plan can reach "
                f"{MAX_LEAD} quarters ahead at most (no pipeline exists that far out)",
                "plan a nearer quarter, or give a later --as-of",
            ),
            SETTINGS,
        )
    return period


def settings_with(settings: Settings, overrides: dict[str, Any]) -> Settings:
    """``settings`` with ``--param`` overrides applied and checked like the rest (unknown names refused)."""
    if not overrides:
        return settings
    for name in overrides:
        if name in RUN_OPTIONS:
            raise DataError(
                Problem(f"--param {name}", f"'{name}' is set by the run's own option", f"use {RUN_OPTIONS[name]} instead"), SETTINGS
            )
    try:
        return Settings.from_dict({**settings.to_dict(), **overrides}, origin="--param")
    except (TypeError, ValueError) as exc:
        raise DataError(Problem("--param", str(exc), "see analysis.config.Settings for each setting and its range")) from None


def _top_reasons(ds: Dataset, table: str, k: int = 3) -> str:
    q = ds.quarantine[ds.quarantine["table"] == table]
    if q.empty:
        return "none quarantined"
    top = q.groupby("reason").size().sort_values(ascending=False).head(k)
    return "; ".join(f"{reason}: {n:,} rows" for reason, n in top.items())


def _before_data(ds: Dataset, table: str, column: str) -> str:
    """' (the first <column> in the data is …)' when rows were quarantined for lying after the as-of date."""
    q = ds.quarantine[(ds.quarantine["table"] == table) & (ds.quarantine["rule"] == f"{table}.{column}.future")]
    dates = pd.to_datetime(q["value"], errors="coerce").dropna()
    return f"; the as-of date {ds.as_of_date.date()} is before the data (first {column} {dates.min().date()})" if len(dates) else ""


def problems(ds: Dataset, settings: Settings, period: str) -> list[Problem]:
    """Every reason the run cannot be made on ``ds`` with ``settings`` for ``period`` (empty: it can)."""
    out: list[Problem] = []
    acc = ds.accounting.set_index("table")
    for table, key, what in (("opportunities", "created_date", "opportunity"), ("reps", "hire_date", "rep")):
        if table in acc.index and acc.loc[table, "rows_used"] == 0:
            n = int(acc.loc[table, "rows_in"])
            fix = "see quarantine.csv (quotacast validate --out DIR) for every row and its reason"
            if (ds.quarantine["rule"] == "opportunities.won_without_amount").any() and table == "opportunities":
                fix += (
                    "; if the CRM records no deal amounts, count deals instead: give every deal an amount of 1 in a mapping "
                    "(constants: {amount: 1}), and bookings then count won deals"
                )
            out.append(
                Problem(
                    str(acc.loc[table, "file"]),
                    f"no {what} is usable: all {n:,} rows were quarantined ({_top_reasons(ds, table)}){_before_data(ds, table, key)}",
                    fix,
                )
            )
    if not out and ds.active_reps().empty:
        out.append(
            Problem(
                str(acc.loc["reps", "file"]),
                f"no rep is employed at the as-of date {ds.as_of_date.date()} (every end_date is on or before it)",
                "a plan needs at least one active rep: check end_date, or the as-of date",
            )
        )
    kind = settings.quota_type
    if kind == "activities" and not ds.has("activities"):
        out.append(
            Problem(
                "setting 'quota_type'",
                "quotas counting activities need the optional table 'activities', and there is none",
                "add activities.csv (rep_id, date, type, count), or choose quota_type bookings, won_deals or margin",
            )
        )
    if kind == "margin" and not (ds.opportunities["margin"].notna() & ds.opportunities["status"].eq("won")).any():
        out.append(
            Problem(
                "setting 'quota_type'",
                "quotas counting margin need the opportunities column 'margin' on won deals, and none has one",
                "add the margin column, or choose quota_type bookings or won_deals",
            )
        )
    try:
        resolve_plan(settings.comp_plan)
    except Exception as exc:  # noqa: BLE001 - any reason the plan cannot be read is a settings problem
        out.append(
            Problem("setting 'comp_plan'", str(exc), "give a bundled plan (standard, flat-rate, enterprise) or a readable YAML file")
        )
    return out


def check(ds: Dataset, settings: Settings, period: str) -> None:
    """Raise :class:`DataError` listing every problem :func:`problems` finds."""
    found = problems(ds, settings, period)
    if found:
        raise DataError(found, RUN)
