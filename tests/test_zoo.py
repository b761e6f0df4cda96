"""The data zoo: the quarterly job on companies shaped like real extracts, not like the demo.

The contract under test: if ``quotacast validate`` accepts a source with its settings, ``quotacast run`` completes —
every page rendered, every output written, and each section the data cannot serve saying why in a sentence; no page
shows ``nan``, ``None``, ``inf`` or scientific notation.

Tiers: every variant through every step in this process (fast); a property test over random variants and
settings (fast); every variant through the real job with notebooks and rendering (slow); the public datasets in
``../shared/datasets`` through the real job, their numbers checked against an independent computation (slow,
skipped where ``../shared`` is absent).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

import analysis
from analysis import outputs, preflight, report, sections, steps, variants
from analysis.config import Settings
from analysis.variants import PUBLIC
from helpers import shared_dataset

#: Sections each variant must report as missing (it may report more).
EXPECTED_GAPS = {
    "demo": set(),
    "required_only": {"stage_funnel", "attainment", "cac", "versus_target", "quota_target", "what_if", "goals", "attainment_history"},
    "one_month": {"coverage", "time_series", "backtest", "policy_backtest", "calibration", "attainment_history"},
    "one_quarter": {"time_series", "backtest", "policy_backtest", "calibration"},
    "two_quarters": {"time_series"},
    "all_open": {"bookings", "win_rates", "deal_sizes", "cycle", "forecast_basis", "time_series", "calibration"},
    "none_open": set(),
    "one_rep": set(),
    "one_team": set(),
    "no_won": {"bookings", "deal_sizes", "cycle", "forecast_basis"},
    "open_without_amounts": set(),
    "no_targets": {"versus_target", "quota_target", "what_if"},
    "no_quota_history": {"attainment", "attainment_history"},
    "fiscal_april": set(),
    "all_new_hires": set(),
    "two_ahead": set(),
    "stale": {"versus_target", "quota_target", "what_if", "goals"},
}
UNREADABLE = re.compile(r"\b(nan|NaN|NaT|None|inf|Infinity)\b|nanx|\d\.?\d*e[+-]\d+")


def _run_steps(case: variants.Case, out: Path, **overrides) -> steps.RunResult:
    settings = Settings(**{"fiscal_year_start": case.fiscal_year_start, "draws": 200, **overrides})
    ds = analysis.load(case.data, mapping=case.mapping, as_of=case.as_of, fiscal_year_start=settings.fiscal_year_start)
    period = preflight.run_period(case.period, preflight.parse_as_of(case.as_of), settings.fiscal_year_start)
    preflight.check(ds, settings, period)  # what validate checks: these cases must pass it
    return steps.run_all(ds, settings, period, out)


def _all_text(result: steps.RunResult) -> list[str]:
    return [t for part in vars(result).values() for t in steps.texts(part)]


def test_every_variant_is_listed_with_its_expected_gaps():
    assert set(EXPECTED_GAPS) == set(variants.VARIANTS)


@pytest.mark.parametrize("name", list(variants.VARIANTS))
def test_every_step_completes_on_the_variant_and_says_what_is_missing(name, tmp_path):
    case = variants.make(name, tmp_path / "data", reps=8)
    result = _run_steps(case, tmp_path / "out")
    assert outputs.missing(tmp_path / "out") == [], "a degraded run still writes every output"
    gaps = outputs.read(tmp_path / "out", "sections.csv")
    said = set(gaps.loc[gaps["shown"] == "no", "section"])
    expected = {sections.BY_KEY[k].title for k in EXPECTED_GAPS[name]}
    assert expected <= said, f"{name}: sections that should say why they are missing: {expected - said}"
    bad = [t for t in _all_text(result) if UNREADABLE.search(t)]
    assert bad == [], f"{name}: unreadable text {bad[:3]}"
    assert result.summarised.forecast == result.forecasted.sentence, "the leadership page and the forecast page say the same"
    # One distribution everywhere: each target's chance comes from the draws of the headline shown beside it.
    head, reach = result.forecasted.headline, result.forecasted.reach
    for r in reach.itertuples():
        h = head[(head["level"] == r.level) & (head["group"] == r.group)]
        assert len(h) == 1 and h["method"].iloc[0] == r.method, f"{name}: {r.level} {r.group}'s chance is not from the headline's draws"
        assert (r.p_reach >= 0.5) == (h["p50"].iloc[0] >= r.target) or abs(r.p_reach - 0.5) < 0.01, (
            f"{name}: median {h['p50'].iloc[0]:,.0f} against target {r.target:,.0f} but a chance of {r.p_reach:.0%}"
        )
    quotas = outputs.read(tmp_path / "out", "quotas.csv")
    assert len(quotas) == len(analysis.load(case.data, as_of=case.as_of, fiscal_year_start=case.fiscal_year_start).active_reps())
    assert np.isfinite(quotas["quota"]).all() and (quotas["quota"] >= 0).all()


def test_degraded_sections_read_as_the_data_are(tmp_path):
    """The words on the page match the data: the numbers it would otherwise fake are said to be missing."""
    res = _run_steps(variants.make("open_without_amounts", tmp_path / "a", reps=8), tmp_path / "a-out")
    n_open = res.measured.metrics.query("metric == 'pipeline_open_amount'").shape[0] > 0
    assert n_open and "open deals carry no amount; each counts at the average won deal size" in res.forecasted.basis
    res = _run_steps(variants.make("no_targets", tmp_path / "b", reps=8), tmp_path / "b-out")
    assert "no target was given" in res.planned.sentence and "realistic mode" in res.planned.sentence
    assert res.planned.plan.quotas["p_attain"].mean() == pytest.approx(0.65, abs=0.05)
    assert "No bookings target was given for 2027Q1" in res.forecasted.sentence
    res = _run_steps(variants.make("none_open", tmp_path / "c", reps=8), tmp_path / "c-out")
    assert "No deal is open at the as-of date" in res.forecasted.basis
    res = _run_steps(variants.make("one_quarter", tmp_path / "d", reps=8), tmp_path / "d-out")
    assert "1 complete quarter" in res.forecasted.basis and "cannot be judged" in res.forecasted.basis
    assert res.forecasted.scores.empty, "no accuracy claim without enough replayed quarters"


def test_no_won_deal_gives_no_forecast_and_flags_every_quota(tmp_path):
    res = _run_steps(variants.make("no_won", tmp_path / "d", reps=8), tmp_path / "out")
    assert res.forecasted.sentence.endswith(res.forecasted.notes["forecast_basis"])
    assert res.forecasted.nowcast == "" and res.forecasted.calendar == "", "nothing said about a forecast that is not shown"
    flags = res.planned.plan.quotas["flags"]
    assert flags.str.contains("set this quota by hand").all()
    reason = res.planned.plan.quotas["reason"]
    assert (
        reason.str.startswith("no quota can be set from the forecast") | reason.str.contains("held by the quarter-on-quarter cap")
    ).all()
    assert "nothing to pay against" in res.planned.notes["pay"] and res.planned.cost.empty and res.summarised.cost == ""
    # No page states a chance of attaining taken from a forecast that books nothing, nor a table of its zeros.
    for sentence in (res.planned.sentence, res.summarised.plan):
        assert "no chance of attaining them can be stated" in sentence and "expected share attaining" not in sentence
    assert res.summarised.teams_text == "" and res.summarised.notes["versus_target"] == ""
    assert res.summarised.notes["what_if"] == "With no forecast there is nothing to re-plan."
    assert res.summarised.risks[0].startswith("No deal has ever been won") and not any("chance" in r for r in res.summarised.risks)


def test_a_stale_extract_says_so_and_replays_only_the_quarters_it_covers(tmp_path):
    res = _run_steps(variants.make("stale", tmp_path / "d", reps=8), tmp_path / "out")
    assert "days before the as-of date: the extract may be stale" in res.forecasted.basis
    assert any("stale pipeline" in r for r in res.summarised.risks)
    replayed = set(res.forecasted.backtest["period"])
    assert replayed and max(replayed) <= "2026Q3", "no backtest of quarters the data do not cover"


def test_other_quota_types_say_goals_are_in_bookings_and_which_target_is_missing(tmp_path):
    case = variants.make("demo", tmp_path / "d", reps=8)
    res = _run_steps(case, tmp_path / "out", quota_type="won_deals")
    assert res.planned.notes["goals"].startswith("Goals are in bookings and these quotas count won deals")
    assert "No won deals target was given" in res.planned.notes["quota_target"]
    assert "versus_target" not in res.forecasted.notes, "the forecast page compares bookings with the bookings target"


def test_team_targets_without_a_company_target(tmp_path):
    case = variants.make("demo", tmp_path / "d", reps=8)
    targets = pd.read_csv(case.data / "targets.csv", dtype=str)
    targets[targets["team"].notna()].to_csv(case.data / "targets.csv", index=False)
    res = _run_steps(case, tmp_path / "out")
    assert "no company target was given" in res.planned.sentence and "planned against it" in res.planned.sentence
    assert "quota_target" not in res.planned.notes and "teams' targets" in res.forecasted.sentence


def test_a_target_of_zero_is_quarantined_not_planned_against(tmp_path):
    case = variants.make("demo", tmp_path / "d", reps=8)
    targets = pd.read_csv(case.data / "targets.csv", dtype=str)
    targets.loc[targets["period"].eq(case.period) & targets["team"].isna(), "target"] = "0"
    targets.to_csv(case.data / "targets.csv", index=False)
    ds = analysis.load(case.data, as_of=case.as_of)
    assert (ds.quarantine["rule"] == "targets.target.zero").sum() == 1
    res = _run_steps(case, tmp_path / "out")
    assert "no company target was given" in res.planned.sentence


def test_a_company_with_no_deal_of_a_rep_flags_that_rep(tmp_path):
    case = variants.make("demo", tmp_path / "d", reps=8)
    reps = pd.read_csv(case.data / "reps.csv", dtype=str)
    extra = reps.iloc[[0]].assign(rep_id="R9999", name="New Person", hire_date="2024-01-01", end_date="")
    pd.concat([reps, extra]).to_csv(case.data / "reps.csv", index=False)
    res = _run_steps(case, tmp_path / "out")
    q = res.planned.plan.quotas.set_index("rep_id")
    assert "no deal of their own" in q.loc["R9999", "flags"] and "no deal of their own" not in q.drop(index="R9999")["flags"].str.cat()


@hsettings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    name=st.sampled_from(sorted(set(variants.VARIANTS) - {"demo"})),
    shift=st.integers(0, 200),
    ahead=st.integers(1, 3),
    backtest=st.integers(0, 4),
    recalibrate=st.integers(0, 2),
    kind=st.sampled_from(["bookings", "won_deals"]),
)
def test_validate_ok_means_the_steps_complete(tmp_path_factory, name, shift, ahead, backtest, recalibrate, kind):
    """Property: whatever variant, as-of date, period, backtest length and quota type, if the checks ``validate``
    makes pass, every step completes and writes every output, with no unreadable text."""
    base = variants.make(name, tmp_path_factory.mktemp("v") / "data", reps=6)
    as_of = pd.Timestamp(base.as_of) + pd.Timedelta(days=shift)
    fy = base.fiscal_year_start
    period = analysis.calendar.shift_period(analysis.calendar.period_of(as_of, fy), ahead, fy)
    case = variants.Case(name, base.data, str(as_of.date()), period, fy)
    out = tmp_path_factory.mktemp("out")
    try:
        result = _run_steps(
            case, out, backtest_quarters=backtest, policy_backtest_quarters=backtest, recalibrate_quarters=recalibrate, quota_type=kind
        )
    except analysis.DataError as refused:  # refused up front is allowed; failing later is not
        assert "Fix:" in str(refused)
        return
    assert outputs.missing(out) == []
    assert not [t for t in _all_text(result) if UNREADABLE.search(t)]


# --------------------------------------------------------------------------------------------------
# The real job: notebooks executed and rendered
# --------------------------------------------------------------------------------------------------
def _check_pages(final: Path) -> dict[str, str]:
    """Every page rendered and readable; returns each page's visible text."""
    pages = {}
    for nb in report.scheduled_notebooks():
        html = (final / f"{nb.stem}.html").read_text()
        assert report.unreadable(html) == [], f"{nb.stem}: {report.unreadable(html)[:3]}"
        pages[nb.stem] = report.visible_text(html)
    return pages


def _says_why(final: Path, pages: dict[str, str]) -> None:
    """Each section the data cannot serve says so on its own page, in its own words."""
    gaps = outputs.read(final, "sections.csv")
    gaps = gaps[gaps["shown"] == "no"]
    for page, why in zip(gaps["page"], gaps["why not"], strict=True):
        assert " ".join(why.split()) in pages[page], f"{page} does not say: {why}"


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.parametrize("name", list(variants.VARIANTS))
def test_the_quarterly_job_completes_on_the_variant(name, tmp_path):
    case = variants.make(name, tmp_path / "data", reps=8)
    final = report.run(
        str(case.data),
        period=case.period,
        as_of=case.as_of,
        out=tmp_path / "reports",
        settings=Settings(fiscal_year_start=case.fiscal_year_start, draws=200),
        log=lambda *_: None,
    )
    assert outputs.missing(final) == []
    _says_why(final, _check_pages(final))


# --------------------------------------------------------------------------------------------------
# The public datasets
# --------------------------------------------------------------------------------------------------
def _public(name: str, tmp: Path) -> tuple[analysis.Dataset, Path]:
    folder, _, mapping, as_of = PUBLIC[name]
    data = variants.prepare_public(name, shared_dataset(folder), tmp / "data")
    final = report.run(
        str(data), period="next", as_of=as_of, out=tmp / "reports", mapping=mapping, settings=Settings(draws=500), log=lambda *_: None
    )
    return analysis.load(data, mapping=mapping, as_of=as_of), final


@pytest.mark.slow
@pytest.mark.shared
@pytest.mark.notebook
@pytest.mark.parametrize("name", list(PUBLIC))
def test_the_quarterly_job_completes_on_the_public_dataset(name, tmp_path):
    ds, final = _public(name, tmp_path)
    assert outputs.missing(final) == []
    _says_why(final, _check_pages(final))
    # The numbers, against an independent computation from the data the loader accepted.
    o = ds.opportunities
    won = o[o["status"] == "won"]
    quarter = won["close_date"].dt.to_period("Q").astype(str)  # calendar quarters: these runs use a January fiscal year
    want = won.groupby(quarter)["amount"].sum()
    metrics = outputs.read(final, "metrics.csv")
    got = metrics[(metrics.metric == "bookings") & (metrics.dimension == "company")].set_index("period")["value"]
    for period, value in want.items():
        assert got[period] == pytest.approx(value, rel=1e-9), period
    closed = o[o["status"] != "open"]
    rate = (closed["status"] == "won").groupby(closed["close_date"].dt.to_period("Q").astype(str)).mean()
    wr = metrics[(metrics.metric == "win_rate") & (metrics.dimension == "company")].set_index("period")["value"]
    for period, value in rate.items():
        assert wr[period] == pytest.approx(value, rel=1e-9), period
    cycle = (won["close_date"] - won["created_date"]).dt.days.groupby(quarter).median()
    mc = metrics[(metrics.metric == "median_cycle_days") & (metrics.dimension == "company")].set_index("period")["value"]
    for period, value in cycle.items():
        assert mc[period] == pytest.approx(value), period


def test_no_won_deal_still_plans_activity_quotas_from_their_own_forecast(demo_dir, tmp_path):
    import shutil

    from helpers import AS_OF

    data = tmp_path / "d"
    shutil.copytree(demo_dir, data)
    opps = pd.read_csv(data / "opportunities.csv", dtype=str)
    opps["status"] = opps["status"].replace("won", "lost")  # every win a loss; the activities stay
    opps.to_csv(data / "opportunities.csv", index=False)
    settings = Settings(draws=200, quota_type="activities")
    ds = analysis.load(data, as_of=AS_OF)
    period = preflight.run_period("next", preflight.parse_as_of(AS_OF), settings.fiscal_year_start)
    preflight.check(ds, settings, period)
    res = steps.run_all(ds, settings, period, tmp_path / "out")
    assert "forecast_basis" in res.summarised.notes  # the bookings forecast is still not shown
    for sentence in (res.planned.sentence, res.summarised.plan):
        assert "no chance of attaining them can be stated" not in sentence and "chance" in sentence
