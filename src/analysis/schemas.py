"""The data contract, described once: tables, columns, kinds, defaults, and the row rules.

``TABLES`` says which columns each table has and how to parse them; :func:`row_schema` builds the pandera
schema whose named checks are the row-level rules. A row that fails a check is quarantined with the check's
``error`` text as its reason (see :mod:`analysis.data`). ``docs/data-contract.md`` documents the same
contract in words; ``tests/test_schemas.py`` keeps the two in step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow
import pyarrow.compute as pc

from analysis.calendar import is_period_label

STATUSES = ("open", "won", "lost")
#: Dates that may lie after the as-of date: a rep's expected close date, a planned hire, a known leaving date.
AHEAD_OK = {("opportunities", "expected_close_date"), ("reps", "hire_date"), ("reps", "end_date")}
#: The dates a CRM record can plausibly carry; anything outside is quarantined as out of range.
EARLIEST, LATEST = pd.Timestamp("1900-01-01"), pd.Timestamp("2199-12-31")
DEAL_TYPES = ("new", "expansion", "renewal")
SPEND_CATEGORIES = ("marketing", "sales")
QUOTA_TYPES = ("bookings", "won_deals", "activities", "margin")


@dataclass(frozen=True)
class Column:
    """One column of the contract. ``kind`` says how raw text is parsed:

    id / str (trimmed text), date (ISO date), month (``YYYY-MM``), number (float), period (``2026Q1``),
    enum (lower-cased text that must be one of ``values``).
    """

    name: str
    kind: str
    required: bool = False
    nullable: bool = True
    values: tuple[str, ...] = ()
    default: object = None
    doc: str = ""


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    required: bool = False
    key: tuple[str, ...] = ()
    doc: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _c(name, kind, required=False, nullable=True, values=(), default=None, doc=""):
    return Column(name, kind, required, nullable, tuple(values), default, doc)


TABLES: dict[str, Table] = {
    t.name: t
    for t in [
        Table(
            "opportunities",
            required=True,
            key=("opportunity_id",),
            doc="One row per deal.",
            columns=(
                _c("opportunity_id", "id", True, False, doc="unique deal id"),
                _c("owner_id", "id", True, False, doc="owning rep, a `reps.rep_id`"),
                _c("created_date", "date", True, False, doc="date the opportunity was created"),
                _c("close_date", "date", True, doc="date it was won or lost; empty while open"),
                _c("status", "enum", True, False, STATUSES, doc="open, won or lost"),
                _c("amount", "number", True, doc=">= 0, reporting currency; may be empty on open and lost deals"),
                _c("account_id", "id", default="opportunity_id", doc="customer account"),
                _c("segment", "str", default="all", doc="market segment"),
                _c("type", "enum", values=DEAL_TYPES, default="derived", doc="new, expansion or renewal"),
                _c("lead_source", "str", default="unknown", doc="where the deal came from"),
                _c("stage", "str", default="status", doc="current stage name"),
                _c("expected_close_date", "date", default=None, doc="rep's expected close date (open deals)"),
                _c("probability", "number", default=None, doc="rep-entered win probability, 0-1 or 0-100"),
                _c("product", "str", default="unknown", doc="product or product line"),
                _c("region", "str", default="owner region", doc="region of the deal"),
                _c("margin", "number", default=None, doc="gross margin of the deal, reporting currency"),
            ),
        ),
        Table(
            "reps",
            required=True,
            key=("rep_id",),
            doc="One row per sales rep (current and former).",
            columns=(
                _c("rep_id", "id", True, False, doc="unique rep id"),
                _c("name", "str", default="rep_id", doc="display name"),
                _c("team", "str", default="unassigned", doc="team the rep belongs to"),
                _c("region", "str", default="unknown", doc="region"),
                _c("hire_date", "date", default=None, doc="start date; empty means fully ramped"),
                _c("end_date", "date", default=None, doc="leaving date; empty while active"),
                _c("manager_id", "id", default=None, doc="manager's id"),
                _c("role", "str", default="rep", doc="role, e.g. AE, SDR"),
                _c("fte", "number", default=1.0, doc="full-time equivalent, (0, 1]"),
            ),
        ),
        Table(
            "stage_history",
            key=("opportunity_id", "stage", "entered_date"),
            doc="One row each time a deal entered a stage.",
            columns=(
                _c("opportunity_id", "id", True, False, doc="an `opportunities.opportunity_id`"),
                _c("stage", "str", True, False, doc="stage entered"),
                _c("entered_date", "date", True, False, doc="date it entered the stage"),
            ),
        ),
        Table(
            "spend",
            doc="Monthly sales and marketing spend.",
            columns=(
                _c("month", "month", True, False, doc="month as YYYY-MM"),
                _c("category", "enum", True, False, SPEND_CATEGORIES, doc="marketing or sales"),
                _c("channel", "str", default="all", doc="channel or cost line"),
                _c("amount", "number", True, False, doc=">= 0, reporting currency"),
            ),
        ),
        Table(
            "leads",
            key=("lead_id",),
            doc="One row per lead.",
            columns=(
                _c("lead_id", "id", True, False, doc="unique lead id"),
                _c("created_date", "date", True, False, doc="date the lead was created"),
                _c("source", "str", default="unknown", doc="lead source / channel"),
                _c("opportunity_id", "id", True, doc="the opportunity it became; empty if not converted"),
            ),
        ),
        Table(
            "quotas",
            key=("rep_id", "period"),
            doc="Quotas that were assigned (history).",
            columns=(
                _c("rep_id", "id", True, False, doc="a `reps.rep_id`"),
                _c("period", "period", True, False, doc="fiscal quarter, e.g. 2026Q1"),
                _c("quota", "number", True, False, doc=">= 0"),
            ),
        ),
        Table(
            "goals",
            key=("rep_id", "period"),
            doc="Reps' own bottom-up goals.",
            columns=(
                _c("rep_id", "id", True, False, doc="a `reps.rep_id`"),
                _c("period", "period", True, False, doc="fiscal quarter"),
                _c("goal", "number", True, False, doc=">= 0"),
            ),
        ),
        Table(
            "targets",
            key=("period", "team", "quota_type"),
            doc="Leadership's targets: company-wide (team empty) or per team, in the unit of their quota type.",
            columns=(
                _c("period", "period", True, False, doc="fiscal quarter"),
                _c("target", "number", True, False, doc=">= 0"),
                _c("team", "str", default=None, doc="empty for the company target"),
                _c(
                    "quota_type",
                    "enum",
                    values=QUOTA_TYPES,
                    default="bookings",
                    doc="what the target counts: bookings (amount), won_deals (count), activities (count) or margin (amount)",
                ),
            ),
        ),
        Table(
            "activities",
            doc="Rep activity counts (calls, emails, meetings...).",
            columns=(
                _c("rep_id", "id", True, False, doc="a `reps.rep_id`"),
                _c("date", "date", True, False, doc="day of the activity"),
                _c("type", "str", True, False, doc="activity type"),
                _c("count", "number", True, False, doc=">= 0"),
            ),
        ),
    ]
}

#: Load order: a table's references are validated against the tables before it.
TABLE_ORDER = ["reps", "opportunities", "stage_history", "leads", "spend", "quotas", "goals", "targets", "activities"]


# --------------------------------------------------------------------------------------------------
# Row rules as pandera checks. Each check's ``name`` is the rule code; its ``error`` is the reason text
# written to quarantine.csv; RULE_COLUMN says which column the rule is about.
# --------------------------------------------------------------------------------------------------
RULE_COLUMN: dict[str, str] = {}


def _rule(name: str, column: str, error: str, fn: Callable[[pd.DataFrame], pd.Series]) -> pa.Check:
    RULE_COLUMN[name] = column
    return pa.Check(fn, name=name, error=error)


def _not_dup(cols: Iterable[str], defaults: dict | None = None, may_be_empty: Iterable[str] = ()) -> Callable[[pd.DataFrame], pd.Series]:
    """No repeated key. An absent or empty key column counts as its default; a key that is empty (without a default)
    or failed to parse is reported as such, not as a duplicate."""
    cols, defaults, may_be_empty = list(cols), defaults or {}, set(may_be_empty)

    def check(d: pd.DataFrame) -> pd.Series:
        present = [c for c in cols if c in d]
        keys = d[present].copy()
        unparsed = pd.Series(False, index=d.index)
        for c in present:
            if defaults.get(c) is not None:
                keys[c] = keys[c].fillna(defaults[c])
            if f"__raw_{c}" in d:  # a value that failed to parse is reported as such, not as a duplicate
                unparsed |= d[c].isna() & d[f"__raw_{c}"].notna()
            if c not in may_be_empty:  # so is an empty key with no default
                unparsed |= keys[c].isna()
        dup = keys[~unparsed].duplicated(keep="first")
        return ~dup.reindex(d.index, fill_value=False)

    return check


def _present(col: str, raw: str) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda d: d[col].notna() | (d[raw].notna() if raw in d else False)


def _empty(d: pd.DataFrame, col: str) -> pd.Series:
    """Empty in the source: no text given (typed sources have no raw text; there missing is empty)."""
    raw = f"__raw_{col}"
    return d[raw].isna() if raw in d else d[col].isna()


def _nonneg(col: str) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda d: ~(d[col] < 0).fillna(False)


def isin(values: pd.Series, pool) -> np.ndarray:
    """``values.isin(pool)`` through pyarrow's hash set, as text (pandas 3's Arrow-string ``isin`` walks the pool in
    Python: 25 s for 4M rows against a million ids, this well under a second). Missing values are not in it."""
    pool = pool if isinstance(pool, pd.Series) else pd.Series(list(pool), dtype="object")
    value_set = pyarrow.array(pd.unique(pool.dropna().astype("str")), type=pyarrow.string())
    found = pc.is_in(pyarrow.array(values.astype("str"), type=pyarrow.string(), from_pandas=True), value_set=value_set)
    return np.asarray(found.fill_null(False), dtype=bool)


def _in(col: str, allowed: Iterable, nullable: bool = False) -> Callable[[pd.DataFrame], pd.Series]:
    allowed = list(pd.unique(pd.Series(list(allowed), dtype="object")))

    def check(d: pd.DataFrame) -> pd.Series:
        ok = pd.Series(isin(d[col], allowed), index=d.index)
        return ok | d[col].isna() if nullable else ok

    return check


def row_schema(table: str, columns: Iterable[str], as_of: pd.Timestamp, refs: dict[str, pd.Index]) -> pa.DataFrameSchema:
    """The pandera schema of one parsed table.

    ``columns`` are the columns present; ``refs`` holds the ids of earlier, already-validated tables
    (``rep_id``, ``opportunity_id``, ``team``). Rules about absent optional columns are left out.
    """
    present = set(columns)
    checks: list[pa.Check] = []
    add = checks.append
    # Parsing problems first: a value was given but could not be read.
    spec = TABLES[table]
    for col in spec.columns:
        if col.name not in present:
            continue
        raw = f"__raw_{col.name}"
        if not col.nullable:  # empty in the source (a value that failed to parse is reported as such instead)
            add(_rule(f"{table}.{col.name}.missing", col.name, f"{col.name} is empty (required)", _present(col.name, raw)))
        if col.kind in {"date", "month", "number", "period", "enum"}:
            what = {
                "date": "a date (YYYY-MM-DD)",
                "month": "a month (YYYY-MM)",
                "number": "a finite number",
                "period": "a fiscal quarter like 2026Q1",
                "enum": "one of " + ", ".join(col.values),
            }[col.kind]
            add(
                _rule(
                    f"{table}.{col.name}.unparseable",
                    col.name,
                    f"{col.name} is not {what}",
                    lambda d, c=col.name, r=raw: ~(d[c].isna() & d[r].notna()) if r in d else pd.Series(True, index=d.index),
                )
            )
        if col.kind in {"date", "month"}:
            add(
                _rule(
                    f"{table}.{col.name}.range",
                    col.name,
                    f"{col.name} is outside {EARLIEST.date()} to {LATEST.date()} (a date out of range)",
                    lambda d, c=col.name: ~((d[c] < EARLIEST) | (d[c] > LATEST)).fillna(False),
                )
            )
        if col.kind in {"date", "month"} and (table, col.name) not in AHEAD_OK:  # a forecast or a planned date may lie ahead
            add(
                _rule(
                    f"{table}.{col.name}.future",
                    col.name,
                    f"{col.name} is after the as-of date {as_of.date()}",
                    lambda d, c=col.name: ~((d[c] > as_of) & ~((d[c] < EARLIEST) | (d[c] > LATEST))).fillna(False),
                )
            )
    if spec.key:
        key = list(spec.key)
        defaults = {c.name: c.default for c in spec.columns if c.name in key}
        empty_ok = [c.name for c in spec.columns if c.name in key and c.nullable and c.default is None]  # targets: no team = company
        add(_rule(f"{table}.duplicate", key[0], f"duplicate {' + '.join(key)} (the first row is kept)", _not_dup(key, defaults, empty_ok)))

    if table == "opportunities":
        add(_rule("opportunities.amount.negative", "amount", "amount is negative", _nonneg("amount")))
        add(
            _rule(
                "opportunities.won_without_amount",
                "amount",
                "won deal without an amount",
                lambda d: ~((d["status"] == "won") & _empty(d, "amount")),
            )
        )
        add(
            _rule(
                "opportunities.closed_without_close_date",
                "close_date",
                "won or lost deal without a close_date",
                lambda d: ~(d["status"].isin(["won", "lost"]) & _empty(d, "close_date")),
            )
        )
        add(
            _rule(
                "opportunities.open_with_close_date",
                "close_date",
                "open deal with a close_date (map it to expected_close_date)",
                lambda d: ~((d["status"] == "open") & d["close_date"].notna()),
            )
        )
        add(
            _rule(
                "opportunities.close_before_create",
                "close_date",
                "close_date is before created_date",
                lambda d: ~(d["close_date"] < d["created_date"]).fillna(False),
            )
        )
        add(
            _rule(
                "opportunities.unknown_owner",
                "owner_id",
                "owner_id is not a usable rep (no such rep_id in reps, or that rep's row is quarantined)",
                _in("owner_id", refs.get("rep_id", [])),
            )
        )
        if "probability" in present:
            add(
                _rule(
                    "opportunities.probability.range",
                    "probability",
                    "probability is not between 0 and 1 (or 0 and 100)",
                    lambda d: ~((d["probability"] < 0) | (d["probability"] > 100)).fillna(False),
                )
            )
    elif table == "reps":
        if {"hire_date", "end_date"} <= present:
            add(
                _rule(
                    "reps.end_before_hire",
                    "end_date",
                    "end_date is before hire_date",
                    lambda d: ~(d["end_date"] < d["hire_date"]).fillna(False),
                )
            )
        if "fte" in present:
            add(_rule("reps.fte.range", "fte", "fte is not in (0, 1]", lambda d: ~((d["fte"] <= 0) | (d["fte"] > 1)).fillna(False)))
    elif table == "stage_history":
        add(
            _rule(
                "stage_history.unknown_opportunity",
                "opportunity_id",
                "opportunity_id is not a usable opportunity (absent, or its row is quarantined)",
                _in("opportunity_id", refs.get("opportunity_id", [])),
            )
        )
    elif table == "leads":
        add(
            _rule(
                "leads.unknown_opportunity",
                "opportunity_id",
                "opportunity_id is not a usable opportunity (absent, or its row is quarantined)",
                _in("opportunity_id", refs.get("opportunity_id", []), nullable=True),
            )
        )
    elif table == "spend":
        add(_rule("spend.amount.negative", "amount", "amount is negative", _nonneg("amount")))
        add(
            _rule(
                "spend.duplicate",
                "month",
                "duplicate month + category + channel (an empty channel is 'all'; the first row is kept)",
                _not_dup(["month", "category", "channel"], {"channel": "all"}),
            )
        )
    elif table in {"quotas", "goals"}:
        value = "quota" if table == "quotas" else "goal"
        add(_rule(f"{table}.{value}.negative", value, f"{value} is negative", _nonneg(value)))
        add(
            _rule(
                f"{table}.unknown_rep",
                "rep_id",
                "rep_id is not a usable rep (no such rep_id in reps, or that rep's row is quarantined)",
                _in("rep_id", refs.get("rep_id", [])),
            )
        )
    elif table == "targets":
        add(_rule("targets.target.negative", "target", "target is negative", _nonneg("target")))
        add(
            _rule(
                "targets.target.zero",
                "target",
                "target is 0: a plan needs a target above 0 (leave the row out for no target)",
                lambda d: ~(d["target"] == 0),
            )
        )
        if "team" in present:
            add(
                _rule(
                    "targets.unknown_team",
                    "team",
                    "team is not a team of any usable rep in reps",
                    _in("team", refs.get("team", []), nullable=True),
                )
            )
    elif table == "activities":
        add(_rule("activities.count.negative", "count", "count is negative", _nonneg("count")))
        add(
            _rule(
                "activities.unknown_rep",
                "rep_id",
                "rep_id is not a usable rep (no such rep_id in reps, or that rep's row is quarantined)",
                _in("rep_id", refs.get("rep_id", [])),
            )
        )

    return pa.DataFrameSchema(checks=checks, name=table)


def period_ok(values: pd.Series) -> pd.Series:
    """True where a text value is a valid fiscal quarter label."""
    return values.map(is_period_label, na_action="ignore").astype("boolean").fillna(False).astype(bool)
