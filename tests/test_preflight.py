"""What can never work is refused before anything runs, with one message naming the setting or table; what
``validate`` accepts, ``run`` completes (the zoo tests check that half)."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

import analysis
from analysis import demo, preflight
from analysis.config import Settings
from analysis.data import DataError
from helpers import AS_OF


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analysis", *args], capture_output=True, text=True)


@pytest.mark.parametrize(
    "text, words",
    [
        ("", "is not a date written YYYY-MM-DD"),
        ("2026-13-45", "is not a calendar date"),
        ("yesterday", "is not a date written YYYY-MM-DD"),
        ("2026/01/05", "YYYY-MM-DD"),
    ],
)
def test_an_as_of_that_is_not_a_date_is_named(text, words):
    with pytest.raises(DataError) as err:
        preflight.parse_as_of(text)
    assert "setting 'as_of' (--as-of)" in str(err.value) and words in str(err.value)


def test_as_of_parses_iso_days_and_defaults_to_today():
    assert preflight.parse_as_of("2026-02-28") == pd.Timestamp("2026-02-28")
    assert preflight.parse_as_of(None) == pd.Timestamp.today().normalize()


@pytest.mark.parametrize(
    "label, fy, ok",
    [
        ("next", 1, "2027Q1"),
        ("2026Q4", 1, "2026Q4"),  # the quarter under way may be planned
        ("2026Q3", 1, None),
        ("2020Q1", 1, None),  # not after the last complete quarter
        ("2028Q4", 1, "2028Q4"),
        ("2029Q1", 1, None),  # eight quarters ahead at most
        ("2027Q4", 4, "2027Q4"),
        ("2027Q2", 4, None),
        ("2026q1", 1, None),
        ("Q1", 1, None),  # April start: 2026-11-15 is in 2027Q3
    ],
)
def test_the_period_must_lie_after_the_last_complete_quarter_and_not_too_far(label, fy, ok):
    as_of = pd.Timestamp(AS_OF)
    if ok:
        assert preflight.run_period(label, as_of, fy) == ok
    else:
        with pytest.raises(DataError) as err:
            preflight.run_period(label, as_of, fy)
        assert "setting 'period'" in str(err.value)


def test_a_quarter_end_as_of_makes_that_quarter_complete():
    with pytest.raises(DataError, match="not after 2026Q3"):
        preflight.run_period("2026Q3", pd.Timestamp("2026-09-30"), 1)
    assert preflight.run_period("next", pd.Timestamp("2026-09-30"), 1) == "2026Q4"


@pytest.mark.parametrize(
    "overrides, words",
    [
        ({"draws": "abc"}, "draws must be a whole number"),
        ({"draws": 5}, "from 100"),
        ({"attainment_share": 1.5}, "attainment_share"),
        ({"backtest_quarters": -1}, "backtest_quarters"),
        ({"colour": "red"}, "unknown setting"),
        ({"fiscal_year_start": 13}, "use --fiscal-year-start"),
        ({"period": "2027Q1"}, "use --period"),
        ({"data": "x"}, "use --data"),
        ({"ramp_schedule": "fast"}, "ramp_schedule"),
    ],
)
def test_every_param_is_checked_before_the_run(overrides, words):
    with pytest.raises(DataError) as err:
        preflight.settings_with(Settings(), overrides)
    assert words in str(err.value)


def test_settings_accept_zero_backtest_quarters_and_no_cap():
    s = preflight.settings_with(Settings(), {"backtest_quarters": 0, "policy_backtest_quarters": 0, "max_quota_change": None})
    assert s.backtest_quarters == 0 and s.max_quota_change is None


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny")
    demo.write(demo.generate(seed=5, reps=6, years=1, as_of=AS_OF, activities=False), folder)
    return folder


def _problems(ds, **settings) -> str:
    return "\n".join(map(str, preflight.problems(ds, Settings(**settings), "2027Q1")))


def test_a_usable_source_has_no_problems(tiny):
    assert preflight.problems(analysis.load(tiny, as_of=AS_OF), Settings(), "2027Q1") == []


def test_no_usable_opportunity_is_refused_with_the_reasons(tiny, tmp_path):
    opps = pd.read_csv(tiny / "opportunities.csv", dtype=str)
    pd.read_csv(tiny / "reps.csv", dtype=str).to_csv(tmp_path / "reps.csv", index=False)
    opps.assign(owner_id="nobody").to_csv(tmp_path / "opportunities.csv", index=False)
    text = _problems(analysis.load(tmp_path, as_of=AS_OF))
    assert "no opportunity is usable" in text and "owner_id is not a usable rep" in text and "opportunities.csv" in text


def test_an_as_of_before_the_data_says_so(tiny):
    text = _problems(analysis.load(tiny, as_of="2020-01-01"))
    assert "no opportunity is usable" in text and "is before the data (first created_date" in text


def test_no_rep_employed_at_the_as_of_date(tiny, tmp_path):
    for name in ("opportunities", "reps"):
        frame = pd.read_csv(tiny / f"{name}.csv", dtype=str)
        if name == "reps":
            frame["end_date"] = "2026-10-01"
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    assert "no rep is employed at the as-of date" in _problems(analysis.load(tmp_path, as_of=AS_OF))


def test_a_quota_type_the_data_cannot_count_and_an_unreadable_pay_plan(tiny, tmp_path):
    ds = analysis.load(tiny, as_of=AS_OF)
    assert "optional table 'activities'" in _problems(ds, quota_type="activities")
    assert "setting 'comp_plan'" in _problems(ds, comp_plan=str(tmp_path / "nope.yaml"))


def test_validate_and_run_refuse_the_same_settings_with_exit_2(tiny, tmp_path):
    out = tmp_path / "reports"
    for args in (
        ["--period", "2020Q1"],
        ["--period", "2035Q1"],
        ["--fiscal-year-start", "13"],
        ["--fiscal-year-start", "0"],
        ["--as-of", ""],
        ["--as-of", "2026-13-45"],
        ["--param", "draws=0"],
        ["--param", "quota_type=activities"],
        ["--as-of", "2019-01-01"],
    ):
        base = ["--data", str(tiny), *(["--as-of", AS_OF] if "--as-of" not in args else []), *args]
        v = cli("validate", *base)
        r = cli("run", *base, "--out", str(out))
        assert v.returncode == 2 and r.returncode == 2, (args, v.stderr, r.stderr)
        assert "Traceback" not in v.stderr + r.stderr and "Fix:" in v.stderr
        assert not out.exists() or not any(out.glob("*/*.html")), "a refused run leaves no report behind"


def test_validate_says_the_run_will_complete(tiny):
    res = cli("validate", "--data", str(tiny), "--as-of", AS_OF, "--period", "next")
    assert res.returncode == 0 and "planning 2027Q1" in res.stdout and "will complete" in res.stdout
    assert "Report sections" in res.stdout
