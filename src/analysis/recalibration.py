"""The pipeline model's recalibration: which deal features a snapshot can be trusted with (:func:`usable_features`),
the features of open deals (:func:`deal_features`) and the classifier that corrects their win chances with what the
model's own past quarters showed (:func:`classifier`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from analysis.data import Dataset
from analysis.schemas import isin


def usable_features(ds: Dataset) -> dict[str, str]:
    """Which deal features a snapshot of ``ds`` can be trusted with, and why not the others (feature → reason).

    A snapshot knows a past deal's stage only from ``stage_history`` (otherwise deals closed since show ``unknown``
    and those still open their stage of today, which gives the outcome away); and an amount only where lost deals
    keep theirs (some CRMs, Maven's for one, zero the amount of a lost deal, which again gives the outcome away).
    """
    o = ds.opportunities
    why = {}
    covered = isin(o["opportunity_id"], ds.stage_history["opportunity_id"]).mean() if ds.has("stage_history") and len(o) else 0.0
    if covered < 0.9:
        why["stage"] = why["log_stage_days"] = f"stage history covers {covered:.0%} of deals (needs 90 %): past stages unknown"
    lost = o[o["status"] == "lost"]
    priced = float((lost["amount"] > 0).mean()) if len(lost) else 0.0
    if priced < 0.5:
        why["log_amount"] = f"only {priced:.0%} of lost deals keep an amount: amounts would give the outcome away"
    return why


def deal_features(deals: pd.DataFrame, drop=()) -> pd.DataFrame:
    """The recalibration's inputs from open deals with ``pi``, ``age_days``, ``stage``, ``stage_days``,
    ``cycle_days`` (the segment's median days to win: ages are read relative to it, so a long enterprise cycle is
    not taken for a stalled deal), ``amount_rel`` (amount over the segment's typical one; NaN when not entered) and
    ``owner_ratio``."""
    p = np.clip(deals["pi"].to_numpy(dtype=float), 1e-4, 1 - 1e-4)
    cycle = np.maximum(deals["cycle_days"].to_numpy(dtype=float), 1.0)
    out = pd.DataFrame(
        {
            "logit_pi": np.log(p / (1 - p)),
            "log_age": np.log1p(np.maximum(deals["age_days"].to_numpy(dtype=float), 0.0) / cycle),
            "stage": deals["stage"].astype(str).to_numpy(dtype=object),
            "log_stage_days": np.log1p(np.nan_to_num(deals["stage_days"].to_numpy(dtype=float), nan=0.0) / cycle),
            "log_amount": np.nan_to_num(np.log(deals["amount_rel"].to_numpy(dtype=float)), nan=0.0, posinf=0.0, neginf=0.0),
            "log_owner": np.log(deals["owner_ratio"].to_numpy(dtype=float)),
        }
    )
    return out.drop(columns=list(drop))


def classifier(columns):
    """Standardised numbers and one-hot stages into an L2 logistic regression (scikit-learn)."""
    numeric = [c for c in columns if c != "stage"]
    parts = [("num", StandardScaler(), numeric)] + (
        [("stage", OneHotEncoder(handle_unknown="ignore", min_frequency=20), ["stage"])] if "stage" in columns else []
    )
    return make_pipeline(ColumnTransformer(parts), LogisticRegression(C=1.0, max_iter=1000))
