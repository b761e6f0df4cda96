"""Load a data source, map it to the contract, validate it, quarantine bad rows, take as-of snapshots.

A source is a folder of CSV / Parquet files (one per table) or an SQLAlchemy URL whose tables have the same
names. Problems with a whole table stop the load with one :class:`DataError` listing all of them; problems
with single rows quarantine those rows (``Dataset.quarantine``) and the load goes on. For every table,
rows in = rows used + rows quarantined (``Dataset.accounting``).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import threading
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pandera

from analysis.calendar import next_period, period_bounds, period_of
from analysis.config import PASSWORD_ENV
from analysis.mapping import Mapping, load_mapping
from analysis.parsing import parse_dates, parse_numbers, text_of
from analysis.reading import RAGGED, Unreadable, header, read_file
from analysis.schemas import RULE_COLUMN, TABLE_ORDER, TABLES, period_ok, row_schema
from analysis.snapshots import Tables, Timeline, leads_at, rows_until

SUFFIXES = (".csv", ".csv.gz", ".parquet", ".pq")
QUARANTINE_COLUMNS = ["table", "file", "source_row", "column", "value", "rule", "reason"]
ACCOUNTING_COLUMNS = ["table", "file", "rows_in", "rows_used", "rows_quarantined"]


@dataclass(frozen=True)
class Problem:
    """A problem with a whole table: it stops the load."""

    file: str
    message: str
    fix: str
    column: str | None = None

    def __str__(self) -> str:
        col = f", column '{self.column}'" if self.column else ""
        return f"{self.file}{col}: {self.message}. Fix: {self.fix}"


class DataError(Exception):
    """The source cannot be used. ``problems`` lists every table-level problem found, not just the first."""

    exit_code = 2

    def __init__(self, problems: list[Problem] | Problem | str, heading: str = "The data cannot be used"):
        if isinstance(problems, (Problem, str)):
            problems = [problems]
        self.problems = list(problems)
        lines = [f"  {i}. {p}" for i, p in enumerate(self.problems, 1)]
        n = len(self.problems)
        super().__init__(f"{heading} ({n} problem{'s' * (n != 1)}):\n" + "\n".join(lines))


@dataclass(frozen=True)
class InputFile:
    table: str
    file: str
    sha256: str | None
    rows: int


# --------------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------------
def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def database_url(url: str):
    """An SQLAlchemy URL with its password taken from ``QUOTACAST_DB_PASSWORD`` (never from the URL)."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception as exc:  # noqa: BLE001 - sqlalchemy raises several kinds
        raise DataError(Problem(url, f"not a valid database URL ({exc})", "give a URL like sqlite:///crm.db")) from exc
    if parsed.password:
        raise DataError(
            Problem(
                parsed.render_as_string(hide_password=True),
                "the URL contains a password",
                f"remove it from the URL and set the environment variable {PASSWORD_ENV} instead",
            )
        )
    if os.environ.get(PASSWORD_ENV) and parsed.get_backend_name() not in {"sqlite", "duckdb"}:  # file databases have none
        parsed = parsed.set(password=os.environ[PASSWORD_ENV])
    return parsed


def is_database(source: str | Path) -> bool:
    return "://" in str(source)


def describe_source(source: str | Path) -> str:
    """A printable name of the source, with any password hidden."""
    if is_database(source):
        return database_url(str(source)).render_as_string(hide_password=True)
    return str(source)


def _decoded(value):
    """A database value as text where it came as bytes (a BLOB): UTF-8, else written out as the bytes it is, so
    the row is quarantined naming it rather than the load failing."""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return repr(value)
    return value


def _read_source(
    source: str | Path, mapping: Mapping, found_ragged: dict[str, pd.DataFrame]
) -> tuple[dict[str, tuple[pd.DataFrame, InputFile]], list[Problem], list[str], dict[str, str]]:
    """Read every contract table the source has. Returns (tables, problems, names of ignored inputs, and per table a
    hint where its file was found under a wrong name or is not a file); rows of the wrong length go to
    ``found_ragged`` (by table)."""
    found: dict[str, tuple[pd.DataFrame, InputFile]] = {}
    problems: list[Problem] = []
    wanted: dict[str, list[str]] = {}  # source → the tables read from it (one stage-change log can give two)
    for t in TABLES:
        wanted.setdefault(mapping.table(t).source, []).append(t)
    if is_database(source):
        import sqlalchemy as sa

        url = database_url(str(source))
        shown = url.render_as_string(hide_password=True)
        if (
            url.get_backend_name() in {"sqlite", "duckdb"}
            and url.database
            and url.database != ":memory:"
            and not Path(url.database).is_file()
        ):
            # connecting would create an empty database file: say there is none instead
            raise DataError(Problem(shown, f"no such database file ({url.database})", "give the path of an existing database file"))
        hints: dict[str, str] = {}
        try:
            engine = sa.create_engine(url)
            with engine.connect() as conn:
                inspector = sa.inspect(conn)
                names = list(inspector.get_table_names()) + list(inspector.get_view_names())
                for name in names:
                    if name in wanted:
                        frame = pd.read_sql_query(sa.text(f'SELECT * FROM "{name}"'), conn)
                        frame = (
                            frame.map(_decoded)
                            if any(frame[c].map(type).eq(bytes).any() for c in frame.columns if frame[c].dtype == object)
                            else frame
                        )
                        for table in wanted[name]:
                            found[table] = (frame, InputFile(table, f"{shown}#{name}", None, len(frame)))
                    elif name.lower() in {w.lower() for w in wanted}:
                        for table in next(v for k, v in wanted.items() if k.lower() == name.lower()):
                            hints.setdefault(
                                table,
                                f"found {name}: table names are case-sensitive here, name it "
                                f"{next(k for k in wanted if k.lower() == name.lower())}",
                            )
            engine.dispose()
        except Exception as exc:  # noqa: BLE001 - any driver error is a table-level problem
            msg = str(exc).splitlines()[0]
            if url.password:
                msg = msg.replace(url.password, "***")
            raise DataError(
                Problem(shown, f"cannot read the database ({msg})", "check the URL, the driver and the password variable")
            ) from None
        ignored = sorted(set(names) - set(wanted))
        return found, problems, ignored, hints

    folder = Path(source)
    if not folder.is_dir():
        raise DataError(Problem(str(folder), "no such folder", "give a folder of CSV/Parquet files or a database URL"))
    files: dict[str, list[Path]] = {}
    ignored, hints = [], {}
    lower = {stem.lower(): stem for stem in wanted}
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        suffix = next((s for s in SUFFIXES if path.name.endswith(s)), None)
        stem = path.name[: -len(suffix)] if suffix else None
        if suffix and stem in wanted and not path.is_file():
            kind = "a folder" if path.is_dir() else "a link that leads to no file (broken, or a loop)"
            for table in wanted[stem]:
                hints[table] = f"{path.name} is {kind}, not a file"
            ignored.append(f"{path.name} ({kind})")
            continue
        if suffix is None or stem not in wanted:
            near = next((lower[k] for k in lower for s in SUFFIXES if path.name.lower() == k + s), None)
            for table in wanted.get(near, []) if near is not None else []:
                hints.setdefault(table, f"found {path.name}: file names are case-sensitive, name it {near}{SUFFIXES[0]} or {near}.parquet")
            ignored.append(path.name + ("/" if path.is_dir() else ""))
            continue
        files.setdefault(stem, []).append(path)
    for stem, paths in files.items():
        tables = wanted[stem]
        if len(paths) > 1:
            problems.append(
                Problem(", ".join(str(p) for p in paths), f"more than one file for table '{tables[0]}'", "keep only one of them")
            )
            continue
        path = paths[0]
        try:
            frame, ragged = read_file(path)
        except Exception as exc:  # noqa: BLE001 - any parser error is a table-level problem
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            problems.append(
                Problem(
                    str(path),
                    f"cannot be read: {first}" if isinstance(exc, Unreadable) else f"cannot be read ({first})",
                    "save it as UTF-8 CSV with a header row, or as Parquet",
                )
            )
            for table in tables:
                hints[table] = UNREADABLE_HINT
            continue
        digest = _sha256(path)
        for table in tables:
            found[table] = (frame, InputFile(table, str(path), digest, len(frame) + len(ragged)))
            if len(ragged):
                found_ragged[table] = ragged
    return found, problems, sorted(ignored), hints


# --------------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------------
def _parse(table: str, frame: pd.DataFrame, mapping: Mapping) -> pd.DataFrame:
    """Typed contract columns, plus ``__raw_<col>`` text for columns whose parse can fail."""
    spec = TABLES[table]
    out = pd.DataFrame(index=frame.index)
    for col in spec.columns:
        if col.name not in frame.columns:
            continue
        raw = frame[col.name]
        if col.kind == "id" and pd.api.types.is_float_dtype(raw):  # a typed id column read as floats: 8.0 is the id 8
            whole = raw.notna() & np.isfinite(raw.to_numpy(dtype=float)) & (raw == raw.round())
            text = raw.astype("str")
            text[whole] = raw[whole].astype("int64").astype("str")
            out[col.name] = text_of(text.where(raw.notna()))
            continue
        if col.kind in {"id", "str"}:
            out[col.name] = text_of(raw)
            continue
        typed = (col.kind in {"date", "month"} and pd.api.types.is_datetime64_any_dtype(raw)) or (
            col.kind == "number" and pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw)
        )
        raw_text = None if typed else text_of(raw)
        if col.kind == "date":
            out[col.name] = parse_dates(raw, mapping.date_formats)
        elif col.kind == "month":
            months = parse_dates(raw, ("%Y-%m",)) if not typed else parse_dates(raw, ())
            if not typed:
                months = months.where(raw_text.str.fullmatch(r"\d{4}-\d{2}").fillna(False), parse_dates(raw, ("ISO8601",)))
            out[col.name] = months.dt.to_period("M").dt.to_timestamp()
        elif col.kind == "number":
            number = parse_numbers(raw, mapping.thousands)
            infinite = number.notna() & ~np.isfinite(number.to_numpy(dtype=float))  # "inf", 1e400: quarantined, never used
            out[col.name] = number.where(~infinite)
            if typed and infinite.any():  # a typed source has no raw text: keep the offending values to name them
                out[f"__raw_{col.name}"] = raw.astype("str").where(raw.notna())
        elif col.kind == "period":
            out[col.name] = raw_text.where(period_ok(raw_text))
        elif col.kind == "enum":
            low = raw_text.str.lower()
            out[col.name] = low.where(low.isin(col.values))
        # The text as given, to tell "empty" from "could not be read"; a typed column (Parquet, a database)
        # cannot fail to parse, so it needs none (and keeping none halves the memory of a large load).
        if not typed:
            out[f"__raw_{col.name}"] = raw_text
    return out


# --------------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------------
def _failures(table: str, parsed: pd.DataFrame, schema: pandera.DataFrameSchema) -> pd.DataFrame:
    """One row per (row, rule) that failed: ``index``, ``rule``, ``reason``, ``column``."""
    # pandera reports a check by its ``error`` text when it has one; error texts are unique per schema.
    rule_of = {c.error: c.name for c in schema.checks}
    assert len(rule_of) == len(schema.checks), f"{table}: two row rules share an error text"
    try:
        schema.validate(parsed, lazy=True)
        return pd.DataFrame(columns=["index", "rule", "reason", "column"])
    except pandera.errors.SchemaErrors as exc:
        fc = exc.failure_cases
    fc = fc[fc["index"].notna()][["index", "check"]].rename(columns={"check": "reason"})
    fc["index"] = fc["index"].astype("int64")
    fc["rule"] = fc["reason"].map(rule_of)
    unknown = fc["rule"].isna()
    if unknown.any():  # a schema-level failure that is not one of our row rules: a bug, say so loudly
        raise AssertionError(f"{table}: unexpected validation failure {fc.loc[unknown, 'reason'].iloc[0]!r}")
    fc["column"] = fc["rule"].map(RULE_COLUMN)
    return fc.drop_duplicates(["index", "rule"])


def _quarantine_rows(table: str, file: str, parsed: pd.DataFrame, fails: pd.DataFrame) -> pd.DataFrame:
    if fails.empty:
        return pd.DataFrame(columns=QUARANTINE_COLUMNS)
    rows = parsed.loc[fails["index"].to_numpy()]
    values = []
    for col, row_idx in zip(fails["column"].to_numpy(), fails["index"].to_numpy(), strict=True):
        raw = f"__raw_{col}"
        v = parsed.at[row_idx, raw] if raw in parsed.columns else parsed.at[row_idx, col] if col in parsed.columns else None
        values.append(
            "" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v.date()) if isinstance(v, pd.Timestamp) else str(v)
        )
    return pd.DataFrame(
        {
            "table": table,
            "file": file,
            "source_row": rows["__source_row"].to_numpy(),
            "column": fails["column"].to_numpy(),
            "value": values,
            "rule": fails["rule"].to_numpy(),
            "reason": fails["reason"].to_numpy(),
        }
    )


def _refs(tables: dict[str, pd.DataFrame]) -> dict[str, pd.Index]:
    refs: dict[str, pd.Index] = {}
    if "reps" in tables:
        refs["rep_id"] = pd.Index(tables["reps"]["rep_id"])
        if "team" in tables["reps"]:
            refs["team"] = pd.Index(tables["reps"]["team"].dropna().unique())
    if "opportunities" in tables:
        refs["opportunity_id"] = pd.Index(tables["opportunities"]["opportunity_id"])
    return refs


def _derive_reps(opportunities: pd.DataFrame) -> pd.DataFrame:
    owners = text_of(opportunities["owner_id"]).dropna().unique() if "owner_id" in opportunities else []
    return pd.DataFrame({"rep_id": pd.Series(sorted(owners), dtype="object")})


UNREADABLE_HINT = "its file cannot be read: see above"


def _table_problems(
    table: str, frame: pd.DataFrame | None, info: InputFile | None, mapping: Mapping, hint: str | None = None, ragged: int = 0
) -> list[Problem]:
    spec = TABLES[table]
    src = mapping.table(table).source
    if frame is None:
        if spec.required and hint != UNREADABLE_HINT:  # an unreadable file is one problem, said once
            names = ", ".join(f"{src}{s}" for s in (".csv", ".parquet"))
            why = f" ({hint})" if hint else ""
            return [
                Problem(
                    f"{src}.*",
                    f"required table '{table}' is missing{why}",
                    f"add {names} to the folder (or the table '{src}' to the database)",
                )
            ]
        return []
    problems = []
    missing = [c for c in spec.required_columns if c not in frame.columns]
    for col in missing:
        found = ", ".join([str(c) for c in frame.columns if not str(c).startswith("__")][:20]) or "none"
        problems.append(
            Problem(
                info.file,
                f"required column '{col}' of table '{table}' is missing (columns found: {found})",
                "add the column, or map your column to it with --mapping (see docs/data-contract.md)",
                col,
            )
        )
    if spec.required and len(frame) == 0 and ragged:
        problems.append(
            Problem(
                info.file,
                f"none of the {ragged:,} rows of table '{table}' has as many fields as the header",
                "check the separator and the header row (rows of the wrong length are quarantined, so nothing is left)",
            )
        )
    elif spec.required and len(frame) == 0:
        problems.append(Problem(info.file, f"table '{table}' has no rows", "export the table with its rows"))
    return problems


#: What a run's loaded data are saved as, for its notebooks to read instead of loading the source again.
LOADED_SUFFIX = ".loaded.pickle"
#: Beside it, what one notebook computed on past snapshots for another to read (:class:`Memo`).
MEMO_FOLDER = "memo"


def save_loaded(ds: Dataset, path: Path) -> Path:
    """Write loaded, checked data for the run's notebooks (:func:`load` reads it back): a private file of the run,
    removed when the run ends."""
    with open(path, "wb") as f:
        pickle.dump(ds, f, protocol=pickle.HIGHEST_PROTOCOL)
    return path


def _read_loaded(path: Path, as_of: pd.Timestamp, fiscal_year_start: int) -> Dataset:
    with open(path, "rb") as f:
        ds = pickle.load(f)  # noqa: S301 - written by this run (save_loaded), never a user's file
    if not isinstance(ds, Dataset) or ds.as_of_date != as_of or ds.fiscal_year_start != fiscal_year_start:
        raise ValueError(
            f"{path.name} holds data loaded as of {getattr(ds, 'as_of_date', '?')} (fiscal year from month "
            f"{getattr(ds, 'fiscal_year_start', '?')}), not as of {as_of.date()} from month {fiscal_year_start}"
        )
    object.__setattr__(ds, "_memo", Memo(path.parent / MEMO_FOLDER))  # shared by the run's notebooks
    return ds


def load(
    source: str | Path,
    mapping: str | Path | Mapping | None = None,
    as_of: str | pd.Timestamp | None = None,
    fiscal_year_start: int = 1,
) -> Dataset:
    """Load, map and validate a source. Raises :class:`DataError` listing every table-level problem.

    ``as_of`` is the date the extract was taken (default: today): values dated after it are quarantined.
    A file ending in ``.loaded.pickle`` is data a run already loaded and checked (:func:`save_loaded`): read as
    it is, without mapping or checks again, provided it was loaded at the same as-of date and fiscal year.
    """
    as_of_ts = pd.Timestamp.today().normalize() if as_of is None else pd.Timestamp(as_of).normalize()
    if str(source).endswith(LOADED_SUFFIX):
        return _read_loaded(Path(source), as_of_ts, fiscal_year_start)
    mapping = mapping if isinstance(mapping, Mapping) else load_mapping(mapping)
    ragged: dict[str, pd.DataFrame] = {}
    raw, problems, ignored, hints = _read_source(source, mapping, ragged)

    mapped: dict[str, tuple[pd.DataFrame, InputFile]] = {}
    for table in TABLE_ORDER:
        if table in raw:
            frame, info = raw[table]
            mapped[table] = (mapping.apply(table, frame), info)
    if "reps" not in mapped and mapping.table("reps").derive_from_owners and "opportunities" in mapped:
        reps = mapping.apply("reps", _derive_reps(mapped["opportunities"][0]))
        mapped["reps"] = (reps, InputFile("reps", "(derived from opportunities.owner_id)", None, len(reps)))
    for table in TABLE_ORDER:
        frame, info = mapped.get(table, (None, None))
        problems.extend(_table_problems(table, frame, info, mapping, hints.get(table), len(ragged.get(table, ()))))
    if problems:
        raise DataError(problems)

    tables: dict[str, pd.DataFrame] = {}
    quarantine: list[pd.DataFrame] = []
    accounting: list[dict] = []
    ignored_columns: dict[str, list[str]] = {}
    for table in TABLE_ORDER:
        if table not in mapped:
            continue
        frame, info = mapped[table]
        frame = frame.reset_index(drop=True)
        extra = [str(c) for c in frame.columns if not str(c).startswith("__") and c not in TABLES[table].column_names]
        if extra:
            ignored_columns[table] = extra
        parsed = _parse(table, frame, mapping)
        parsed["__source_row"] = frame["__source_row"].to_numpy() if "__source_row" in frame else np.arange(1, len(parsed) + 1)
        schema = row_schema(table, [c for c in parsed.columns if not c.startswith("__")], as_of_ts, _refs(tables))
        fails = _failures(table, parsed, schema)
        quarantine.append(_quarantine_rows(table, info.file, parsed, fails))
        bad = pd.Index(fails["index"].unique())
        used = parsed.drop(index=bad)
        used = used[[c for c in used.columns if not c.startswith("__")]].reset_index(drop=True)
        tables[table] = used
        short = ragged.get(table, pd.DataFrame(columns=["source_row", "fields", "text"]))
        if len(short):
            width = len(header(Path(info.file))[0])
            quarantine.append(
                pd.DataFrame(
                    {
                        "table": table,
                        "file": info.file,
                        "source_row": short["source_row"].to_numpy(),
                        "column": "",
                        "value": short["text"].to_numpy(),
                        "rule": f"{table}.{RAGGED}",
                        "reason": [f"row has {n} fields, the header has {width}" for n in short["fields"]],
                    }
                )
            )
        accounting.append(
            {
                "table": table,
                "file": info.file,
                "rows_in": len(parsed) + len(short),
                "rows_used": len(used),
                "rows_quarantined": len(bad) + len(short),
            }
        )
    tables = apply_defaults(tables)
    q = pd.concat([x for x in quarantine if len(x)] or [pd.DataFrame(columns=QUARANTINE_COLUMNS)], ignore_index=True)
    acc = pd.DataFrame(accounting, columns=ACCOUNTING_COLUMNS)
    if not (acc["rows_in"] == acc["rows_used"] + acc["rows_quarantined"]).all():  # pragma: no cover - invariant
        raise AssertionError(f"row accounting broken:\n{acc}")
    ds = Dataset(
        tables=tables,
        quarantine=q.astype({"source_row": "int64"}),
        accounting=acc,
        as_of_date=as_of_ts,
        source=describe_source(source),
        mapping=mapping.name,
        fiscal_year_start=fiscal_year_start,
        inputs=[mapped[t][1] for t in TABLE_ORDER if t in mapped],
        ignored=ignored,
        ignored_columns=ignored_columns,
    )
    ds.timeline  # noqa: B018 - arranged once here, kept with the data: every snapshot and the stage metrics read it
    return ds


# --------------------------------------------------------------------------------------------------
# Defaults for optional columns (documented in docs/data-contract.md)
# --------------------------------------------------------------------------------------------------
def _fill(frame: pd.DataFrame, col: str, value) -> None:
    if col not in frame.columns:
        frame[col] = value
    elif value is not None:
        frame[col] = frame[col].fillna(value)


def derive_deal_type(opps: pd.DataFrame) -> pd.Series:
    """``new`` for an account's first won deal and for deals of accounts with no win before they were
    created; ``expansion`` otherwise. Uses only each deal's own past, so snapshots do not change it."""
    acct = opps["account_id"].fillna(opps["opportunity_id"])
    won = opps["status"].eq("won")
    order = pd.DataFrame({"acct": acct[won], "close": opps.loc[won, "close_date"], "id": opps.loc[won, "opportunity_id"]})
    order = order.sort_values(["acct", "close", "id"])
    first = ~order["acct"].duplicated()
    out = pd.Series("expansion", index=opps.index, dtype="object")
    out[order.index[first.to_numpy()]] = "new"
    first_win = order[first.to_numpy()].set_index("acct")["close"]
    not_won = ~won
    prior = pd.Series(first_win.reindex(acct[not_won].to_numpy()).to_numpy(), index=acct[not_won].index)
    out[not_won] = np.where(prior.notna() & (prior < opps.loc[not_won, "created_date"]), "expansion", "new")
    return out


def apply_defaults(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Give every optional column its documented default; the tables come back with every contract column."""
    out = dict(tables)  # the frames are the loader's own: filled in place
    reps = out.get("reps")
    if reps is not None:
        _fill(reps, "name", None)
        reps["name"] = reps["name"].fillna(reps["rep_id"]) if "name" in reps else reps["rep_id"]
        _fill(reps, "team", "unassigned")
        _fill(reps, "region", "unknown")
        _fill(reps, "hire_date", pd.NaT)
        _fill(reps, "end_date", pd.NaT)
        _fill(reps, "manager_id", None)
        _fill(reps, "role", "rep")
        _fill(reps, "fte", 1.0)
    opps = out.get("opportunities")
    if opps is not None:
        opps["account_id"] = opps["account_id"].fillna(opps["opportunity_id"]) if "account_id" in opps else opps["opportunity_id"]
        _fill(opps, "segment", "all")
        _fill(opps, "lead_source", "unknown")
        _fill(opps, "product", "unknown")
        if "stage" not in opps:
            opps["stage"] = opps["status"].str.capitalize()
        else:
            opps["stage"] = opps["stage"].fillna(opps["status"].str.capitalize())
        _fill(opps, "expected_close_date", pd.NaT)
        _fill(opps, "probability", np.nan)
        if opps["probability"].max(skipna=True) > 1:
            opps["probability"] = opps["probability"] / 100.0
        _fill(opps, "margin", np.nan)
        owner_region = opps["owner_id"].map(reps.set_index("rep_id")["region"]) if reps is not None else "unknown"
        if "region" not in opps:
            opps["region"] = owner_region
        else:
            opps["region"] = opps["region"].fillna(owner_region)
        derived = derive_deal_type(opps)
        opps["type"] = derived if "type" not in opps else opps["type"].fillna(derived)
    for name, frame in out.items():
        if name in {"spend"}:
            _fill(frame, "channel", "all")
        if name == "leads":
            _fill(frame, "source", "unknown")
        if name == "targets":
            _fill(frame, "team", None)
            _fill(frame, "quota_type", "bookings")
    for name, frame in out.items():
        out[name] = _typed(name, frame)
    return out


_DTYPES = {
    "id": "str",
    "str": "str",
    "enum": "str",
    "period": "str",
    "date": "datetime64[us]",
    "month": "datetime64[us]",
    "number": "float64",
}


def _typed(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Contract columns first, in contract order, each with its contract dtype."""
    cols = TABLES[name].column_names
    frame = frame[cols + [c for c in frame.columns if c not in cols]]
    return frame.astype({c.name: _DTYPES[c.kind] for c in TABLES[name].columns})


def empty_table(name: str) -> pd.DataFrame:
    """A zero-row table with the contract's columns and types (for optional tables that are absent)."""
    return pd.DataFrame({c.name: pd.Series(dtype=_DTYPES[c.kind]) for c in TABLES[name].columns})


# --------------------------------------------------------------------------------------------------
# The dataset and its as-of snapshots
# --------------------------------------------------------------------------------------------------
class Memo(dict):
    """Results computed on snapshots of a dataset, by key. With a ``folder`` (a run's private folder) each result is
    also written there, so the run's other notebooks read it instead of computing it again."""

    def __init__(self, folder: Path | None = None) -> None:
        super().__init__()
        self.folder = folder

    def _file(self, key) -> Path:
        return self.folder / f"{hashlib.sha1(repr(key).encode()).hexdigest()}.pickle"

    def __contains__(self, key) -> bool:
        return super().__contains__(key) or (self.folder is not None and self._file(key).exists())

    def __getitem__(self, key):
        if not super().__contains__(key) and self.folder is not None and self._file(key).exists():
            with open(self._file(key), "rb") as f:
                super().__setitem__(key, pickle.load(f))  # noqa: S301 - written by this run, in its own folder
        return super().__getitem__(key)

    def __setitem__(self, key, value) -> None:
        super().__setitem__(key, value)
        if self.folder is not None:
            self.folder.mkdir(exist_ok=True)
            part = self._file(key).with_suffix(f".{os.getpid()}-{threading.get_ident()}.part")  # per process and thread
            with open(part, "wb") as f:
                pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
            part.replace(self._file(key))  # whole or absent, never half-written

    def __reduce__(self):
        return (Memo, ())  # saved data carry no results: a run starts afresh


@dataclass(frozen=True)
class Dataset:
    """Validated tables plus what was quarantined, the row accounting and where it came from.

    Every table of the contract is available as an attribute (absent optional tables are empty frames
    with the contract's columns); ``has(name)`` says whether the source held it.
    """

    tables: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame
    accounting: pd.DataFrame
    as_of_date: pd.Timestamp
    source: str = ""
    mapping: str = "identity"
    fiscal_year_start: int = 1
    inputs: list[InputFile] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    ignored_columns: dict[str, list[str]] = field(default_factory=dict)
    #: Results computed on snapshots of these data, shared by every snapshot of them (:attr:`memo`).
    _memo: Memo = field(default_factory=lambda: Memo(), init=False, repr=False, compare=False)
    #: The data a snapshot was taken from (None for the data themselves), and what snapshots need of them.
    _root: Dataset | None = field(default=None, init=False, repr=False, compare=False)
    _timeline: Timeline | None = field(default=None, init=False, repr=False, compare=False)

    def __getattr__(self, name: str) -> pd.DataFrame:
        if name in TABLES:
            tables = object.__getattribute__(self, "tables")
            return tables[name] if name in tables else empty_table(name)
        raise AttributeError(name)

    def has(self, name: str) -> bool:
        return name in self.tables and len(self.tables[name]) > 0

    def as_of(self, date: str | pd.Timestamp) -> Dataset:
        """The data as it stood at the end of ``date``: nothing dated later is visible.

        Opportunities created later are removed; deals closed later are open again (close date cleared,
        stage rebuilt from ``stage_history`` where present, else ``unknown``; their rep-entered probability
        and expected close date cleared as they may have been edited since); stage history, leads,
        activities and spend are cut (spend keeps complete months only); reps hired later are removed
        and later leavers are active; quotas, goals and targets are kept up to the quarter after ``date``.
        """
        d = pd.Timestamp(date).normalize()
        if d > self.as_of_date:
            raise ValueError(f"cannot take a snapshot at {d.date()}: the data only runs to {self.as_of_date.date()}")
        root = self._root or self  # a snapshot of a snapshot is the snapshot of the data (tests/test_sharing.py)
        timeline = root.timeline
        t = dict(root.tables)
        kept = timeline.created <= np.datetime64(d, "us")
        opps = t["opportunities"][kept].copy()
        later = opps["close_date"] > d
        opps.loc[later, "status"] = "open"
        opps.loc[later, "close_date"] = pd.NaT
        opps.loc[later, "probability"] = np.nan
        opps.loc[later, "expected_close_date"] = pd.NaT
        opps.loc[later, "stage"] = "unknown"
        if "stage_history" in t:
            seen, last = timeline.stages_at(d)
            t["stage_history"] = t["stage_history"][seen]
            has_hist = timeline.has_history[kept]
            code = last[kept][has_hist]
            opps.loc[has_hist, "stage"] = np.append(timeline.names, "unknown")[code]  # code -1: none yet
        t["opportunities"] = opps
        reps = t["reps"]
        reps = reps[~(reps["hire_date"] > d)].copy()
        reps.loc[reps["end_date"] > d, "end_date"] = pd.NaT
        t["reps"] = reps
        # Leads and activities are cut when first read: the forecast's many snapshots never read them.
        if "leads" in t:
            t["leads"] = partial(leads_at, t["leads"], timeline, d)
        if "activities" in t:
            t["activities"] = partial(rows_until, t["activities"], "date", d)
        if "spend" in t:
            month_end = t["spend"]["month"] + pd.offsets.MonthEnd(0)
            t["spend"] = t["spend"][month_end <= d]
        last_period = next_period(d, self.fiscal_year_start)
        last_start = period_bounds(last_period, self.fiscal_year_start)[0]
        for name in ("quotas", "goals", "targets"):
            if name in t:
                labels = t[name]["period"]
                starts = labels.map({p: period_bounds(p, self.fiscal_year_start)[0] for p in labels.dropna().unique()})
                t[name] = t[name][starts <= last_start]
        ready = {k: v.reset_index(drop=True) if isinstance(v, pd.DataFrame) else v for k, v in t.items()}
        snapshot = replace(self, tables=Tables(ready), as_of_date=d)
        object.__setattr__(snapshot, "_memo", self._memo)  # what snapshots compute is shared by all of them
        object.__setattr__(snapshot, "_root", root)
        return snapshot

    @property
    def timeline(self) -> Timeline:
        """Dates, stage history and leads by deal, arranged once for every snapshot and the stage metrics
        (:mod:`analysis.snapshots`); a snapshot's own is made when first asked for."""
        if self._timeline is None:
            object.__setattr__(self, "_timeline", Timeline.of(self.tables))
        return self._timeline

    @property
    def memo(self) -> Memo:
        """A cache shared by these data and all their snapshots, for results that depend only on the data as they
        stood at a date (e.g. a model's view of a past quarter, the same whichever later snapshot asks)."""
        return self._memo

    def quarantine_summary(self) -> pd.DataFrame:
        """Quarantined rows by table and reason: ``table``, ``reason``, ``rows``."""
        q = self.quarantine
        if q.empty:
            return pd.DataFrame(columns=["table", "reason", "rows"])
        return q.groupby(["table", "reason"]).size().rename("rows").reset_index().sort_values(["table", "rows"], ascending=[True, False])

    def summary(self) -> pd.DataFrame:
        """Per table: ``table``, ``file``, ``rows_in``, ``rows_used``, ``rows_quarantined``, ``first_date``, ``last_date``."""
        date_cols = {
            "opportunities": ["created_date", "close_date"],
            "reps": ["hire_date", "end_date"],
            "stage_history": ["entered_date"],
            "spend": ["month"],
            "leads": ["created_date"],
            "activities": ["date"],
        }
        first, last = [], []
        for table in self.accounting["table"]:
            frame = self.tables[table]
            cols = [c for c in date_cols.get(table, []) if c in frame]
            if cols and len(frame):
                vals = pd.concat([frame[c] for c in cols]).dropna()
                first.append(vals.min().date() if len(vals) else None)
                last.append(vals.max().date() if len(vals) else None)
            elif table in {"quotas", "goals", "targets"} and len(frame):
                periods = sorted(frame["period"].unique())
                first.append(periods[0])
                last.append(periods[-1])
            else:
                first.append(None)
                last.append(None)
        return self.accounting.assign(first_date=first, last_date=last)

    def targets_for(self, period: str, quota_type: str = "bookings") -> tuple[float | None, pd.Series]:
        """Leadership's targets for ``period`` in the unit of ``quota_type``: the company target (None when there
        is none) and the team targets (a Series by team, possibly empty)."""
        t = self.targets
        t = t[(t["period"] == period) & (t["quota_type"] == quota_type)]
        company = t.loc[t["team"].isna(), "target"]
        teams = t[t["team"].notna()].set_index("team")["target"].rename("target")
        return (float(company.iloc[0]) if len(company) else None), teams

    def active_reps(self, on: str | pd.Timestamp | None = None) -> pd.DataFrame:
        """Reps employed on ``on`` (default: the as-of date): hired on or before it and not yet left."""
        d = self.as_of_date if on is None else pd.Timestamp(on)
        reps = self.reps
        return reps[~(reps["hire_date"] > d) & ~(reps["end_date"] <= d)].reset_index(drop=True)

    def period_of(self, dates: pd.Series) -> pd.Series:
        return period_of(dates, self.fiscal_year_start)
