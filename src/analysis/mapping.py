"""Mappings from what a CRM exports to the data contract, as presets or a user's YAML file.

A mapping is a YAML document with one entry per contract table::

    name: my-crm
    date_formats: ["%d/%m/%Y", ISO8601]   # tried in order (default: ISO8601)
    thousands: ","                         # thousands separator in numbers (default: none)
    tables:
      opportunities:
        source: deals                      # file stem in the folder / table in the database
        rename: {Deal ID: opportunity_id, Owner: owner_id, Stage: stage}
        copy: {status: stage}              # new column copied from another (after renames)
        values:                            # value maps, matched case-insensitively; "*" = any other value
          status: {Closed Won: won, Closed Lost: lost, "*": open}
        constants: {segment: SMB}          # columns with one value for every row
        open_close_date_to_expected: true  # open deals' close date is a forecast: move it
        lost_amount_zero_is_missing: true  # a lost deal's 0 is not its size
      reps:
        derive_from_owners: true           # no reps table: one rep per owner_id (treated as ramped)

Before those, a table can be reshaped from another export shape (:mod:`analysis.reshape`): ``from_events`` (a
stage-change log into deals or stage history) or ``group_by`` (line-level exports into one row per key); ``when``
sets a column from conditions on others. Steps run in this order: from_events or group_by, rename, copy, values,
when, constants, then the two rules; no step overwrites a column silently. Columns the contract does not know
are kept aside (ignored) and listed in the validation summary.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from analysis.config import PRESETS_DIR
from analysis.reshape import AGGREGATIONS, Events, Grouping, conditional, from_events, group_rows
from analysis.schemas import TABLES

PRESETS = ("maven", "salesforce", "hubspot")

_TABLE_KEYS = {
    "source",
    "from_events",
    "group_by",
    "when",
    "rename",
    "copy",
    "values",
    "constants",
    "open_close_date_to_expected",
    "lost_amount_zero_is_missing",
    "derive_from_owners",
}


class MappingError(ValueError):
    """A mapping file is not valid; the message names the file and the field."""


@dataclass(frozen=True)
class TableMapping:
    source: str
    rename: dict[str, str] = field(default_factory=dict)
    copy: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    open_close_date_to_expected: bool = False
    lost_amount_zero_is_missing: bool = False
    derive_from_owners: bool = False
    from_events: Events | None = None
    group_by: Grouping | None = None
    when: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Mapping:
    name: str
    tables: dict[str, TableMapping]
    date_formats: tuple[str, ...] = ("ISO8601",)
    thousands: str | None = None
    origin: str = "identity"

    def table(self, name: str) -> TableMapping:
        return self.tables.get(name) or TableMapping(source=name)

    def apply(self, table: str, frame: pd.DataFrame) -> pd.DataFrame:
        """Rename, copy, map values, add constants and apply the table's rules (raw text stays text)."""
        tm = self.table(table)
        where = f"{self.origin}: tables.{table}"
        try:
            if tm.from_events is not None:
                frame = from_events(frame, tm.from_events, table, self.date_formats)
            elif tm.group_by is not None:
                frame = group_rows(frame, tm.group_by, self.thousands)
        except KeyError as exc:
            step = "from_events" if tm.from_events is not None else "group_by"
            found = ", ".join(map(str, list(frame.columns)[:20]))
            raise MappingError(f"{where}.{step} names the column {exc} that the file does not have (columns found: {found})") from None
        kept = [c for c in frame.columns if c not in tm.rename]
        targets = list(tm.rename.values())
        for src, dst in tm.rename.items():
            if src in frame.columns and dst in kept:
                raise MappingError(
                    f"{where}.rename maps '{src}' onto '{dst}', a column the file already has: rename or drop that "
                    "column first (a mapping never overwrites a column silently)"
                )
            if src in frame.columns and targets.count(dst) > 1 and sum(s in frame.columns for s, d in tm.rename.items() if d == dst) > 1:
                raise MappingError(f"{where}.rename maps several columns onto '{dst}': keep one")
        out = frame.rename(columns=tm.rename)
        for new, old in tm.copy.items():
            if new in out.columns and old in out.columns:
                raise MappingError(f"{where}.copy would overwrite the column '{new}' with '{old}': give the copy a new name")
            if old in out.columns:
                out[new] = out[old]
        for col, mapping in tm.values.items():
            if col in out.columns:
                out[col] = _map_values(out[col], mapping)
        for col, rule in tm.when.items():
            out[col] = conditional(out, col, rule)
        for col, value in tm.constants.items():  # fills what is empty (or absent); a value the file holds is kept
            if col in out.columns:
                empty = out[col].isna() | out[col].astype("str").str.strip().eq("")
                out[col] = out[col].astype("object").where(~empty, value)
            else:
                out[col] = value
        if tm.open_close_date_to_expected and {"status", "close_date"} <= set(out.columns):
            # An open deal's close date is a forecast: it becomes the expected close date where none is mapped.
            is_open = out["status"].astype("str").str.strip().str.lower().eq("open")
            if "expected_close_date" not in out.columns:
                out["expected_close_date"] = pd.Series(pd.NA, index=out.index, dtype="object")
            empty = out["expected_close_date"].isna() | out["expected_close_date"].astype("str").str.strip().eq("")
            out["expected_close_date"] = out["expected_close_date"].astype("object").where(~(is_open & empty), out["close_date"])
            out["close_date"] = out["close_date"].astype("object").where(~is_open, None)
        if tm.lost_amount_zero_is_missing and {"status", "amount"} <= set(out.columns):
            lost = out["status"].astype("str").str.strip().str.lower().eq("lost")
            zero = pd.to_numeric(out["amount"], errors="coerce").eq(0)
            out["amount"] = out["amount"].astype("object").where(~(lost & zero), None)
        return out


def _map_values(values: pd.Series, mapping: dict[str, str]) -> pd.Series:
    keys = {str(k).strip().lower(): v for k, v in mapping.items() if k != "*"}
    other = mapping.get("*")
    text = values.astype("str").str.strip().str.lower()
    mapped = text.map(keys)
    missing = values.isna() | text.eq("")
    if other is not None:
        mapped = mapped.where(mapped.notna() | missing, other)
    # Values without a mapping stay as they were, so validation can name them.
    return pd.Series(np.where(mapped.notna(), mapped, values.astype("object")), index=values.index, dtype="object").where(~missing, None)


def _check_format(fmt: str, origin: str) -> None:
    """A date format must be ISO8601 or a strptime pattern Python knows (checked once, here, not on every value)."""
    if fmt == "ISO8601":
        return
    try:
        dt.datetime.strptime("", fmt)
    except ValueError as exc:
        if "directive" in str(exc) or "format" in str(exc) and "does not match" not in str(exc):
            line = ""
            path = Path(origin)
            if path.is_file():
                found = [i for i, text in enumerate(path.read_text().splitlines(), 1) if fmt in text]
                line = f" (line {found[0]})" if found else ""
            raise MappingError(
                f"{origin}{line}: date_formats: {fmt!r} is not a date format ({exc}); use strptime codes such as %d/%m/%Y, or ISO8601"
            ) from None


def load_mapping(spec: str | Path | None) -> Mapping:
    """``None`` (the contract's own names), a preset name (``maven``, ``salesforce``, ``hubspot``) or a YAML path."""
    if spec is None or spec == "" or spec == "none":
        return Mapping(name="identity", tables={})
    if str(spec) in PRESETS:
        path = PRESETS_DIR / f"{spec}.yaml"
    else:
        path = Path(spec)
        if not path.exists():
            raise MappingError(f"mapping {spec!r}: no such preset or file; presets are {', '.join(PRESETS)}, or give a path to a YAML file")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise MappingError(f"{path}: not valid YAML ({exc})") from exc
    return parse_mapping(raw, origin=str(path))


def _events(conf: dict, where: str, table: str) -> Events | None:
    raw = conf.get("from_events")
    if raw is None:
        return None
    if table not in {"opportunities", "stage_history"}:
        raise MappingError(f"{where}.from_events: only opportunities and stage_history can be read from a stage-change log")
    if not isinstance(raw, dict) or not {"deal", "stage", "date"} <= set(raw):
        raise MappingError(f"{where}.from_events: give the columns deal, stage and date (and optionally won, lost, amount)")
    bad = set(raw) - {"deal", "stage", "date", "won", "lost", "amount"}
    if bad:
        raise MappingError(f"{where}.from_events: unknown field(s) {sorted(bad)}; allowed: deal, stage, date, won, lost, amount")
    stages = {k: tuple(str(v) for v in (raw[k] if isinstance(raw[k], list) else [raw[k]])) for k in ("won", "lost") if k in raw}
    return Events(
        deal=str(raw["deal"]),
        stage=str(raw["stage"]),
        date=str(raw["date"]),
        amount=str(raw["amount"]) if raw.get("amount") else None,
        **stages,
    )


def _grouping(conf: dict, where: str) -> Grouping | None:
    raw = conf.get("group_by")
    if raw is None:
        return None
    if isinstance(raw, (str, list)):
        raw = {"key": raw}
    if not isinstance(raw, dict) or "key" not in raw:
        raise MappingError(f"{where}.group_by: give key (a column or a list of columns) and optionally aggregate")
    key = raw["key"] if isinstance(raw["key"], list) else [raw["key"]]
    aggregate = {str(k): str(v) for k, v in (raw.get("aggregate") or {}).items()}
    bad = {k: v for k, v in aggregate.items() if v not in AGGREGATIONS}
    if bad:
        raise MappingError(f"{where}.group_by.aggregate: {bad} — each column takes one of {', '.join(AGGREGATIONS)}")
    return Grouping(key=tuple(str(k) for k in key), aggregate=aggregate)


def _when(conf: dict, where: str) -> dict[str, dict[str, Any]]:
    raw = conf.get("when") or {}
    if not isinstance(raw, dict):
        raise MappingError(f"{where}.when: expected column: {{if: {{...}}, then: ..., else: ...}}")
    for col, rule in raw.items():
        if not isinstance(rule, dict) or not isinstance(rule.get("if"), dict) or "then" not in rule:
            raise MappingError(
                f"{where}.when.{col}: give if (conditions: column: present | empty | a value | [values]) and then "
                "(a column, {value: X} or empty), and optionally else"
            )
        bad = set(rule) - {"if", "then", "else"}
        if bad:
            raise MappingError(f"{where}.when.{col}: unknown field(s) {sorted(bad)}; allowed: if, then, else")
    return {str(k): dict(v) for k, v in raw.items()}


def parse_mapping(raw: Any, origin: str = "mapping") -> Mapping:
    if not isinstance(raw, dict):
        raise MappingError(f"{origin}: expected a mapping with a 'tables' key, got {type(raw).__name__}")
    unknown = set(raw) - {"name", "description", "tables", "date_formats", "thousands"}
    if unknown:
        raise MappingError(f"{origin}: unknown top-level field(s) {sorted(unknown)}")
    tables_raw = raw.get("tables") or {}
    if not isinstance(tables_raw, dict):
        raise MappingError(f"{origin}: 'tables' must map table names to their settings")
    tables: dict[str, TableMapping] = {}
    for name, conf in tables_raw.items():
        where = f"{origin}: tables.{name}"
        if name not in TABLES:
            raise MappingError(f"{where}: unknown table; the contract's tables are {sorted(TABLES)}")
        conf = conf or {}
        if not isinstance(conf, dict):
            raise MappingError(f"{where}: expected a mapping of settings")
        bad = set(conf) - _TABLE_KEYS
        if bad:
            raise MappingError(f"{where}: unknown field(s) {sorted(bad)}; allowed: {sorted(_TABLE_KEYS)}")
        for key in ("rename", "copy", "values", "constants"):
            if key in conf and not isinstance(conf[key], dict):
                raise MappingError(f"{where}.{key}: expected a mapping, got {type(conf[key]).__name__}")
        for col, vm in (conf.get("values") or {}).items():
            if not isinstance(vm, dict):
                raise MappingError(f"{where}.values.{col}: expected a mapping of source value: contract value")
        events, grouping, when = _events(conf, where, name), _grouping(conf, where), _when(conf, where)
        if events is not None and grouping is not None:
            raise MappingError(f"{where}: from_events and group_by cannot both reshape one table")
        tables[name] = TableMapping(
            source=str(conf.get("source", name)),
            rename={str(k): str(v) for k, v in (conf.get("rename") or {}).items()},
            copy={str(k): str(v) for k, v in (conf.get("copy") or {}).items()},
            values={str(k): {str(a): str(b) for a, b in v.items()} for k, v in (conf.get("values") or {}).items()},
            constants=dict(conf.get("constants") or {}),
            open_close_date_to_expected=bool(conf.get("open_close_date_to_expected", False)),
            lost_amount_zero_is_missing=bool(conf.get("lost_amount_zero_is_missing", False)),
            derive_from_owners=bool(conf.get("derive_from_owners", False)),
            from_events=events,
            group_by=grouping,
            when=when,
        )
    formats = raw.get("date_formats", ["ISO8601"])
    if isinstance(formats, str):
        formats = [formats]
    if not isinstance(formats, list) or not formats:
        raise MappingError(f"{origin}: date_formats must be a list of strptime formats or ISO8601")
    for fmt in formats:
        _check_format(str(fmt), origin)
    return Mapping(
        name=str(raw.get("name", Path(origin).stem)),
        tables=tables,
        date_formats=tuple(str(f) for f in formats),
        thousands=raw.get("thousands"),
        origin=origin,
    )
