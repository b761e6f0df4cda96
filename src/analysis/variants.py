"""The demo company in the shapes real extracts take: degenerate variants for the data zoo.

Each :class:`Variant` changes a generated demo company (:func:`analysis.demo.generate`) the way real CRM extracts
differ from it — only the two required tables, a short history, every deal open, no targets, one rep, … — and
says which period and as-of date the quarterly job should be run with. The zoo tests run the whole job on each
and check that every page renders and says what is missing (``tests/test_zoo.py``).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import demo
from analysis.calendar import last_complete_period, period_bounds, period_of, shift_period
from analysis.config import PROJECT_DIR

Tables = dict[str, pd.DataFrame]


@dataclass(frozen=True)
class Case:
    """A zoo case ready to run: the data folder and the settings the job runs with."""

    name: str
    data: Path
    as_of: str
    period: str
    fiscal_year_start: int = 1
    mapping: str | None = None
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Variant:
    """A change to the demo company. ``change(tables, as_of, fiscal_year_start)`` returns the changed tables;
    ``years`` the history generated; ``ahead`` which quarter after the as-of date's is planned (1: the next);
    ``run_as_of_days`` moves the as-of date of the run after the data's last day (a stale extract)."""

    name: str
    doc: str
    change: Callable[[Tables, pd.Timestamp, int], Tables] = lambda t, a, f: t
    years: float = 2.0
    fiscal_year_start: int = 1
    ahead: int = 1
    run_as_of_days: int = 0


def _keep(*names: str) -> Callable[[Tables, pd.Timestamp, int], Tables]:
    return lambda t, a, f: {k: v for k, v in t.items() if k in names}


def _drop(*names: str) -> Callable[[Tables, pd.Timestamp, int], Tables]:
    return lambda t, a, f: {k: v for k, v in t.items() if k not in names}


def _only_deals(t: Tables, keep: pd.Series) -> Tables:
    """Keep the opportunities where ``keep``; stage history follows, leads lose the link to removed deals."""
    out = dict(t)
    opps = t["opportunities"][keep.to_numpy()].reset_index(drop=True)
    out["opportunities"] = opps
    ids = set(opps["opportunity_id"])
    if "stage_history" in t:
        out["stage_history"] = t["stage_history"][t["stage_history"]["opportunity_id"].isin(ids)].reset_index(drop=True)
    if "leads" in t:
        leads = t["leads"].copy()
        leads.loc[~leads["opportunity_id"].isin(ids), "opportunity_id"] = None
        out["leads"] = leads
    return out


def _all_open(t: Tables, as_of: pd.Timestamp, fy: int) -> Tables:
    out = dict(t)
    opps = t["opportunities"].copy()
    opps["status"] = "open"
    opps["close_date"] = pd.NaT
    opps["stage"] = opps["stage"].where(~opps["stage"].isin(["Closed Won", "Closed Lost"]), "Negotiation")
    out["opportunities"] = opps
    h = t["stage_history"]
    out["stage_history"] = h[~h["stage"].isin(["Closed Won", "Closed Lost"])].reset_index(drop=True)
    return out


def _none_open(t: Tables, as_of: pd.Timestamp, fy: int) -> Tables:
    return _only_deals(t, t["opportunities"]["status"] != "open")


def _no_won(t: Tables, as_of: pd.Timestamp, fy: int) -> Tables:
    out = dict(t)
    opps = t["opportunities"].copy()
    won = opps["status"] == "won"
    opps.loc[won, "status"] = "lost"
    opps.loc[won, "stage"] = "Closed Lost"
    out["opportunities"] = opps
    h = t["stage_history"].copy()
    h.loc[h["stage"] == "Closed Won", "stage"] = "Closed Lost"
    out["stage_history"] = h
    return out


def _open_without_amounts(t: Tables, as_of: pd.Timestamp, fy: int) -> Tables:
    out = dict(t)
    opps = t["opportunities"].copy()
    is_open = opps["status"] == "open"
    opps.loc[is_open, "amount"] = np.nan
    opps.loc[is_open, "margin"] = np.nan
    out["opportunities"] = opps
    return out


def _active_at(reps: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    return ~(reps["hire_date"] > as_of) & ~(reps["end_date"] <= as_of)


def _one_rep(t: Tables, as_of: pd.Timestamp, fy: int) -> Tables:
    reps = t["reps"]
    active = reps[_active_at(reps, as_of) & reps["hire_date"].notna()]
    rep = active.sort_values("hire_date")["rep_id"].iloc[0]
    out = _only_deals(t, t["opportunities"]["owner_id"] == rep)
    out["reps"] = reps[reps["rep_id"] == rep].reset_index(drop=True)
    for name in ("quotas", "goals", "activities"):
        if name in out:
            out[name] = out[name][out[name]["rep_id"] == rep].reset_index(drop=True)
    if "targets" in out:
        out["targets"] = out["targets"][out["targets"]["team"].isna()].reset_index(drop=True)
    return out


def _one_team(t: Tables, as_of: pd.Timestamp, fy: int) -> Tables:
    out = dict(t)
    out["reps"] = t["reps"].assign(team="Sales")
    if "targets" in t:
        out["targets"] = t["targets"][t["targets"]["team"].isna()].reset_index(drop=True)
    return out


def _all_new_hires(t: Tables, as_of: pd.Timestamp, fy: int) -> Tables:
    """Every rep still employed was hired during the last complete quarter (a new sales team on an old book)."""
    out = dict(t)
    reps = t["reps"].copy()
    start, end = period_bounds(last_complete_period(as_of, fy), fy)
    rng = np.random.default_rng(0)
    active = _active_at(reps, as_of)
    days = rng.integers(0, (end - start).days + 1, int(active.sum()))
    reps.loc[active, "hire_date"] = (start + pd.to_timedelta(days, unit="D")).to_numpy()
    out["reps"] = reps
    return out


def _short(quarters: int, days: int | None = None) -> Callable[[Tables, pd.Timestamp, int], Tables]:
    """Only what was created in the last ``quarters`` complete quarters and the quarter under way (or, with
    ``days``, in the last ``days`` days only)."""

    def change(t: Tables, as_of: pd.Timestamp, fy: int) -> Tables:
        first = shift_period(last_complete_period(as_of, fy), -(quarters - 1), fy)
        start = period_bounds(first, fy)[0] if days is None else as_of - pd.Timedelta(days=days)
        out = _only_deals(t, t["opportunities"]["created_date"] >= start)
        reps = t["reps"]
        out["reps"] = reps[~(reps["end_date"] < start)].reset_index(drop=True)
        kept = set(out["reps"]["rep_id"])
        if "stage_history" in out:
            out["stage_history"] = out["stage_history"][out["stage_history"]["entered_date"] >= start].reset_index(drop=True)
        for name, col in (("leads", "created_date"), ("activities", "date")):
            if name in out:
                out[name] = out[name][out[name][col] >= start].reset_index(drop=True)
        if "spend" in out:
            out["spend"] = out["spend"][pd.to_datetime(out["spend"]["month"]) >= start].reset_index(drop=True)
        for name in ("quotas", "goals", "targets"):
            if name in out:
                frame = out[name]
                starts = frame["period"].map(lambda p: period_bounds(p, fy)[0])
                frame = frame[starts >= start]
                if "rep_id" in frame:
                    frame = frame[frame["rep_id"].isin(kept)]
                out[name] = frame.reset_index(drop=True)
        if "activities" in out:
            out["activities"] = out["activities"][out["activities"]["rep_id"].isin(kept)].reset_index(drop=True)
        return out

    return change


VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in [
        Variant("demo", "the demo company as generated"),
        Variant("required_only", "only the two required tables, opportunities and reps", _keep("opportunities", "reps")),
        Variant("one_month", "one month of history: no quarter has ended since the data begin", _short(0, days=31)),
        Variant("one_quarter", "one complete quarter of history and the quarter under way", _short(1)),
        Variant("two_quarters", "two complete quarters of history", _short(2)),
        Variant("all_open", "every deal still open: nothing has closed yet", _all_open),
        Variant("none_open", "no deal open at the as-of date", _none_open),
        Variant("one_rep", "a company of one rep", _one_rep),
        Variant("one_team", "every rep in one team, no team targets", _one_team),
        Variant("no_won", "no deal was ever won", _no_won),
        Variant("open_without_amounts", "open deals carry no amount", _open_without_amounts),
        Variant("no_targets", "no targets table", _drop("targets")),
        Variant("no_quota_history", "no quotas table (no attainment history)", _drop("quotas")),
        Variant("fiscal_april", "a fiscal year starting in April", fiscal_year_start=4),
        Variant("all_new_hires", "every rep hired during the last complete quarter", _all_new_hires),
        Variant("two_ahead", "a plan for the quarter after next", ahead=2),
        Variant("stale", "an extract last updated eight months before the as-of date", run_as_of_days=240),
    ]
}


def make(name: str, folder: str | Path, as_of: str = "2026-11-15", seed: int = 3, reps: int = 10) -> Case:
    """Write variant ``name`` of a small demo company into ``folder`` and return the case to run."""
    v = VARIANTS[name]
    as_of_ts = pd.Timestamp(as_of)
    tables = demo.generate(seed=seed, reps=reps, years=v.years, as_of=as_of_ts, fiscal_year_start=v.fiscal_year_start, activities=False)
    tables = v.change(tables, as_of_ts, v.fiscal_year_start)
    folder = Path(folder)
    demo.write(tables, folder)
    run_as_of = as_of_ts + pd.Timedelta(days=v.run_as_of_days)
    period = shift_period(period_of(run_as_of, v.fiscal_year_start), v.ahead, v.fiscal_year_start)
    return Case(name, folder, str(run_as_of.date()), period, v.fiscal_year_start)


#: The public CRM datasets the zoo runs (``examples/`` ships their mappings and preparation, never the data):
#: name → (dataset folder, example with a ``prepare.py`` or None, mapping (a preset or a file), as-of: the data's last day).
EXAMPLES = PROJECT_DIR / "examples"
PUBLIC = {
    "maven_crm": ("maven_crm", None, "maven", "2017-12-31"),
    "sparklesquad_crm": ("sparklesquad_crm", None, str(EXAMPLES / "sparklesquad_crm/mapping.yaml"), "2017-12-31"),
    "sales_pipeline_stage_history": (
        "sales_pipeline_stage_history",
        None,
        str(EXAMPLES / "sales_pipeline_stage_history/mapping.yaml"),
        "2016-12-31",
    ),
    "olist_marketing_funnel": (
        "olist_marketing_funnel",
        "olist_marketing_funnel",
        str(EXAMPLES / "olist_marketing_funnel/mapping.yaml"),
        "2018-11-14",
    ),
    "superstore": ("superstore", None, str(EXAMPLES / "superstore/mapping.yaml"), "2019-12-30"),
}


def prepare_public(name: str, source: Path, out: Path) -> Path:
    """The folder to load for public dataset ``name``: ``source`` itself, or what its example's ``prepare.py``
    writes into ``out`` (a join the mapping cannot express)."""
    example = PUBLIC[name][1]
    if example is None:
        return Path(source)
    spec = importlib.util.spec_from_file_location(f"prepare_{example}", EXAMPLES / example / "prepare.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.prepare(Path(source), Path(out))
    return Path(out)
