"""A first mapping for a folder of CRM exports: ``quotacast mapping suggest DIR``.

It reads each file's header and a sample of its values, recognises the names CRMs use (the presets' vocabularies
and more), guesses which file holds the deals and which the reps, how status is written, the date layout, whether
the file is a stage-change log or order lines, and writes a draft mapping YAML in which every guess carries a
comment saying what it rests on, and every column left out is listed. Review it, then ``quotacast validate`` it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.data import SUFFIXES
from analysis.parsing import ISO_DATE, parse_numbers, text_of

SAMPLE_ROWS = 2000

#: Column names CRMs use for each contract column, normalised (lower case, letters and digits only), best first.
SYNONYMS: dict[str, dict[str, list[str]]] = {
    "opportunities": {
        "opportunity_id": ["opportunityid", "opportunity", "dealid", "recordid", "oppid", "leadname", "orderid", "mqlid", "id"],
        "owner_id": [
            "ownerid",
            "opportunityowner",
            "dealowner",
            "owner",
            "salesagent",
            "salesperson",
            "salesrep",
            "accountexecutive",
            "srid",
            "rep",
            "repid",
            "ownername",
            "region",
        ],
        "created_date": [
            "createddate",
            "createdate",
            "createdon",
            "created",
            "creationdate",
            "engagedate",
            "firstcontactdate",
            "orderdate",
            "opendate",
            "date",
        ],
        "close_date": ["closedate", "closeddate", "closingdate", "wondate", "dateclosed"],
        "status": ["status", "outcome", "result", "iswon", "won"],
        "stage": ["stage", "dealstage", "opportunitystage", "salesstage", "pipelinestage", "stagename"],
        "amount": [
            "amount",
            "closevalue",
            "dealvalue",
            "value",
            "dealamount",
            "revenue",
            "sales",
            "forecastedmonthlyrevenue",
            "totalcontractvalue",
            "acv",
            "arr",
        ],
        "account_id": ["accountid", "accountname", "account", "company", "associatedcompany", "customerid", "customer"],
        "segment": ["segment", "pipeline", "businesssegment", "marketsegment"],
        "lead_source": ["leadsource", "source", "origin", "originalsourcetype", "channel"],
        "type": ["type", "dealtype", "opportunitytype"],
        "product": ["product", "productname", "category"],
        "region": ["region", "territory"],
        "probability": ["probability", "probabilitypct", "dealprobability", "winprobability"],
        "expected_close_date": ["expectedclosedate", "targetclose", "forecastclosedate"],
        "margin": ["margin", "grossmargin", "profit"],
    },
    "reps": {
        "rep_id": ["repid", "salesagent", "salesperson", "fullname", "user", "username", "owner", "ownername", "name", "srid", "rep"],
        "team": ["team", "salesteam", "manager", "managername"],
        "region": ["region", "regionaloffice", "office", "territory"],
        "hire_date": ["hiredate", "startdate", "hired"],
        "end_date": ["enddate", "terminationdate", "leftdate"],
        "role": ["role", "title", "jobtitle"],
    },
}
REQUIRED = {"opportunities": ["opportunity_id", "owner_id", "created_date", "close_date", "status", "amount"], "reps": ["rep_id"]}


def norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


@dataclass
class Sample:
    """One file: its stem (the mapping's ``source``), columns and a sample of its rows as text."""

    stem: str
    name: str
    columns: list[str]
    rows: pd.DataFrame

    def values(self, column: str) -> pd.Series:
        return text_of(self.rows[column]).dropna()


@dataclass
class Draft:
    """A mapping being written: YAML lines and a comment for each guess."""

    lines: list[str] = field(default_factory=list)

    def add(self, text: str, why: str = "", indent: int = 0) -> None:
        pad = " " * indent
        self.lines.append(f"{pad}{text}" + (f"  # {why}" if why else ""))

    def note(self, text: str, indent: int = 0) -> None:
        self.lines.append(f"{' ' * indent}# {text}")


def scan(folder: Path) -> list[Sample]:
    out = []
    for path in sorted(Path(folder).iterdir()):
        suffix = next((s for s in SUFFIXES if path.name.endswith(s)), None)
        if suffix is None or not path.is_file():
            continue
        if suffix in {".parquet", ".pq"}:
            rows = pd.read_parquet(path).head(SAMPLE_ROWS).astype("str")
        else:
            rows = pd.read_csv(path, dtype=str, nrows=SAMPLE_ROWS, keep_default_na=False, na_values=[""], encoding="utf-8-sig")
        out.append(Sample(path.name[: -len(suffix)], path.name, [str(c) for c in rows.columns], rows))
    return out


def match(columns: list[str], table: str) -> dict[str, str]:
    """Contract column → the file's column, each file column used once, best synonym first."""
    by_norm = {norm(c): c for c in columns}
    out, used = {}, set()
    for contract, names in SYNONYMS[table].items():
        if contract in by_norm and by_norm[contract] not in used:  # the contract's own name first
            out[contract] = by_norm[contract]
            used.add(by_norm[contract])
            continue
        for n in names:
            if n in by_norm and by_norm[n] not in used:
                out[contract] = by_norm[n]
                used.add(by_norm[n])
                break
    return out


def date_format(values: pd.Series) -> tuple[list[str], str]:
    """The date layout of a sample: ISO, or day/month or month/day with a four-digit year, and why."""
    v = values.head(500)
    if v.empty:
        return ["ISO8601"], "no dates in the sample: ISO assumed"
    if v.str.match(ISO_DATE).mean() > 0.9:
        return ["ISO8601"], "dates like " + v.iloc[0]
    parts = v.str.extract(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
    if parts.notna().all(axis=1).mean() > 0.9:
        first, second = parts[0].astype(float), parts[1].astype(float)
        sep = re.search(r"[/.-]", v.iloc[0]).group(0)
        if (first > 12).any():
            return [f"%d{sep}%m{sep}%Y", "ISO8601"], f"dates like {v.iloc[0]}: the first part exceeds 12, so day first"
        if (second > 12).any():
            return [f"%m{sep}%d{sep}%Y", "ISO8601"], f"dates like {v.iloc[0]}: the second part exceeds 12, so month first"
        return [f"%m{sep}%d{sep}%Y", "ISO8601"], f"dates like {v.iloc[0]}: day and month cannot be told apart; month first (US) assumed"
    return ["ISO8601"], f"dates like {v.iloc[0]} are not a layout recognised: check date_formats"


def _score(sample: Sample, table: str) -> int:
    m = match(sample.columns, table)
    return sum(c in m for c in REQUIRED[table]) * 10 + len(m)


def _status_values(values: pd.Series) -> tuple[dict[str, str], str]:
    seen = sorted(values.unique())[:30]
    mapping = {}
    for v in seen:
        low = v.lower()
        if re.search(r"\bwon\b|closed ?won|^win$", low) or low in {"true", "yes", "1"}:
            mapping[v] = "won"
        elif re.search(r"\blost\b|closed ?lost|^loss$", low) or low in {"false", "no", "0"}:
            mapping[v] = "lost"
    mapping["*"] = "open"
    return mapping, "values seen: " + ", ".join(seen[:12]) + ("…" if len(seen) > 12 else "")


def _yaml(value: str) -> str:
    return (
        value if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_ ()%-]*", value) and value.strip() == value else '"' + value.replace('"', '\\"') + '"'
    )


def suggest(folder: str | Path) -> str:
    """A draft mapping YAML for the exports in ``folder``, every guess commented."""
    folder = Path(folder)
    samples = scan(folder)
    d = Draft()
    d.note(f"Draft mapping suggested by `quotacast mapping suggest` for {folder.name}/. Every guess says what it rests on:")
    d.note("check them, then run `quotacast validate --data DIR --mapping THIS_FILE`. See docs/data-contract.md, Mappings.")
    if not samples:
        d.note("no CSV or Parquet file found: nothing to suggest")
        return "\n".join(d.lines) + "\n"
    deals = max(samples, key=lambda s: _score(s, "opportunities"))
    cols = match(deals.columns, "opportunities")
    others = [s for s in samples if s is not deals]
    reps = max(others, key=lambda s: _score(s, "reps")) if others else None
    if reps is not None and "rep_id" not in match(reps.columns, "reps"):
        reps = None
    dates = [deals.values(cols[c]) for c in ("created_date", "close_date") if c in cols]
    formats, why_dates = date_format(pd.concat(dates) if dates else pd.Series(dtype="object"))
    d.add(f"name: {_yaml(folder.name)}-draft")
    d.add("date_formats: [" + ", ".join(f'"{f}"' if f != "ISO8601" else f for f in formats) + "]", why_dates)
    amount = deals.values(cols["amount"]) if "amount" in cols else pd.Series(dtype="object")
    if amount.str.contains(r"\d,\d{3}").any():
        d.add('thousands: ","', f"amounts like {amount[amount.str.contains(r',')].iloc[0]}")
    d.add("tables:")
    d.add("opportunities:", indent=2)
    d.add(f"source: {_yaml(deals.stem)}", f"{deals.name}: the file with the most deal columns", indent=4)
    deal_ids = deals.values(cols["opportunity_id"]) if "opportunity_id" in cols else pd.Series(dtype="object")
    repeated = len(deal_ids) > 0 and deal_ids.duplicated().mean() > 0.05
    renamed: dict[str, str] = {}
    if repeated and "stage" in cols and "created_date" in cols:
        d.add(
            f"from_events: {{deal: {_yaml(cols['opportunity_id'])}, stage: {_yaml(cols['stage'])}, date: {_yaml(cols['created_date'])}"
            + (f", amount: {_yaml(cols['amount'])}" if "amount" in cols else "")
            + "}",
            f"{cols['opportunity_id']} repeats ({deal_ids.duplicated().mean():.0%} of the sample): a stage-change log, one row per event",
            indent=4,
        )
        stages = sorted(deals.values(cols["stage"]).unique())
        d.note("won / lost stages default to Closed Won / Won and Closed Lost / Lost; stages seen: " + ", ".join(stages[:15]), indent=4)
        for c in ("opportunity_id", "stage", "created_date", "close_date", "amount"):
            cols.pop(c, None)
        cols.pop("status", None)
        status_done = True
    else:
        status_done = False
        if repeated:
            d.add(
                f"group_by: {{key: {_yaml(cols['opportunity_id'])}"
                + (f", aggregate: {{{_yaml(cols['amount'])}: sum}}" if "amount" in cols else "")
                + "}",
                f"{cols['opportunity_id']} repeats ({deal_ids.duplicated().mean():.0%} of the sample): line items, one deal per "
                "value, the amount summed",
                indent=4,
            )
    renamed = {src: contract for contract, src in cols.items() if src != contract and contract != "status"}
    if "status" in cols and cols["status"] != "status":
        renamed[cols["status"]] = "status"
    if renamed:
        d.add("rename:", indent=4)
        for src, contract in renamed.items():
            d.add(f"{_yaml(src)}: {contract}", f"'{src}' read as {contract}", indent=6)
    copies, values, constants = [], [], []
    if not status_done:
        source = cols.get("status") or cols.get("stage")
        if source:
            mapping, why = _status_values(deals.values(source))
            if source == cols.get("stage"):
                copies.append(("status", "stage", f"the status is read from the stage ({why})"))
            values.append(("status", mapping, why))
        elif "close_date" in cols and norm(cols["close_date"]) == "wondate":
            constants.append(("status", "won", f"no status or stage column; '{cols['close_date']}' suggests every row is a won deal"))
        else:
            d.note(
                "TODO status: no status or stage column was recognised; map one (open / won / lost), or set constants: {status: won}",
                indent=4,
            )
            constants.append(("status", None, ""))  # said: no second TODO for it
    if copies:
        d.add("copy: {" + ", ".join(f"{new}: {old}" for new, old, _ in copies) + "}", copies[0][2], indent=4)
    if values:
        d.add("values:", indent=4)
        for col, mapping, _ in values:
            d.add(
                f"{col}: {{" + ", ".join(f"{_yaml(k) if k != '*' else chr(34) + '*' + chr(34)}: {v}" for k, v in mapping.items()) + "}",
                "won / lost recognised by name; any other value open",
                indent=6,
            )
    constants = [c for c in constants if c[1] is not None] if any(c[1] is not None for c in constants) else constants
    if constants and constants[0][1] is not None:
        d.add("constants: {" + ", ".join(f"{c}: {v}" for c, v, _ in constants) + "}", constants[0][2], indent=4)
    if not status_done and "amount" in cols and (cols.get("status") or cols.get("stage")):
        state = deals.values(cols.get("status") or cols["stage"]).str.lower()
        lost = state.reindex(deals.rows.index).str.contains("lost").fillna(False).astype(bool)
        lost_amounts = text_of(deals.rows[cols["amount"]])[lost].dropna()
        numbers = parse_numbers(lost_amounts, None)
        if len(lost_amounts) and numbers.notna().all() and (numbers == 0).all():
            d.add("lost_amount_zero_is_missing: true", "every lost deal in the sample has amount 0: not its size", indent=4)
    if values and "close_date" in cols:
        state = text_of(deals.rows[cols.get("status") or cols["stage"]])
        closing = {k for k, v in values[0][1].items() if v in {"won", "lost"}}
        open_rows = state.notna() & ~state.isin(closing)
        if (open_rows & text_of(deals.rows[cols["close_date"]]).notna()).mean() > 0:
            d.add(
                "open_close_date_to_expected: true",
                "open deals in the sample carry a close date: a forecast, read as the expected close date",
                indent=4,
            )
    for contract in REQUIRED["opportunities"]:
        if (
            contract not in cols
            and not (contract == "status" and (status_done or values or constants))
            and not (status_done and contract in {"opportunity_id", "created_date", "close_date", "amount"})
        ):
            d.note(f"TODO {contract}: no column was recognised for it", indent=4)
    in_events = set(match(deals.columns, "opportunities").values()) if status_done else set()
    left = [
        c
        for c in deals.columns
        if c not in renamed and c not in cols.values() and c not in in_events and norm(c) not in SYNONYMS["opportunities"]
    ]
    if left:
        d.note("left out (not in the contract): " + ", ".join(left), indent=4)
    if repeated and status_done:
        d.add("stage_history:", indent=2)
        d.add(f"source: {_yaml(deals.stem)}", "the same log, one row per event", indent=4)
        events = match(deals.columns, "opportunities")
        d.add(
            f"from_events: {{deal: {_yaml(events['opportunity_id'])}, stage: {_yaml(events['stage'])}, date: {_yaml(events['created_date'])}}}",
            indent=4,
        )
    d.add("reps:", indent=2)
    if reps is not None:
        rcols = match(reps.columns, "reps")
        d.add(f"source: {_yaml(reps.stem)}", f"{reps.name}: it names reps ({rcols['rep_id']})", indent=4)
        rename = {src: contract for contract, src in rcols.items() if src != contract}
        if rename:
            d.add("rename:", indent=4)
            for src, contract in rename.items():
                why = "the manager taken as the team" if contract == "team" and "manag" in norm(src) else f"'{src}' read as {contract}"
                d.add(f"{_yaml(src)}: {contract}", why, indent=6)
        rleft = [c for c in reps.columns if c not in rcols.values()]
        if rleft:
            d.note("left out: " + ", ".join(rleft), indent=4)
        d.add("derive_from_owners: true", "owners without a row here become reps too", indent=4)
    else:
        d.add(
            "derive_from_owners: true", "no file of reps recognised: one rep per deal owner (treated as ramped, team unassigned)", indent=4
        )
    unused = [s.name for s in samples if s is not deals and s is not reps]
    if unused:
        d.note("files not used: " + ", ".join(unused))
    return "\n".join(d.lines) + "\n"
