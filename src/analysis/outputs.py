"""Every file a quarterly run writes, declared once: its name, the step that writes it, what it holds and its
columns. Steps write through :func:`write` (an empty table still gets its header, so a degraded run has every
file), the runner checks with :func:`missing` that a run wrote them all, and :func:`read` reads them back."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from analysis import quota
from analysis.workbook import to_excel

FORECAST = ["level", "group", "period", "mean", "p10", "p50", "p90", "method", "headline"]


@dataclass(frozen=True)
class Output:
    name: str
    step: str
    doc: str
    columns: tuple[str, ...] = ()


OUTPUTS: dict[str, Output] = {
    o.name: o
    for o in [
        Output(
            "quarantine.csv",
            "check",
            "every quarantined row: table, file, source row, column, value, rule, reason",
            ("table", "file", "source_row", "column", "value", "rule", "reason"),
        ),
        Output(
            "accounting.csv",
            "check",
            "rows in, used and quarantined per table, with the dates covered",
            ("table", "file", "rows_in", "rows_used", "rows_quarantined", "first_date", "last_date"),
        ),
        Output(
            "sections.csv",
            "check",
            "every report section, what it needs, and whether these data serve it",
            ("key", "page", "section", "needs", "shown", "why not"),
        ),
        Output(
            "metrics.csv",
            "measure",
            "the metrics table (docs/metrics.md)",
            ("metric", "dimension", "group", "period", "value", "n", "lower", "upper", "note"),
        ),
        Output("forecast.csv", "forecast", "every level, period and model of the forecast", tuple(FORECAST)),
        Output("rep_draws.parquet", "forecast", "the simulated bookings of each active rep (the quotas' input)", ("rep_id", "draw")),
        Output(
            "forecast_vs_target.csv",
            "forecast",
            "the chance of reaching each target, and the model it comes from",
            ("level", "group", "period", "target", "p_reach", "p50", "method"),
        ),
        Output(
            "backtest.csv",
            "forecast",
            "every model's rolling-origin backtest",
            ("cutoff", "level", "group", "period", "actual", "mean", "p10", "p50", "p90", "scale", "method"),
        ),
        Output(
            "forecast_weights.csv",
            "forecast",
            "which model carries how much weight, and why",
            ("level", "method", "pinball", "mase", "relative_pinball", "n", "cutoffs", "weight", "why"),
        ),
        Output(
            "quotas.csv",
            "plan",
            "each rep's quota, chance of reaching it, forecast range, ramp, goal, flags and reason",
            quota.COLUMNS,
        ),
        Output(
            "quota_methods.csv",
            "plan",
            "the methods side by side: total and expected share attaining",
            ("method", "total", "expected_share_attaining", "p_attain_min", "p_attain_max", "p_attain_sd"),
        ),
        Output("quotas.xlsx", "plan", "the quotas for sales operations: a summary sheet and a sheet per team"),
        Output("quota_plan.json", "plan", "the plan's headline (target, total, common chance, warnings)"),
        Output(
            "compensation.csv",
            "plan",
            "what the plan costs under the pay plan, by method",
            ("method", "level", "rep_id", "quota", "expected_bookings", "expected_payout", "payout_p10", "payout_p90"),
        ),
        Output(
            "scenarios.csv",
            "plan",
            "the what-if sweep over target and over-assignment",
            ("target", "overassignment", "p_hat", "expected_share_attaining", "today"),
        ),
        Output(
            "goals_rollup.csv",
            "plan",
            "reps' own goals against their forecasts and the targets",
            ("level", "group", "reps_with_goal", "goals", "forecast_p10", "forecast_p50", "forecast_p90", "p_reach_goals"),
        ),
        Output(
            "policy_backtest.csv",
            "plan",
            "past quarters replayed with each quota method",
            ("period", "method", "reps", "expected_share", "realised_share", "attainment_sd", "within_20pct", "plan_vs_actual"),
        ),
        Output(
            "coaching.csv",
            "plan",
            "reps who missed quota quarters in a row, the gap and the coaching pointer",
            ("rep_id", "name", "team", "misses", "attainment", "gap", "pointer"),
        ),
    ]
}


def write(folder: str | Path, name: str, value: Any) -> Path:
    """Write output ``name`` into ``folder``: a DataFrame as CSV or Parquet (an empty one with its declared
    columns), a dict as JSON, a quota plan as Excel."""
    spec = OUTPUTS[name]
    path = Path(folder) / name
    if name.endswith(".json"):
        path.write_text(json.dumps(value, indent=2, default=str) + "\n")
        return path
    if name.endswith(".xlsx"):
        to_excel(value, path)
        return path
    frame = value
    absent = [c for c in spec.columns if c not in frame.columns]
    if absent and len(frame) == 0:
        frame = frame.reindex(columns=[*frame.columns, *absent])
    elif absent:
        raise ValueError(f"output {name} lacks its declared column(s) {absent}")
    if name.endswith(".parquet"):
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return path


def read(folder: str | Path, name: str) -> Any:
    """Read output ``name`` back as the step wrote it (missing values stay missing, never the text "nan")."""
    path = Path(folder) / name
    if name.endswith(".json"):
        return json.loads(path.read_text())
    if name.endswith(".parquet"):
        return pd.read_parquet(path)
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def missing(folder: str | Path) -> list[str]:
    """The declared outputs a run folder lacks."""
    return [name for name in OUTPUTS if not (Path(folder) / name).exists()]
