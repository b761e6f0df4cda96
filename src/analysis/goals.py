"""Bottom-up goals: reps' own goals against their forecasts, rolled up with the draws, and Gonik's truthful
bonus scheme (docs/methods.md §1.2, checks 3, 4 and 5).

A goal is compared with the rep's own forecast distribution (below its p25: sandbagging?; above its p90:
over-reach?). Team and company roll-ups add the draws first and take quantiles of the sum, never the sum of
medians. Gonik's payout rewards the forecast that is a stated quantile of the rep's belief, so a leader can choose
the coefficients that make reporting the median (or another quantile) pay best.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.draws import wide_draws


def gonik_payout(forecast, actual, quota, beta: float = 1.2, alpha: float = 0.6, gamma: float = 1.8):
    """Payout in percent of the standard bonus (Gonik 1978; Weitzman's form, 0 < α < β < γ), floored at 0:
    100·[β·F + α·(A − F)]/Q if A ≥ F, else 100·[β·F − γ·(F − A)]/Q."""
    f, a, q = (np.asarray(x, dtype=float) for x in (forecast, actual, quota))
    above = 100 * (beta * f + alpha * (a - f)) / q
    below = 100 * (beta * f - gamma * (f - a)) / q
    return np.maximum(np.where(a >= f, above, below), 0.0)


def gonik_elicited_quantile(beta: float = 1.2, alpha: float = 0.6, gamma: float = 1.8) -> float:
    """The quantile of the rep's own belief that maximises expected payout: (β − α) / (γ − α) (the median for
    Gonik's 120/60/180; docs/methods.md §1.2 — not the expectation)."""
    if not 0 < alpha < beta < gamma:
        raise ValueError(f"need 0 < alpha < beta < gamma, got alpha={alpha}, beta={beta}, gamma={gamma}")
    return (beta - alpha) / (gamma - alpha)


def roll_up(draws: np.ndarray, q: float = 0.5) -> float:
    """A team quantile from the rep draws: the quantile of the simulated **sum**, not the sum of quantiles
    (docs/methods.md check 5)."""
    return float(np.quantile(draws.sum(axis=0), q))


ROLLUP_COLUMNS = [
    "level",
    "group",
    "reps_with_goal",
    "goals",
    "forecast_p10",
    "forecast_p50",
    "forecast_p90",
    "p_reach_goals",
    "target",
    "goals_vs_target",
]


def goals_rollup(
    rep_draws: pd.DataFrame, goals: pd.Series, reps: pd.DataFrame, target: float | None = None, team_targets: pd.Series | None = None
) -> pd.DataFrame:
    """The collective goal against the forecast and the leader's targets, per team and for the company.

    Only reps with a goal count on both sides. Returns ``level``, ``group``, ``reps_with_goal``, ``goals`` (Σ goals),
    ``forecast_p10``/``p50``/``p90`` of Σ bookings of the same reps (quantiles of the summed draws),
    ``p_reach_goals`` (chance the sum reaches Σ goals), ``target`` and ``goals_vs_target`` (Σ goals / target − 1;
    for the company and for teams with a target).
    """
    wide = wide_draws(rep_draws)
    g = goals.dropna()
    g = g[g.index.isin(wide.index)]
    team_of = reps.set_index("rep_id")["team"].reindex(g.index).fillna("unassigned")
    rows = []
    groups = [("company", "all", g.index)] + [("team", t, idx) for t, idx in g.groupby(team_of).groups.items()]
    for level, name, idx in groups:
        sims = wide.loc[idx].to_numpy(dtype=float).sum(axis=0)
        total = float(g[idx].sum())
        q10, q50, q90 = np.quantile(sims, [0.1, 0.5, 0.9]) if len(idx) else (np.nan,) * 3
        tgt = target if level == "company" else (team_targets.get(name) if team_targets is not None else None)
        tgt = np.nan if tgt is None else float(tgt)
        rows.append(
            {
                "level": level,
                "group": name,
                "reps_with_goal": len(idx),
                "goals": total,
                "forecast_p10": q10,
                "forecast_p50": q50,
                "forecast_p90": q90,
                "p_reach_goals": float((sims >= total).mean()) if len(idx) else np.nan,
                "target": tgt,
                "goals_vs_target": total / tgt - 1 if tgt and tgt > 0 else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=ROLLUP_COLUMNS)


def goal_positions(
    rep_draws: pd.DataFrame, goals: pd.Series, quotas: pd.Series | None = None, beta: float = 1.2, alpha: float = 0.6, gamma: float = 1.8
) -> pd.DataFrame:
    """The Gonik view, per rep with a goal: ``goal``, ``goal_quantile`` (where the goal sits in the rep's own
    forecast: share of draws below it), ``truthful_goal`` (the forecast quantile the scheme rewards,
    :func:`gonik_elicited_quantile`), ``expected_payout`` with the goal as stated and ``expected_payout_truthful``
    (percent of the standard bonus, averaged over the rep's draws; quota = ``quotas`` or the goal itself).

    If our forecast were the rep's belief, the truthful goal would pay at least as much as any other goal (exactly
    without the floor at 0; with it, within a percent when outcomes far below the goal are likely).
    """
    wide = wide_draws(rep_draws)
    g = goals.dropna()
    g = g[g.index.isin(wide.index)]
    tau = gonik_elicited_quantile(beta, alpha, gamma)
    m = wide.loc[g.index].to_numpy(dtype=float)
    goal = g.to_numpy(dtype=float)
    quota = goal if quotas is None else quotas.reindex(g.index).fillna(g).to_numpy(dtype=float)
    quota = np.where(quota > 0, quota, np.nan)
    truthful = np.quantile(m, tau, axis=1) if len(g) else np.array([])
    return pd.DataFrame(
        {
            "rep_id": g.index.astype(str),
            "goal": goal,
            "goal_quantile": (m < goal[:, None]).mean(axis=1),
            "truthful_goal": truthful,
            "expected_payout": gonik_payout(goal[:, None], m, quota[:, None], beta, alpha, gamma).mean(axis=1),
            "expected_payout_truthful": gonik_payout(truthful[:, None], m, quota[:, None], beta, alpha, gamma).mean(axis=1),
        }
    )
