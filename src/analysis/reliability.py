"""Are the open deals' win chances honest? The deals open at past quarter ends with the chance the pipeline model
gave them and whether they were won (:func:`calibration`), and predicted against observed by bin (:func:`reliability`).
The pipeline model learns its own recalibration from the first, so this module needs no model of its own: the caller
says how to build one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from analysis.calendar import period_bounds
from analysis.data import Dataset
from analysis.history import origins

COLUMNS = [
    "cutoff",
    "period",
    "opportunity_id",
    "segment",
    "age_days",
    "amount",
    "pi",
    "won",
    "stage",
    "stage_days",
    "cycle_days",
    "amount_rel",
    "owner_ratio",
]


def calibration(ds: Dataset, n: int, make: Callable[[], Any], lead_days: int = 0) -> pd.DataFrame:
    """Are the open deals' win probabilities honest? At each rolling origin, every deal open at the cutoff with the
    chance π the model gave it of being won inside the next quarter, and whether it was: ``cutoff``, ``period``,
    ``opportunity_id``, ``segment``, ``age_days``, ``amount``, ``pi``, ``won``, and what the deal looked like then:
    ``stage``, ``stage_days``, ``cycle_days``, ``amount_rel``, ``owner_ratio``. ``make`` builds an unfitted pipeline
    model (``analysis.pipeline_model.PipelineForecaster``). With ``lead_days``, each cutoff is that many days before the
    quarter instead of its eve, so the table describes a forecast made as far ahead as the one it will correct."""
    o = ds.opportunities.set_index("opportunity_id")
    parts = []
    model = make()
    created = ds.opportunities["created_date"]
    for target, cutoff in origins(ds, n, lead_days=lead_days):
        if ((created > cutoff - pd.Timedelta(days=365)) & (created <= cutoff)).sum() < 50:
            continue  # before the data (or almost): nothing to learn or check
        # A past quarter's rows are the same whichever later snapshot asks (its outcome was known by then): each
        # backtest of a recalibrated model would otherwise refit the same quarters again.
        key = ("calibration", target, cutoff, type(model).__name__, repr(sorted(model.get_params().items())))
        if key not in ds.memo:
            probs = make().fit(ds.as_of(cutoff)).open_deal_probabilities(target)
            ds.memo[key] = _origin(o, target, cutoff, probs, ds.fiscal_year_start)
        parts.append(ds.memo[key])
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=COLUMNS)


def _origin(o: pd.DataFrame, target: str, cutoff: pd.Timestamp, probs: pd.DataFrame, fiscal_year_start: int) -> pd.DataFrame:
    """The rows of one origin: the deals open at ``cutoff`` (``probs``) and whether they were won inside ``target``."""
    start, end = period_bounds(target, fiscal_year_start)
    close = probs["opportunity_id"].map(o["close_date"])
    won = (probs["opportunity_id"].map(o["status"]) == "won") & (close >= start) & (close <= end)
    return pd.DataFrame(
        {
            "cutoff": cutoff.date().isoformat(),
            "period": target,
            "opportunity_id": probs["opportunity_id"],
            "segment": probs["segment"],
            "age_days": (cutoff - probs["created_date"]).dt.days,
            "amount": probs["amount"],
            "pi": probs["pi"],
            "won": won.to_numpy(),
            **{c: probs[c] for c in ("stage", "stage_days", "cycle_days", "amount_rel", "owner_ratio")},
        }
    )


def reliability(cal: pd.DataFrame, by: str = "pi", edges=(0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0)) -> pd.DataFrame:
    """Predicted against observed, per bin of ``by`` (π, or e.g. ``age_days`` with other edges): ``bin``,
    ``deals``, ``predicted`` (mean π), ``observed`` (share won), ``z`` ((observed − predicted) / binomial SE of
    the prediction), and ``brier`` (mean squared error of π in the bin)."""
    c = cal.assign(bin=pd.cut(cal[by], bins=list(edges), include_lowest=True))
    g = c.groupby("bin", observed=True)
    out = g.agg(deals=("pi", "size"), predicted=("pi", "mean"), observed=("won", "mean")).reset_index()
    var = g["pi"].apply(lambda p: float((p * (1 - p)).sum())).to_numpy()
    out["z"] = (out["observed"] - out["predicted"]) * out["deals"] / np.sqrt(np.where(var > 0, var, np.nan))
    out["brier"] = g.apply(lambda d: float(((d["pi"] - d["won"]) ** 2).mean()), include_groups=False).to_numpy()
    out["bin"] = out["bin"].astype(str)
    return out
