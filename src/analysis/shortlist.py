"""What a page lists when there are too many reps or teams to show one by one: the size above which its charts
summarise and its tables shortlist, the reps and teams that need attention (a screenful at most), and the sentence
saying which they are and where the full list is."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.present import Label, share, table

#: Reps (or teams) a page still draws and lists one by one; above it, charts summarise and tables shortlist.
MOST_LISTED = 60
#: Rows in a shortlist.
SHORTLIST = 25
#: Teams in a bar chart of teams.
MOST_BARS = 15


def at_scale(n: int) -> bool:
    """Whether ``n`` reps (or teams) are too many to draw or list one by one."""
    return n > MOST_LISTED


@dataclass
class Listed:
    """A table as a page shows it: the rows, and the sentence saying which they are and where the rest are (empty
    when every row is shown)."""

    rows: pd.DataFrame
    text: str = ""

    @property
    def shortened(self) -> bool:
        return bool(self.text)

    def page(self, formats: dict[str, str] | None = None, labels: dict[str, str | Label] | None = None) -> list:
        """The sentence (for a shortlist) and the table (:func:`analysis.present.table`), in the order a page shows them."""
        return [self.text, table(self.rows, formats, labels)]


def _n(value: int, word: str) -> str:
    return f"{value:,} {word}{'s' * (value != 1)}"


# ------------------------------------------------------------------------------------------------
# Reps
# ------------------------------------------------------------------------------------------------
#: Why a rep is on the quota page's shortlist, in the order they are picked: what to look for, how the reps are
#: ranked, and the words of the sentence (``{n}`` listed of ``{of}``).
ATTENTION = (
    ("quota to set by hand", "set this quota by hand", None, "{n} of the {of} quotas to set by hand"),
    ("held by the cap", "held at", "stretch", "{n} of the {of} held by the quarter-on-quarter cap"),
    ("lowest chance", None, "p_attain", "the {n} lowest chances of attaining"),
    ("quota furthest above the forecast", None, "stretch", "the {n} quotas furthest above the rep's forecast median"),
    ("ramping", "ramping", "stretch", "{n} of the {of} ramping hires (largest quotas for their forecast)"),
)


def quotas(frame: pd.DataFrame, columns: list[str]) -> Listed:
    """The per-rep quota table: every rep up to :data:`MOST_LISTED`; above, the reps who need attention, with why
    each is listed — :data:`SHORTLIST` at most, taken in turn from each reason of :data:`ATTENTION` (quotas to set by
    hand, held by the cap, the lowest chances, the quotas furthest above the forecast median, ramping hires) so that
    every reason is seen and none fills the list."""
    shown = [c for c in columns if c in frame.columns]
    if not at_scale(len(frame)):
        return Listed(frame[shown].reset_index(drop=True))
    q = frame.assign(stretch=frame["quota"] - frame["forecast_p50"], flags=frame["flags"].fillna("").astype(str))
    ranked = []
    for _, flag, rank, _ in ATTENTION:
        if flag == "ramping":
            pool = q[q["ramp_factor"] < 1]
        elif flag:
            pool = q[q["flags"].str.contains(flag, regex=False)]
        else:
            pool = q[q["quota"] > 0]
        if rank == "p_attain":
            pool = pool.sort_values(["p_attain", "stretch"], ascending=[True, False], kind="stable")
        elif rank:
            pool = pool.sort_values("stretch", ascending=False, kind="stable")
        ranked.append(list(pool.index))
    picked: list[list] = [[] for _ in ATTENTION]
    taken: set = set()
    cursor = [0] * len(ATTENTION)
    while len(taken) < SHORTLIST and any(c < len(r) for c, r in zip(cursor, ranked, strict=True)):
        for i, candidates in enumerate(ranked):
            while cursor[i] < len(candidates) and candidates[cursor[i]] in taken:
                cursor[i] += 1
            if cursor[i] < len(candidates) and len(taken) < SHORTLIST:
                taken.add(candidates[cursor[i]])
                picked[i].append(candidates[cursor[i]])
    parts = [q.loc[rows].assign(listed_for=why) for (why, *_), rows in zip(ATTENTION, picked, strict=True) if rows]
    said = [
        words.format(n=len(rows), of=f"{len(pool):,}")
        for (_, _, _, words), rows, pool in zip(ATTENTION, picked, ranked, strict=True)
        if rows
    ]
    rows = pd.concat(parts, ignore_index=True) if parts else q.iloc[0:0].assign(listed_for="")
    order = ["name", "team", "listed_for", *[c for c in shown if c not in {"name", "team"}]]
    text = (
        f"**{len(rows):,} of {_n(len(frame), 'rep')} listed here, those who need attention:** {_join(said)}. "
        "Every rep's quota, chance and reason are in quotas.csv and quotas.xlsx (a sheet per team)."
    )
    return Listed(rows[[c for c in order if c in rows.columns]], text)


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1] if parts else "none"


def goal_positions(positions: pd.DataFrame, frame: pd.DataFrame) -> Listed:
    """Where each rep's goal sits in their own forecast (``goals.goal_positions``), named as the other tables name
    reps (name and team, not the id); above :data:`MOST_LISTED` reps, the goals lowest and highest in their forecast
    (half of :data:`SHORTLIST` each)."""
    if positions.empty:
        return Listed(positions)
    who = frame.set_index("rep_id")[["name", "team"]]
    named = who.reindex(positions["rep_id"]).reset_index(drop=True).join(positions.drop(columns="rep_id").reset_index(drop=True))
    named = named.rename(columns={"expected_payout": "gonik_payout", "expected_payout_truthful": "gonik_payout_truthful"})
    if not at_scale(len(named)):
        return Listed(named)
    half = SHORTLIST // 2
    ordered = named.sort_values("goal_quantile", kind="stable")
    rows = pd.concat([ordered.head(half), ordered.tail(half)]).drop_duplicates().reset_index(drop=True)
    return Listed(
        rows,
        f"**{len(rows):,} of {_n(len(named), 'rep')} with a goal: the {half} goals lowest and the {half} highest in "
        "their own forecast.** Every rep's goal, forecast and flag are in quotas.csv.",
    )


def coaching(frame: pd.DataFrame) -> Listed:
    """Reps below quota several quarters in a row (``monitoring.coaching``): above :data:`MOST_LISTED`, the
    :data:`SHORTLIST` with the most quarters missed, then the largest gap."""
    frame = frame.rename(columns={"gap": "short_of_quota"})
    if not at_scale(len(frame)):
        return Listed(frame.reset_index(drop=True))
    rows = frame.sort_values(["misses", "short_of_quota"], ascending=[False, False], kind="stable").head(SHORTLIST)
    return Listed(
        rows.reset_index(drop=True),
        f"**The {len(rows):,} of {_n(len(frame), 'rep')} below quota longest in a row** (then the furthest short); "
        "every one, with the drivers, is in coaching.csv.",
    )


# ------------------------------------------------------------------------------------------------
# Teams
# ------------------------------------------------------------------------------------------------
def _teams(n: int) -> str:
    return _n(n, "team")


def pools(frame: pd.DataFrame, attainment_share: float) -> Listed:
    """The targets team by team (``QuotaPlan.pools``): above :data:`MOST_LISTED` teams, the :data:`SHORTLIST` with
    the largest gaps."""
    if not at_scale(len(frame)):
        return Listed(frame.reset_index(drop=True))
    rows = frame.sort_values("gap", ascending=False, kind="stable").head(SHORTLIST).reset_index(drop=True)
    return Listed(
        rows,
        f"**The {len(rows):,} of {_teams(len(frame))} with the largest gaps**, where the quotas ask most beyond what "
        f"would let {share(attainment_share)} of the reps attain; every team is in quotas.xlsx (sheet Summary).",
    )


def ramp(view: pd.DataFrame) -> Listed:
    """Capacity with and without ramp by team (``quota.ramp_view``): above :data:`MOST_LISTED` teams, those whose
    ramping hires take most off their capacity, and all teams together on the last row."""
    teams = view[view["team"] != "all teams"]
    if not at_scale(len(teams)):
        return Listed(view.reset_index(drop=True))
    top = teams.sort_values("ramp_shortfall", ascending=False, kind="stable").head(SHORTLIST - 1)
    rows = pd.concat([top, view[view["team"] == "all teams"]], ignore_index=True)
    return Listed(
        rows,
        f"**The {len(top):,} of {_teams(len(teams))} whose ramping hires take most off their capacity**, and all teams "
        "together on the last row; each rep's ramp is in quotas.csv.",
    )


def rollup(frame: pd.DataFrame) -> Listed:
    """Goals against forecasts and targets (``goals.goals_rollup``): above :data:`MOST_LISTED` teams, the company and
    the teams least and most likely to reach their own goals (half of the shortlist each)."""
    teams = frame[frame["level"] == "team"]
    if not at_scale(len(teams)):
        return Listed(frame.reset_index(drop=True))
    half = (SHORTLIST - 1) // 2
    ordered = teams.sort_values("p_reach_goals", kind="stable")
    rows = pd.concat([frame[frame["level"] != "team"], ordered.head(half), ordered.tail(half)]).drop_duplicates()
    return Listed(
        rows.reset_index(drop=True),
        f"**The company and {2 * half} of {_teams(len(teams))}: the {half} least likely and the {half} most likely to "
        "reach their own goals**; every team is in goals_rollup.csv.",
    )


def team_totals(frame: pd.DataFrame, rep_draws: pd.DataFrame) -> pd.DataFrame:
    """Each team's quotas added up against the team's forecast (the reps' draws summed per simulation, not their
    quantiles): ``team``, ``reps``, ``quota``, ``forecast_p10``, ``forecast_p50``, ``forecast_p90``, ``p_attain``
    (the reps' mean chance of attaining)."""
    value = next(c for c in rep_draws.columns if c not in {"rep_id", "draw"})
    names = pd.Index(sorted(frame["team"].astype(str).unique()))
    rep_codes, rep_ids = pd.factorize(rep_draws["rep_id"])
    team_of = frame.set_index(frame["rep_id"].astype(str))["team"].astype(str)
    code = names.get_indexer(pd.Index(rep_ids.astype(str)).map(team_of))[rep_codes]  # -1: a rep without a quota
    draw_codes, draws = pd.factorize(rep_draws["draw"])
    keep = code >= 0
    sums = np.bincount(
        code[keep] * len(draws) + draw_codes[keep],
        weights=np.nan_to_num(rep_draws[value].to_numpy(dtype=float)[keep]),
        minlength=len(names) * len(draws),
    ).reshape(len(names), len(draws))
    p10, p50, p90 = np.quantile(sums, [0.1, 0.5, 0.9], axis=1) if len(draws) else (np.full(len(names), np.nan),) * 3
    by = frame.groupby("team").agg(reps=("rep_id", "size"), quota=("quota", "sum"), p_attain=("p_attain", "mean"))
    out = pd.DataFrame({"team": names, "forecast_p10": p10, "forecast_p50": p50, "forecast_p90": p90})
    return by.reset_index().merge(out, on="team", how="left")[
        ["team", "reps", "quota", "forecast_p10", "forecast_p50", "forecast_p90", "p_attain"]
    ]
