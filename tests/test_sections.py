"""What each report section needs: the facts read from a dataset, the sentences, and the docs kept in step."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import analysis
from analysis import history, sections, variants
from helpers import AS_OF, ROOT


def test_the_docs_list_every_section_with_what_it_needs():
    text = (ROOT / "docs" / "data-contract.md").read_text()
    part = text.split("## What each report needs", 1)[1].split("\n## ", 1)[0].replace("`", "")
    for s in sections.SECTIONS:
        assert s.title in part, f"docs/data-contract.md does not list the section {s.title!r}"
        assert s.needs in part, f"docs/data-contract.md does not say what {s.title!r} needs: {s.needs}"


def test_facts_count_what_the_data_hold(demo_dir):
    ds = analysis.load(demo_dir, as_of=AS_OF)
    f = sections.facts(ds, "2027Q1")
    o = ds.opportunities
    assert (f.deals, f.open_deals, f.won) == (len(o), int((o.status == "open").sum()), int((o.status == "won").sum()))
    assert f.closed == f.deals - f.open_deals and f.last_complete == "2026Q3"
    # Two years of data from 2024-11: whole quarters 2025Q1 to 2026Q3.
    assert history.complete_quarters(ds)[0] == "2025Q1" and f.quarters == 7
    assert f.backtest_quarters == 6 and f.series_backtest_quarters == 1
    assert f.target and f.team_targets and f.goals and f.has_stage_history and f.quota_quarters > 0
    assert sections.missing(f) == {}


@pytest.mark.parametrize("wanted, have, minimum, expected", [(6, 7, 1, 6), (6, 2, 1, 1), (6, 1, 1, 0), (0, 9, 1, 0), (6, 7, 6, 1)])
def test_a_backtest_replays_only_the_quarters_the_data_allow(wanted, have, minimum, expected, monkeypatch):
    monkeypatch.setattr(history, "complete_quarters", lambda ds: [f"q{i}" for i in range(have)])
    assert history.replayable_quarters(None, wanted, minimum) == expected


def test_an_extract_starting_mid_quarter_does_not_count_that_quarter(tmp_path):
    case = variants.make("one_quarter", tmp_path, reps=6)
    ds = analysis.load(case.data, as_of=case.as_of)
    assert history.complete_quarters(ds) == ["2026Q3"]
    f = sections.facts(ds, case.period)
    gaps = sections.missing(f)
    assert {"time_series", "backtest", "policy_backtest"} <= set(gaps)
    assert "1 complete quarter:" in gaps["backtest"]


def test_each_page_says_each_sentence_once():
    notes = sections.Notes({"backtest": "Too few quarters."})
    assert notes.say("backtest") == "Too few quarters." and notes.say("backtest") == ""


def test_the_sections_table_reads_as_a_checklist(demo_dir):
    ds = analysis.load(demo_dir, as_of=AS_OF)
    empty = ds.as_of(AS_OF)
    object.__setattr__(empty, "tables", {k: v for k, v in ds.tables.items() if k in {"opportunities", "reps"}})
    table = sections.table(sections.facts(empty, "2027Q1"))
    assert list(table.columns) == ["key", "page", "section", "needs", "shown", "why not"]
    off = table[table["shown"] == "no"]
    assert set(off["section"]) >= {"Stage funnel", "Quota attainment", "Chance of reaching the target", "Bottom-up goals"}
    assert (off["why not"].str.len() > 20).all() and (table.loc[table["shown"] == "yes", "why not"] == "").all()
    assert isinstance(table, pd.DataFrame)


def test_the_leadership_page_summarises_many_teams_instead_of_listing_them():
    """250 teams: the company and the five largest gaps are shown, and one sentence counts the teams out of reach
    and adds up how far short their medians fall (computed here independently)."""
    from analysis.steps import MOST_TEAMS_SHOWN, forecast_against_targets

    rng = np.random.default_rng(4)
    n = 250
    p50 = rng.uniform(50_000, 150_000, n)
    target = p50 * rng.uniform(0.7, 1.4, n)
    teams = [f"T{i:03d}" for i in range(n)]
    table = pd.DataFrame(
        {
            "level": ["company", *["team"] * n],
            "group": ["all", *teams],
            "period": "2027Q1",
            "p10": np.r_[p50.sum() * 0.9, p50 * 0.7],
            "p50": np.r_[p50.sum(), p50],
            "p90": np.r_[p50.sum() * 1.1, p50 * 1.3],
            "method": "pipeline",
            "headline": True,
        }
    )
    chance = np.where(target > p50, 0.3, 0.7)
    reach = pd.DataFrame(
        {
            "level": ["company", *["team"] * n],
            "group": ["all", *teams],
            "target": np.r_[target.sum(), target],
            "p_reach": np.r_[0.4, chance],
        }
    )
    shown, text = forecast_against_targets(table, reach, "2027Q1")
    assert len(shown) == 1 + MOST_TEAMS_SHOWN and shown["group"].iloc[0] == "Company"
    gaps = np.clip(target - p50, 0, None)
    assert list(shown["group"].iloc[1:]) == [teams[i] for i in np.argsort(-gaps)[:MOST_TEAMS_SHOWN]]
    short = target > p50
    assert text.startswith(f"{short.sum():,} of {n:,} teams")
    total = gaps[short].sum()
    assert f"{total / 1e6:.1f}M" in text and "The 5 largest gaps are shown" in text


def test_the_leadership_page_counts_the_plan_warnings_beyond_two():
    from analysis import summary

    record = {
        "period": "2027Q1",
        "reps": 2000,
        "total": 1e8,
        "target": 9e7,
        "p_hat": 0.4,
        "warnings": [f"team {i} is short" for i in range(250)],
    }
    full = summary.plan_sentence(record)
    short = summary.plan_sentence(record, most_warnings=2)
    assert full.count("⚠") == 250
    assert short.count("⚠") == 3 and "team 0 is short" in short and "…and 248 more warnings" in short


def test_the_plan_realism_chart_shows_each_method_against_the_aim():
    import matplotlib

    matplotlib.use("Agg")
    from analysis import plots

    methods = pd.DataFrame(
        {
            "method": ["equal chance", "budget ÷ active reps", "last year + growth"],
            "total": [5.8e6, 5.8e6, np.nan],
            "expected_share_attaining": [0.38, 0.33, np.nan],
        }
    )
    ax = plots.plan_realism(methods, aim=0.65)
    assert len(ax.patches) == 2, "a method without a share (no quotas under it) is left out, not drawn at 0"
    assert sorted(round(p.get_width(), 2) for p in ax.patches) == [0.33, 0.38]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert "equal chance\n(quotas 5.8M)" in labels
    ax.figure.canvas.draw()
    assert all("%" in t.get_text() for t in ax.get_xticklabels() if t.get_text())
    assert ax.get_legend().get_texts()[0].get_text() == "aim: 65% of reps attain"


def test_the_forecast_against_targets_chart_puts_the_company_and_the_teams_on_their_own_scales():
    """At 250 teams the company is a hundred times any team: on one axis the teams' ranges would be dots at zero."""
    import matplotlib

    matplotlib.use("Agg")
    from analysis import plots

    ranges = pd.DataFrame(
        {
            "group": ["Company", "Enterprise 237", "SMB 75"],
            "target": [257e6, 2.5e6, 0.4e6],
            "p10": [243e6, 1.2e6, 0.2e6],
            "p50": [277e6, 1.9e6, 0.3e6],
            "p90": [316e6, 2.8e6, 0.5e6],
        }
    )
    ax = plots.ranges_against_targets(ranges)
    company, teams = ax.figure.axes
    assert [t.get_text() for t in company.get_yticklabels()] == ["Company"]
    assert teams.get_xlim()[1] < 5e6 < company.get_xlim()[0], "each panel on its own scale"
    ax.figure.canvas.draw()
    assert all(
        t.get_text().endswith(("k", "M")) or t.get_text() == "0" for a in (company, teams) for t in a.get_xticklabels() if t.get_text()
    )
    labels = [t.get_text() for t in ax.figure.legends[0].get_texts()]
    assert labels == ["80 % range", "median", "target"]
    alone = plots.ranges_against_targets(ranges.iloc[:1])
    assert len(alone.figure.axes) == 1


def test_the_risks_name_at_most_five_teams_and_count_the_rest():
    from analysis.summary import top_risks

    reach = pd.DataFrame(
        {
            "level": ["company"] + ["team"] * 40,
            "group": ["all"] + [f"T{i}" for i in range(40)],
            "p_reach": [0.8] + [i / 100 for i in range(40)],
        }
    )
    empty = pd.DataFrame(columns=["metric", "dimension", "group", "period", "value"])
    risks = top_risks(
        {"p_hat": 0.7}, reach, empty, pd.DataFrame({"rows_in": [1], "rows_quarantined": [0]}), pd.DataFrame({"gap": []}), "2026-11-15"
    )
    text = next(r for r in risks if "teams have less than a 25% chance" in r)
    assert text.startswith("25 teams have") and "T0 (0%), T1 (1%), T2 (2%), T3 (3%), T4 (4%); 20 more on the forecast page" in text
    assert "T5 " not in text
