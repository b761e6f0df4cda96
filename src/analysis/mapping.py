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

Steps run in this order: rename, copy, values, constants, then the two rules. Columns the contract does
not know are kept aside (ignored) and listed in the validation summary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from analysis.config import PRESETS_DIR
from analysis.schemas import TABLES

PRESETS = ("maven", "salesforce", "hubspot")

_TABLE_KEYS = {
    "source",
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
        out = frame.rename(columns=tm.rename)
        for new, old in tm.copy.items():
            if old in out.columns:
                out[new] = out[old]
        for col, mapping in tm.values.items():
            if col in out.columns:
                out[col] = _map_values(out[col], mapping)
        for col, value in tm.constants.items():
            out[col] = value
        if tm.open_close_date_to_expected and {"status", "close_date"} <= set(out.columns):
            is_open = out["status"].astype("str").str.strip().str.lower().eq("open")
            if "expected_close_date" not in out.columns:
                out["expected_close_date"] = pd.Series(pd.NA, index=out.index, dtype="object")
            out["expected_close_date"] = out["expected_close_date"].astype("object").where(~is_open, out["close_date"])
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


def load_mapping(spec: str | Path | None) -> Mapping:
    """``None`` (the contract's own names), a preset name (``maven``, ``salesforce``, ``hubspot``) or a YAML path."""
    if spec is None or spec == "" or spec == "none":
        return Mapping(name="identity", tables={})
    if str(spec) in PRESETS:
        path = PRESETS_DIR / f"{spec}.yaml"
    else:
        path = Path(spec)
        if not path.exists():
            raise MappingError(
                f"mapping {spec!r}: no such preset or file; presets are {', '.join(PRESETS)}, or give a path to a YAML file"
            )
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise MappingError(f"{path}: not valid YAML ({exc})") from exc
    return parse_mapping(raw, origin=str(path))


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
        tables[name] = TableMapping(
            source=str(conf.get("source", name)),
            rename={str(k): str(v) for k, v in (conf.get("rename") or {}).items()},
            copy={str(k): str(v) for k, v in (conf.get("copy") or {}).items()},
            values={str(k): {str(a): str(b) for a, b in v.items()} for k, v in (conf.get("values") or {}).items()},
            constants=dict(conf.get("constants") or {}),
            open_close_date_to_expected=bool(conf.get("open_close_date_to_expected", False)),
            lost_amount_zero_is_missing=bool(conf.get("lost_amount_zero_is_missing", False)),
            derive_from_owners=bool(conf.get("derive_from_owners", False)),
        )
    formats = raw.get("date_formats", ["ISO8601"])
    if isinstance(formats, str):
        formats = [formats]
    if not isinstance(formats, list) or not formats:
        raise MappingError(f"{origin}: date_formats must be a list of strptime formats or ISO8601")
    return Mapping(
        name=str(raw.get("name", Path(origin).stem)),
        tables=tables,
        date_formats=tuple(str(f) for f in formats),
        thousands=raw.get("thousands"),
        origin=origin,
    )
