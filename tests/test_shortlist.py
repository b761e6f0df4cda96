"""The quota page at 40 reps and at 2,000 (issue 15): every rep drawn and listed in a small company; in a large one,
charts that summarise at a bounded height and tables of at most a screenful, each saying where the full list is; and
every table headed in words, with the definition on the heading."""

from __future__ import annotations

import re

import matplotlib
import numpy as np
import pandas as pd
import pytest

from analysis import compensation, goals, plots, quota, shortlist, steps, summary

matplotlib.use("Agg")

TALLEST = 6.0  # inches: no chart of a large company's page is taller


def _company(n_reps: int, n_teams: int, draws: int = 200, seed: int = 1) -> dict:
    """A synthetic company's plan and the page's inputs, made from lognormal draws (no data, no forecast)."""
    rng = np.random.default_rng(seed)
    ids = [f"R{i:04d}" for i in range(n_reps)]
    teams = [f"Team {i % n_teams + 1}" for i in range(n_reps)]
    scale = rng.lognormal(11.5, 0.5, n_reps)
    values = rng.lognormal(0, 0.6, (n_reps, draws)) * scale[:, None] * (rng.random((n_reps, draws)) > 0.05)
    values[:3] = 0  # three reps whose forecast books nothing: quotas to set by hand
    rep_draws = pd.DataFrame({"rep_id": np.repeat(ids, draws), "draw": np.tile(np.arange(draws), n_reps), "bookings": values.ravel()})
    ramp = np.where(rng.random(n_reps) < 0.2, 0.5, 1.0)
    reps = pd.DataFrame(
        {
            "rep_id": ids,
            "name": [f"Rep {i}" for i in range(n_reps)],
            "team": teams,
            "ramp_factor": ramp,
            "hire_date": pd.Timestamp("2024-01-01"),
        }
    )
    own_goals = pd.Series(scale * rng.lognormal(0, 0.4, n_reps), index=ids)
    previous = pd.Series(np.median(scale) * 1.2, index=ids[: n_reps // 2])  # half held within ±50 % of last quarter
    team_targets = pd.Series(scale, index=teams).groupby(level=0).sum() * 1.1
    plan = quota.QuotaRecommender(max_change=0.5).recommend(
        rep_draws, float(team_targets.sum()), reps=reps, goals=own_goals, period="2027Q1", team_targets=team_targets, previous=previous
    )
    periods = [f"202{5 + q // 4}Q{q % 4 + 1}" for q in range(8)]
    history = pd.DataFrame(
        {
            "rep_id": np.repeat(ids, len(periods)),
            "name": np.repeat(reps["name"], len(periods)),
            "team": np.repeat(teams, len(periods)),
            "period": np.tile(periods, n_reps),
            "attainment": rng.lognormal(-0.1, 0.5, n_reps * len(periods)),
        }
    )
    missed = rng.integers(0, 9, n_reps)
    coaching = pd.DataFrame(
        {
            "rep_id": ids,
            "name": reps["name"],
            "team": teams,
            "misses": missed,
            "attainment": rng.random(n_reps),
            "gap": rng.random(n_reps) * 1e5,
            "pointer": "deal size is 60% of the team's typical rep",
        }
    )[missed >= 2]
    return {
        "plan": plan,
        "rep_draws": rep_draws,
        "reps": reps,
        "goals": own_goals,
        "targets": team_targets,
        "history": history,
        "coaching": coaching,
    }


def _planned(c: dict) -> steps.Planned:
    plan, rep_draws, reps = c["plan"], c["rep_draws"], c["reps"]
    pay = compensation.resolve_plan("standard")
    sweep = pd.DataFrame(
        [
            {
                "target": t,
                "overassignment": o,
                "expected_share_attaining": 0.9 - t / 4e7,
                "cost_of_sales": 0.2 + o,
                "attainment_share": 0.65,
            }
            for t in (2e7, 2.5e7)
            for o in (0.0, 0.1, 0.2)
        ]
    ).assign(today=lambda d: (d["target"] == 2e7) & (d["overassignment"] == 0.1))
    board = (
        c["history"][c["history"]["period"] == "2026Q4"]
        .nlargest(15, "attainment")
        .assign(bookings=1e5, win_rate=0.3, improvement=0.1, recognition="")
    )
    replay = pd.DataFrame(
        {"method": ["equal chance"], "expected_share": [0.6], "realised_share": [0.55], "within_20pct": [0.3], "plan_vs_actual": [0.1]}
    )
    planned = steps.Planned(
        plan=plan,
        record=quota.plan_record(plan),
        inputs=None,
        rep_draws=rep_draws,
        cost=compensation.plan_costs(pay, plan, rep_draws, reps, pd.Timestamp("2027-01-01")),
        pay_plan=pay,
        sweep=sweep,
        ramp=quota.ramp_view(plan),
        rollup=goals.goals_rollup(rep_draws, c["goals"], reps, float(c["targets"].sum()), c["targets"]),
        gonik=goals.goal_positions(rep_draws, c["goals"], plan.quotas.set_index("rep_id")["quota"]),
        replay=pd.DataFrame({"period": ["2026Q3"], "method": ["equal chance"], "realised_share": [0.55]}),
        replay_summary=replay,
        history=c["history"],
        coaching=c["coaching"],
        leaderboard=board[["rep_id", "name", "team", "attainment", "bookings", "win_rate", "improvement", "recognition"]],
        sentence="",
        cost_text="",
        ramp_text="",
        goals_text="",
        quota_formats=steps.quota_formats("bookings"),
        labels=steps.plan_labels(),
        teams=shortlist.team_totals(plan.quotas, rep_draws) if shortlist.at_scale(len(plan.quotas)) else pd.DataFrame(),
    )
    planned.shown = steps.shown_tables(planned)
    return planned


def _charts(p: steps.Planned) -> dict:
    q = p.plan.quotas
    return {
        "quota vs forecast": plots.quota_vs_forecast(q, p.teams),
        "chances": plots.attainment_chances(q),
        "pay": plots.payout_by_method(p.cost, p.pay_plan.variable),
        "what if": plots.what_if_sweep(p.sweep),
        "ramp": plots.ramp_capacity(p.ramp),
        "goals": plots.goals_vs_forecast(q, p.gonik),
        "attainment history": plots.attainment_history(p.history),
    }


@pytest.fixture(scope="module")
def large() -> steps.Planned:
    return _planned(_company(2000, 250))


@pytest.fixture(scope="module")
def small() -> steps.Planned:
    return _planned(_company(40, 5))


def _headings(styler) -> list[str]:
    return [re.sub(r"<[^>]+>", "", h) for h in re.findall(r'<th [^>]*class="col_heading[^"]*"[^>]*>(.*?)</th>', styler.to_html())]


def test_a_large_companys_charts_summarise_at_a_bounded_height(large):
    import matplotlib.pyplot as plt

    charts = _charts(large)
    heights = {name: float(ax.figure.get_figheight()) for name, ax in charts.items()}
    assert max(heights.values()) <= TALLEST, heights
    assert "250 teams" in charts["quota vs forecast"].get_title() and not charts["quota vs forecast"].get_yticklabels()[
        0
    ].get_text().startswith("Rep")
    assert "2,000 reps" in charts["chances"].get_title() and charts["chances"].get_ylabel() == "reps"
    assert "in each band" in charts["attainment history"].get_title()
    assert "sits in their forecast" in charts["goals"].get_title()
    assert "the 15 of 250 teams" in charts["ramp"].get_title() and len(charts["ramp"].get_yticklabels()) == 15
    plt.close("all")


def test_a_small_companys_charts_still_draw_every_rep(small):
    import matplotlib.pyplot as plt

    charts = _charts(small)
    names = {t.get_text() for t in charts["quota vs forecast"].get_yticklabels()}
    assert names == set(small.plan.quotas["name"]), "one row per rep at 40 reps"
    assert len(charts["attainment history"].get_yticklabels()) == 40, "the heatmap keeps a row per rep"
    assert {t.get_text() for t in charts["chances"].get_yticklabels()} >= {"equal chance", "budget ÷ active reps"}
    plt.close("all")


def test_a_large_companys_tables_show_at_most_a_screenful_and_say_where_the_rest_are(large):
    shown = large.shown
    assert all(len(t.rows) <= shortlist.SHORTLIST for t in shown.values()), {k: len(t.rows) for k, t in shown.items()}
    where = {"pools": "quotas.xlsx", "ramp": "quotas.csv", "rollup": "goals_rollup.csv", "goals": "quotas.csv", "quotas": "quotas.csv"}
    for key, file in where.items():
        assert shown[key].shortened and file in shown[key].text, key
    assert "coaching.csv" in shown["coaching"].text or len(large.coaching) <= shortlist.MOST_LISTED
    # The teams furthest from what lets the set share attain come first.
    assert list(shown["pools"].rows["gap"]) == sorted(large.plan.pools["gap"], reverse=True)[: len(shown["pools"].rows)]
    # The reps who need attention, each with why: quotas to set by hand first, then those held by the cap, ...
    q = shown["quotas"].rows
    assert q["listed_for"].iloc[0] == "quota to set by hand" and set(q["rep_id"] if "rep_id" in q else []) == set()
    assert {"quota to set by hand", "held by the cap", "lowest chance", "quota furthest above the forecast", "ramping"} == set(
        q["listed_for"]
    )
    assert q["name"].is_unique
    lowest = large.plan.quotas[large.plan.quotas["quota"] > 0]["p_attain"].min()
    assert q["p_attain"].min() == pytest.approx(lowest)
    assert "25 of 2,000 reps listed here" in shown["quotas"].text


def test_a_small_companys_tables_list_everyone(small):
    assert len(small.shown["quotas"].rows) == 40 and not small.shown["quotas"].shortened
    assert len(small.shown["goals"].rows) == small.gonik.shape[0] and "name" in small.shown["goals"].rows
    assert not any(t.shortened for t in small.shown.values())


@pytest.mark.parametrize("size", ["small", "large"])
def test_every_table_of_the_quota_page_is_headed_in_words_with_its_definition(size, request):
    planned = request.getfixturevalue(size)
    formats = {"quotas": planned.quota_formats}
    for key, listed in planned.shown.items():
        if listed.rows.empty:
            continue
        styler = listed.page(formats.get(key), planned.labels)[1]
        headings = _headings(styler)
        assert headings and not [h for h in headings if "_" in h], (key, headings)
        unlabelled = [c for c in listed.rows.columns if c not in planned.labels and "_" in c]
        assert not unlabelled, (key, unlabelled)
    html = planned.shown["quotas"].page(planned.quota_formats, planned.labels)[1].to_html()
    assert 'title="The share of the rep&#x27;s simulated quarters in which they reach this quota."' in html
    board = planned.shown["leaderboard"].page(steps.LEADERBOARD_FORMATS, planned.labels)[1].to_html()
    assert "Of the deals that closed in the period, the share that were won." in board, "win rate: docs/metrics.md"


def test_the_what_if_key_reads_in_percent():
    import matplotlib.pyplot as plt

    sweep = pd.DataFrame(
        [
            {"target": t, "overassignment": o, "expected_share_attaining": 0.5, "cost_of_sales": 0.2, "attainment_share": 0.65}
            for t in (1e6, 2e6)
            for o in (0.0, 0.1, 0.2)
        ]
    ).assign(today=lambda d: (d["target"] == 1e6) & (d["overassignment"] == 0.1))
    ax = plots.what_if_sweep(sweep)
    assert [t.get_text() for t in ax.get_legend().get_texts()][:3] == ["0%", "10%", "20%"]
    plt.close("all")


def test_a_large_plans_sentence_shows_three_warnings_and_says_where_the_rest_are(large):
    record = quota.plan_record(large.plan)
    assert len(record["warnings"]) > steps.MOST_WARNINGS
    text = summary.plan_sentence(record, most_warnings=steps.MOST_WARNINGS, rest="the table below lists the largest gaps")
    assert text.count("⚠") == steps.MOST_WARNINGS + 1 and text.endswith("of the same kind: the table below lists the largest gaps.")
    assert "quotas.xlsx every one" in summary.plan_sentence(record, most_warnings=2)


def test_team_totals_add_the_draws_not_the_quantiles(small):
    t = shortlist.team_totals(small.plan.quotas, small.rep_draws).set_index("team")
    q = small.plan.quotas
    assert t["quota"].to_dict() == pytest.approx(q.groupby("team")["quota"].sum().to_dict())
    assert (t["forecast_p10"] > q.groupby("team")["forecast_p10"].sum()).all(), "a sum's p10 is above the sum of p10s"
    assert (t["forecast_p10"] <= t["forecast_p50"]).all() and (t["forecast_p50"] <= t["forecast_p90"]).all()
