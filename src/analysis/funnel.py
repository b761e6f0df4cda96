"""Metrics of the funnel before and inside the pipeline: lead conversion, and stage-to-stage conversion and
the eventual win rate from each stage (stage history)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from analysis.data import Dataset
from analysis.formulas import wilson
from analysis.grouping import aggregate, as_rows, compact, period_codes
from analysis.stages import CLOSING_STAGES
from analysis.survival import cumulative_incidence, plateau


def stage_metrics(ds: Dataset, freq: str, interval: float, min_at_risk: int = 50) -> pd.DataFrame:
    """Stage-to-stage conversion (company level, group ``from → to``, period of entering ``from``):
    ``stage_conversion`` = share of the deals that left ``from`` whose next stage was ``to`` (naive), and
    ``stage_conversion_censored`` = Aalen–Johansen cumulative incidence of moving to ``to`` with the other next
    stages competing and deals still in ``from`` censored; ``stage_win_rate`` = eventual win rate of the
    deals that entered a stage (AJ from the stage entry)."""
    hist, opps = ds.stage_history, ds.opportunities
    order, opp, codes, names = ds.timeline.sequence()  # stage_sequence, from what loading arranged
    opp, codes = opp[order], codes[order]
    entered = hist["entered_date"].to_numpy()[order]
    same = np.r_[opp[1:] == opp[:-1], False]  # the next row is the same deal: its stage is the next stage
    to = np.where(same, np.r_[codes[1:], -1], -1)
    left_at = np.where(same, np.r_[entered[1:], entered[-1:]], np.datetime64(ds.as_of_date))
    time = ((left_at - entered) / np.timedelta64(1, "D")).astype(float)
    period = period_codes(entered, freq, ds.fiscal_year_start)
    pcodes, puniq = period.codes, np.asarray(period.categories, dtype=object)
    source = ~np.isin(names, CLOSING_STAGES)[codes]
    moved = to >= 0
    n_st, n_p = len(names), max(len(puniq), 1)
    z = stats.norm.ppf(1 - (1 - interval) / 2)

    # One all-cause curve per (from, period): leaving the stage is the event, still in it is censored.
    # The incidence of each next stage k is then F_k(t*) = Σ_{t_j ≤ t*} S(t_{j−1}) / n_j · d_k,j.
    key = codes[source] * n_p + pcodes[source]
    uk, gid = compact(key, n_st * n_p)
    t_src, moved_src, to_src = time[source], moved[source], to[source]
    curves, at = cumulative_incidence(gid, t_src, moved_src.astype(int), rows=True)
    read = plateau(curves, min_at_risk)
    g = curves["gid"].to_numpy()
    prev = np.r_[1.0, curves["surv"].to_numpy()[:-1]]
    prev[np.r_[True, g[1:] != g[:-1]]] = 1.0
    # Each move's weight S(t−)/n at its (group, time): the row of the curves that counted it.
    mv = pd.DataFrame({"gid": gid[moved_src], "time": t_src[moved_src], "to": to_src[moved_src]})
    mv["w"] = (prev / curves["n_at_risk"].to_numpy())[at[moved_src]]
    t_star = np.full(len(uk), np.nan)  # every group has a reading: at its first time all its deals are at risk
    t_star[read["gid"].to_numpy()] = read["t_star"].to_numpy()
    before = mv[mv["time"].to_numpy() <= t_star[mv["gid"].to_numpy()]]
    # One integer key (gid, to) for the grouping; the sums, over the same rows in the same order, are unchanged.
    cens = before.groupby(before["gid"].to_numpy() * n_st + before["to"].to_numpy(), sort=True)["w"].sum().rename("cif")
    cens = pd.DataFrame({"gid": cens.index.to_numpy() // n_st, "to": cens.index.to_numpy() % n_st, "cif": cens.to_numpy()})
    cens = cens.merge(read[["gid", "cohort"]], on="gid")
    # Naive: of the deals that left "from", the share that went to "to".
    hit = np.bincount(mv["gid"].to_numpy() * n_st + mv["to"].to_numpy(), minlength=len(uk) * n_st)
    cells = np.flatnonzero(hit)
    naive = pd.DataFrame({"gid": cells // n_st, "to": cells % n_st, "hit": hit[cells]})
    naive = naive.merge(
        pd.Series(np.bincount(gid[moved_src], minlength=len(uk)), name="left_stage").rename_axis("gid").reset_index(), on="gid"
    )

    def label(frame: pd.DataFrame) -> pd.DataFrame:
        k = uk[frame["gid"].to_numpy()]
        return frame.assign(
            dimension="company",
            group=names[k // n_p] + " → " + names[frame["to"].to_numpy()],
            period=np.asarray(puniq, dtype=object)[k % n_p],
        )

    naive = label(naive)
    naive["v"] = naive["hit"] / naive["left_stage"]
    naive["lo"], naive["hi"] = wilson(naive["hit"], naive["left_stage"], interval)
    cens = label(cens)

    # Eventual win rate from entering each stage (first entry per deal and stage).
    # Rows are in deal order, so within one stage a deal's rows are in a run: its first is where the deal changes.
    by_stage = np.argsort(codes.astype(np.int16), kind="stable")  # radix sort: keeps the deal order within a stage
    o, c = opp[by_stage], codes[by_stage]
    first = np.empty(len(codes), dtype=bool)
    first[by_stage] = np.r_[True, (o[1:] != o[:-1]) | (c[1:] != c[:-1])]
    first &= source
    o_close = opps["close_date"].to_numpy()[opp[first]]
    closed = ~pd.isna(o_close)
    end = np.where(closed, o_close, np.datetime64(ds.as_of_date))
    t = ((end - entered[first]) / np.timedelta64(1, "D")).astype(float)
    ev = np.where(~closed, 0, np.where(opps["status"].eq("won").to_numpy()[opp[first]], 1, 2))
    k2 = codes[first] * n_p + pcodes[first]
    uk2, gid2 = compact(k2, n_st * n_p)
    w = plateau(cumulative_incidence(gid2, t, ev), min_at_risk)
    kk = uk2[w["gid"].to_numpy()]
    w = w.assign(dimension="company", group=names[kk // n_p], period=np.asarray(puniq, dtype=object)[kk % n_p])
    w["lo"], w["hi"] = (w["cif_won"] - z * w["se_won"]).clip(0, 1), (w["cif_won"] + z * w["se_won"]).clip(0, 1)
    return pd.concat(
        [
            as_rows(naive, "stage_conversion", "v", "left_stage", "lo", "hi", "deals that left the stage only"),
            as_rows(cens, "stage_conversion_censored", "cif", "cohort", note="deals still in the stage censored; no interval"),
            as_rows(w, "stage_win_rate", "cif_won", "cohort", "lo", "hi", "eventual win rate from entering the stage"),
        ],
        ignore_index=True,
    )


def lead_metrics(ds: Dataset, freq: str, dimensions, interval: float) -> pd.DataFrame:
    """``lead_conversion`` = leads created in the period that became opportunities / leads created."""
    leads = ds.leads
    base = pd.DataFrame(
        {
            "period": period_codes(leads["created_date"], freq, ds.fiscal_year_start),
            "converted": leads["opportunity_id"].notna().to_numpy(),
            "lead_source": leads["source"].array,
        }
    )
    a = aggregate(base, dimensions, "period", sum=("converted", "sum"), size=("converted", "size"))
    a["v"] = a["sum"] / a["size"]
    a["lo"], a["hi"] = wilson(a["sum"], a["size"], interval)
    return as_rows(a, "lead_conversion", "v", "size", "lo", "hi", "leads created in the period; recent leads may still convert")
