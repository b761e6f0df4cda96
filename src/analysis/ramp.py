"""New hires' ramp-up: the share of a ramped rep's pace a rep reaches in each quarter of tenure.

The settings give a schedule (``ramp_schedule``: 0.25, 0.5, 0.75, 1 by default), and :func:`learn_ramp` reads the
data's own hires against it. For every rep hired inside the data, and each quarter of tenure k, it counts the deals
the rep created (n) and the deals a ramped rep of the same segment would have created over the same days (E: the
days times the ramped reps' pace in each calendar month, so a hire in a slow month is not taken for a slow
ramp). The schedule is the prior, worth ``prior_deals`` expected deals::

    ramp_k = (n_k + w · schedule_k) / (E_k + w)

held between 0.05 and 1 and made non-decreasing; a segment with few hires keeps close to the schedule, one with
many follows its data. The ramp scales how many deals a rep creates, in the rates learned (a hire's days count at
their ramp) and in the days to come.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.calendar import DAYS_PER_MONTH
from analysis.config import DEFAULT_RAMP

QUARTER_DAYS = 3 * DAYS_PER_MONTH


def ramp_factor(tenure_months: np.ndarray, schedule: tuple[float, ...]) -> np.ndarray:
    """Share of full productivity by completed quarters of tenure (``schedule[k]`` in quarter k; then 1)."""
    tenure = np.asarray(tenure_months, dtype=float)
    k = np.floor(np.nan_to_num(tenure, nan=1e9) / 3).clip(0, len(schedule)).astype(int)  # no hire date: ramped
    values = np.r_[np.asarray(schedule, dtype=float), 1.0]
    return values[k]


def bucket_days(hire: np.ndarray, lo: np.ndarray, hi: np.ndarray, buckets: int) -> np.ndarray:
    """Days between ``lo`` and ``hi`` (exclusive) each rep spent in each quarter of tenure (reps × buckets + 1; the
    last column: every day after ``buckets`` quarters, and every day of a rep without a hire date)."""
    hire = np.asarray(hire, dtype="datetime64[ns]")
    lo_d = (np.asarray(lo, dtype="datetime64[ns]") - hire) / np.timedelta64(1, "D")
    hi_d = (np.asarray(hi, dtype="datetime64[ns]") - hire) / np.timedelta64(1, "D")
    out = np.zeros((len(hire), buckets + 1))
    edges = np.r_[np.arange(buckets + 1) * QUARTER_DAYS, np.inf]
    for k in range(buckets + 1):
        a, b = np.maximum(lo_d, edges[k]), np.minimum(hi_d, edges[k + 1])
        out[:, k] = np.nan_to_num(np.maximum(b - a, 0.0))
    unknown = np.isnat(hire)
    if unknown.any():
        span = (np.asarray(hi, dtype="datetime64[ns]") - np.asarray(lo, dtype="datetime64[ns]")) / np.timedelta64(1, "D")
        out[unknown] = 0.0
        out[unknown, buckets] = np.maximum(np.broadcast_to(span, hire.shape)[unknown], 0.0)
    return out


def learn_ramp(
    opps: pd.DataFrame, reps: pd.DataFrame, as_of: pd.Timestamp, schedule: tuple[float, ...] = DEFAULT_RAMP, prior_deals: float = 30.0
) -> tuple[dict[str, tuple[float, ...]], pd.DataFrame]:
    """The ramp by segment, learned from the data's hires with ``schedule`` as the prior (see the module).

    ``opps``: ``owner_id``, ``created_date``; ``reps``: ``rep_id``, ``segment`` (the rep's main one), ``hire_date``,
    ``end_date``. Returns the schedules by segment and a table (``segment``, ``quarter``, ``hires``, ``created``,
    ``expected``, ``prior``, ``ramp``) saying what each rests on."""
    K = len(schedule)
    prior = np.asarray(schedule, dtype=float)
    as_of = pd.Timestamp(as_of)
    out: dict[str, tuple[float, ...]] = {}
    rows = []
    if opps.empty or reps.empty:
        return out, pd.DataFrame(rows)
    first = opps["created_date"].min()
    months = pd.period_range(first.to_period("M"), as_of.to_period("M"), freq="M")
    m_lo = np.maximum(months.to_timestamp().to_numpy(), np.datetime64(first))
    m_hi = np.minimum((months + 1).to_timestamp().to_numpy(), np.datetime64(as_of + pd.Timedelta(days=1)))
    hire = reps["hire_date"].to_numpy(dtype="datetime64[ns]")
    end = reps["end_date"].to_numpy(dtype="datetime64[ns]")
    end = np.where(np.isnat(end), np.datetime64(as_of + pd.Timedelta(days=1)), end + np.timedelta64(1, "D"))
    start = np.where(np.isnat(hire), np.datetime64("1900-01-01"), hire)
    # Days per rep, month and tenure quarter (reps × months × K + 1).
    days = np.stack([bucket_days(hire, np.maximum(m_lo[j], start), np.minimum(m_hi[j], end), K) for j in range(len(months))], axis=1)
    rep_ix = pd.Index(reps["rep_id"].astype(str))
    o = opps[opps["created_date"] <= as_of]
    owner = rep_ix.get_indexer(o["owner_id"].astype(str))
    o, owner = o[owner >= 0], owner[owner >= 0]
    month_of = months.get_indexer(o["created_date"].dt.to_period("M"))
    tenure_days = (o["created_date"].to_numpy(dtype="datetime64[ns]") - hire[owner]) / np.timedelta64(1, "D")
    bucket = np.where(np.isnan(tenure_days), K, np.clip(np.floor(np.nan_to_num(tenure_days, nan=0.0) / QUARTER_DAYS), 0, K)).astype(int)
    shape = (len(reps), len(months), K + 1)
    cell = np.ravel_multi_index((owner, np.clip(month_of, 0, len(months) - 1), bucket), shape)
    counts = np.bincount(cell, minlength=int(np.prod(shape))).reshape(shape).astype(float)
    hired_inside = ~np.isnat(hire) & (hire >= np.datetime64(first))
    segment = reps["segment"].astype(str).to_numpy()
    for seg in np.unique(segment):
        sel = segment == seg
        ramped_days_m = days[sel, :, K].sum(axis=0)
        ramped_created = counts[sel, :, K].sum(axis=0)
        if ramped_created.sum() == 0:
            continue
        overall = ramped_created.sum() / ramped_days_m.sum()
        pace = np.where(ramped_days_m >= 30, ramped_created / np.maximum(ramped_days_m, 1e-9), overall)  # deals per ramped rep-day
        hires = sel & hired_inside
        n_k = counts[hires][:, :, :K].sum(axis=(0, 1))
        e_k = (days[hires][:, :, :K] * pace[None, :, None]).sum(axis=(0, 1))
        est = (n_k + prior_deals * prior) / (e_k + prior_deals)
        est = np.maximum.accumulate(np.clip(est, 0.05, 1.0))
        out[seg] = tuple(float(v) for v in est)
        for k in range(K):
            rows.append(
                {
                    "segment": seg,
                    "quarter": k,
                    "hires": int((days[hires][:, :, k].sum(axis=1) > 0).sum()),
                    "created": float(n_k[k]),
                    "expected": float(e_k[k]),
                    "prior": float(prior[k]),
                    "ramp": float(est[k]),
                }
            )
    return out, pd.DataFrame(rows)
