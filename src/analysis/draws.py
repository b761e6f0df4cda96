"""Simulated outcomes of one period, and what is read from them: :class:`ForecastDraws` (cells × draws, each cell a
rep, team and segment, summed to any level), the long per-rep draws the quota step reads (:func:`wide_draws`), and
the chance of reaching each target (:func:`versus_target`). Every model that forecasts by simulation returns them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

#: The columns of a forecast table (forecast.csv without its ``headline`` flag).
FORECAST_COLUMNS = ["level", "group", "period", "mean", "p10", "p50", "p90", "method"]


def sum_rows(index: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    """``rows`` (k × draws) summed into ``n`` groups by ``index`` (k,): what ``np.add.at(out, index, rows)`` adds, in
    the same order within a group, as a sparse product (``add.at`` on rows is two orders of magnitude slower)."""
    indicator = sparse.csr_matrix((np.ones(len(index)), (index, np.arange(len(index)))), shape=(n, len(index)))
    return np.asarray(indicator @ rows)


def wide_draws(rep_draws: pd.DataFrame) -> pd.DataFrame:
    """A long draws table (``rep_id``, ``draw`` and one value column, as :meth:`ForecastDraws.rep_draws` or
    ``rep_draws.parquet``) as reps × draws, reps sorted."""
    value = next(c for c in rep_draws.columns if c not in {"rep_id", "draw"})
    return rep_draws.pivot(index="rep_id", columns="draw", values=value).sort_index()


@dataclass
class ForecastDraws:
    """Simulated bookings of one period: ``draws`` (cells × draws) with ``cells`` (rep_id, team, segment,
    active) saying whose each row is."""

    period: str
    cells: pd.DataFrame
    draws: np.ndarray

    def by(self, level: str) -> tuple[pd.Index, np.ndarray]:
        """Draws summed to ``level`` (company, team, segment, rep): the groups and a groups × draws matrix."""
        if level == "company":
            return pd.Index(["all"]), self.draws.sum(axis=0, keepdims=True)
        col = {"team": "team", "segment": "segment", "rep": "rep_id"}[level]
        cells = self.cells if level != "rep" else self.cells[self.cells["active"]]
        rows = self.draws if level != "rep" else self.draws[self.cells["active"].to_numpy()]
        codes, groups = pd.factorize(cells[col], sort=True)
        return pd.Index(groups), sum_rows(codes, rows, len(groups))

    def rep_draws(self) -> pd.DataFrame:
        """Long table ``rep_id``, ``draw``, ``bookings`` for the quota step (active reps only)."""
        groups, m = self.by("rep")
        return pd.DataFrame(
            {"rep_id": np.repeat(groups.to_numpy(), m.shape[1]), "draw": np.tile(np.arange(m.shape[1]), len(groups)), "bookings": m.ravel()}
        )

    def table(self, levels=("company", "team", "segment", "rep"), method: str = "pipeline") -> pd.DataFrame:
        """``level``, ``group``, ``period``, ``mean``, ``p10``, ``p50``, ``p90``, ``method``."""
        parts = []
        for level in levels:
            groups, m = self.by(level)
            q = np.quantile(m, [0.1, 0.5, 0.9], axis=1)
            parts.append(
                pd.DataFrame(
                    {
                        "level": level,
                        "group": groups.astype(str),
                        "period": self.period,
                        "mean": m.mean(axis=1),
                        "p10": q[0],
                        "p50": q[1],
                        "p90": q[2],
                        "method": method,
                    }
                )
            )
        return pd.concat(parts, ignore_index=True)[FORECAST_COLUMNS]


def versus_target(draws: ForecastDraws, company: float | None, teams: pd.Series | None = None, method: str = "pipeline") -> pd.DataFrame:
    """Chance of reaching each target of the period, from the draws (targets as :meth:`Dataset.targets_for` gives
    them: the company's, or None, and the teams' by team): ``level``, ``group``, ``period``, ``target``,
    ``p_reach``, ``p50`` (the draws' median) and ``method`` (the model the draws come from)."""
    rows = []
    wanted = [("company", "all", company)] + [("team", t, v) for t, v in (teams if teams is not None else pd.Series(dtype=float)).items()]
    for level, key, target in wanted:
        if target is None or pd.isna(target):
            continue
        groups, m = draws.by(level)
        if key in groups:
            sims = m[groups.get_loc(key)]
            rows.append(
                {
                    "level": level,
                    "group": key,
                    "period": draws.period,
                    "target": float(target),
                    "p_reach": float((sims >= target).mean()),
                    "p50": float(np.median(sims)),
                    "method": method,
                }
            )
    return pd.DataFrame(rows, columns=["level", "group", "period", "target", "p_reach", "p50", "method"])
