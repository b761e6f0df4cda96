"""The ``quotacast`` command (also ``python -m analysis``): thin — parses, calls the package, prints.

Exit codes: 0 success, 2 the data (or a mapping / setting) cannot be used, 1 anything else.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from analysis import __version__, demo, preflight, sections
from analysis.config import Settings
from analysis.data import DataError, Problem, describe_source, load
from analysis.mapping import PRESETS, MappingError
from analysis.preflight import settings_with
from analysis.report import RunError, run, schedule_lines
from analysis.suggest import suggest


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return int(text)


def _data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, help="folder of CSV/Parquet files, or an SQLAlchemy URL (password from QUOTACAST_DB_PASSWORD)")
    p.add_argument("--mapping", default=None, help=f"column mapping: {' | '.join(PRESETS)} | PATH.yaml (default: the contract's own names)")
    p.add_argument("--as-of", default=None, help="date the extract was taken, YYYY-MM-DD (default: today); later dates are quarantined")
    p.add_argument(
        "--fiscal-year-start", type=int, default=None, help="first month of the fiscal year, 1-12 (default 1, or the config file's)"
    )


def _settings_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--period", default="next", help="fiscal quarter to plan, e.g. 2026Q1, or 'next' (the quarter after the as-of date)")
    p.add_argument("--config", type=Path, default=None, help="YAML settings file (see analysis.config.Settings)")
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a setting, e.g. draws=500 (see analysis.config.Settings)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="quotacast", description="Sales metrics, bookings forecasts and realistic quotas from a CRM extract."
    )
    parser.add_argument("--version", action="version", version=f"quotacast {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    v = sub.add_parser("validate", help="load and validate a data source and the run's settings; print a summary per table")
    _data_args(v)
    _settings_args(v)
    v.add_argument("--out", type=Path, default=None, help="folder to write quarantine.csv and accounting.csv into")

    d = sub.add_parser("demo-data", help="write a seeded synthetic company in the data contract's format")
    d.add_argument("folder", type=Path, help="folder to write the tables into")
    d.add_argument("--seed", type=int, default=7)
    d.add_argument("--reps", type=int, default=40, help="approximate headcount (default 40)")
    d.add_argument("--years", type=float, default=3.0, help="years of history (default 3)")
    d.add_argument("--as-of", default=None, help="last day of the data, YYYY-MM-DD (default: today)")
    d.add_argument("--fiscal-year-start", type=int, default=1)
    d.add_argument("--dirty", action="store_true", help="append a known number of bad rows of each kind")
    d.add_argument("--format", choices=["csv", "parquet"], default="csv")
    d.add_argument("--no-activities", action="store_true", help="leave out the activities table")
    r = sub.add_parser("run", help="the quarterly job: validate, run the scheduled notebooks, render the reports, write the tables")
    _data_args(r)
    _settings_args(r)
    r.add_argument("--out", type=Path, default=Path("reports"), help="reports folder (default: reports)")
    r.add_argument(
        "--jobs", type=_positive, default=None, help="notebooks run side by side where they can (default: one per core, at most 3)"
    )
    noise = r.add_mutually_exclusive_group()
    noise.add_argument("--quiet", action="store_true", help="print only where the finished run is (and errors)")
    noise.add_argument("--verbose", action="store_true", help="also stream each notebook's own output")

    m = sub.add_parser("mapping", help="mappings from a CRM's export to the data contract")
    msub = m.add_subparsers(dest="mapping_command", required=True)
    ms = msub.add_parser("suggest", help="read a folder's headers and sample values and write a draft mapping YAML, every guess commented")
    ms.add_argument("folder", type=Path, help="folder of CSV/Parquet exports")
    ms.add_argument("--out", type=Path, default=None, help="file to write the draft to (default: print it)")

    s = sub.add_parser("schedule", help="print a crontab line and a systemd timer that run next quarter's plan before each quarter")
    s.add_argument("--data", required=True, help="data source the scheduled run reads")
    s.add_argument("--out", default="reports")
    s.add_argument("--mapping", default=None)
    s.add_argument("--day", type=int, default=20, help="day of the quarter's last month to run on (default 20)")
    s.add_argument("--hour", type=int, default=6)
    s.add_argument("--fiscal-year-start", type=int, default=1)
    s.add_argument("--log", default=None, help="log file (default: OUT/quotacast.log)")
    return parser


def _value(text: str):
    import yaml

    return yaml.safe_load(text)


def run_settings(args: argparse.Namespace):
    """Settings for ``quotacast run`` and ``validate``: defaults, then the config file, then options given on the
    command line (``--fiscal-year-start``, then every ``--param``), each checked (a bad one: :class:`DataError`)."""

    given = {} if args.fiscal_year_start is None else {"fiscal_year_start": args.fiscal_year_start}
    try:
        settings = Settings.from_file(args.config, **given) if args.config else Settings(**given)
    except ValueError as exc:
        raise DataError(
            Problem(f"--config {args.config}" if args.config else "--fiscal-year-start", str(exc), "see analysis.config.Settings"),
            "The settings cannot be used",
        ) from None
    overrides = {}
    for item in getattr(args, "param", []):
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise DataError(Problem(f"--param {item!r}", "expected NAME=VALUE", "e.g. --param draws=500"), "The settings cannot be used")
        overrides[name.strip()] = _value(value)
    return settings_with(settings, overrides)


def cmd_run(args: argparse.Namespace) -> int:

    log = print
    if args.quiet:

        def log(line: str) -> None:
            if line.startswith("complete in"):
                print(line)

    run(
        args.data,
        period=args.period,
        as_of=args.as_of,
        out=args.out,
        mapping=args.mapping,
        settings=run_settings(args),
        log=log,
        verbose=args.verbose,
        jobs=args.jobs,
    )
    return 0


def cmd_schedule(args: argparse.Namespace) -> int:

    lines = schedule_lines(args.data, args.out, args.day, args.hour, args.fiscal_year_start, args.mapping, args.log)
    print("# crontab (crontab -e):")
    print(lines["crontab"])
    print()
    print("# systemd: ~/.config/systemd/user/quotacast.service")
    print(lines["service"])
    print("# systemd: ~/.config/systemd/user/quotacast.timer  (then: systemctl --user enable --now quotacast.timer)")
    print(lines["timer"])
    return 0


def _print_frame(frame: pd.DataFrame) -> None:
    print(frame.to_string(index=False) if len(frame) else "  (none)")


def cmd_validate(args: argparse.Namespace) -> int:

    settings = run_settings(args)
    as_of = preflight.parse_as_of(args.as_of)
    period = preflight.run_period(args.period, as_of, settings.fiscal_year_start)
    ds = load(args.data, mapping=args.mapping, as_of=as_of, fiscal_year_start=settings.fiscal_year_start)
    print(f"Source: {describe_source(args.data)}  (mapping: {ds.mapping}, as of {ds.as_of_date.date()}, planning {period})\n")
    print("Tables:")
    _print_frame(ds.summary().drop(columns=["file"]))
    print("\nQuarantined rows by reason:")
    _print_frame(ds.quarantine_summary())
    if ds.ignored:
        print(f"\nIgnored files (not part of the contract): {', '.join(ds.ignored)}")
    for table, columns in ds.ignored_columns.items():
        print(f"Ignored columns of {table} (not in the contract; map them with --mapping to use them): {', '.join(columns)}")
    absent = [t for t in ("stage_history", "spend", "leads", "quotas", "goals", "targets", "activities") if t not in ds.tables]
    if absent:
        print(f"Optional tables not present: {', '.join(absent)}")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        ds.quarantine.to_csv(args.out / "quarantine.csv", index=False)
        ds.summary().to_csv(args.out / "accounting.csv", index=False)
        print(f"\nWrote {args.out / 'quarantine.csv'} and {args.out / 'accounting.csv'}")
    total = ds.accounting[["rows_in", "rows_used", "rows_quarantined"]].sum()
    preflight.check(ds, settings, period)  # what the run needs: refused here, never half-way through a run
    gaps = sections.missing(sections.facts(ds, period, settings.quota_type, settings.backtest_quarters, settings.policy_backtest_quarters))
    shown = len(sections.SECTIONS) - len(gaps)
    print(f"\nReport sections: {shown} of {len(sections.SECTIONS)} will be shown." + (" The others will say why:" if gaps else ""))
    for key, why in gaps.items():
        print(f"  - {sections.BY_KEY[key].title} ({sections.BY_KEY[key].page}): {why}")
    print(
        f"\nOK: {total.rows_used:,} of {total.rows_in:,} rows usable, {total.rows_quarantined:,} quarantined; "
        f"`quotacast run` with these settings will complete."
    )
    return 0


def cmd_mapping(args: argparse.Namespace) -> int:

    if not args.folder.is_dir():
        raise DataError(Problem(str(args.folder), "no such folder", "give the folder that holds the CRM's exports"))
    draft = suggest(args.folder)
    if args.out:
        args.out.write_text(draft)
        print(f"Wrote a draft mapping to {args.out}: check each guess, then quotacast validate --data {args.folder} --mapping {args.out}")
    else:
        print(draft, end="")
    return 0


def cmd_demo_data(args: argparse.Namespace) -> int:

    as_of = pd.Timestamp(args.as_of) if args.as_of else pd.Timestamp.today().normalize()
    tables = demo.generate(
        seed=args.seed,
        reps=args.reps,
        years=args.years,
        as_of=as_of,
        fiscal_year_start=args.fiscal_year_start,
        dirty=args.dirty,
        activities=not args.no_activities,
    )
    meta = {
        "generator": f"quotacast {__version__} demo-data",
        "seed": args.seed,
        "reps": args.reps,
        "years": args.years,
        "as_of": str(as_of.date()),
        "fiscal_year_start": args.fiscal_year_start,
        "dirty": args.dirty,
        "dirty_rows": demo.DIRTY_ROWS if args.dirty else {},
    }
    paths = demo.write(tables, args.folder, fmt=args.format, meta=meta)
    for path in paths:
        print(f"  {path}  ({len(tables[path.name.split('.')[0]]):,} rows)")
    print(f"Wrote a demo company as of {as_of.date()} to {args.folder}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "validate":
            return cmd_validate(args)
        if args.command == "demo-data":
            return cmd_demo_data(args)
        if args.command == "run":
            return cmd_run(args)
        if args.command == "schedule":
            return cmd_schedule(args)
        if args.command == "mapping":
            return cmd_mapping(args)
    except (DataError, MappingError) as exc:
        print(f"quotacast {args.command}: {exc}", file=sys.stderr)
        return 2
    except RunError as exc:
        print(f"quotacast {args.command}: {exc}", file=sys.stderr)
        return exc.exit_code
    except ValueError as exc:
        print(f"quotacast {args.command}: {exc}", file=sys.stderr)
        return 2
    return 1  # pragma: no cover - argparse enforces a known command


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
