"""The command line as a user runs it: a subprocess, exit codes, what it prints and writes."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd

from analysis import demo
from helpers import AS_OF


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analysis", *args], capture_output=True, text=True)


def test_validate_prints_a_summary_and_writes_the_quarantine(dirty_dir, tmp_path):
    out = tmp_path / "check"
    res = run("validate", "--data", str(dirty_dir), "--as-of", AS_OF, "--out", str(out))
    assert res.returncode == 0, res.stderr
    for table in ("opportunities", "reps", "stage_history", "spend", "leads", "quotas", "goals", "targets", "activities"):
        assert table in res.stdout
    assert "close_date is before created_date" in res.stdout
    n_bad = sum(demo.DIRTY_ROWS.values())
    assert f"{n_bad:,} quarantined" in res.stdout
    q = pd.read_csv(out / "quarantine.csv")
    assert list(q.columns[:5]) == ["table", "file", "source_row", "column", "value"] and len(q) == n_bad
    acc = pd.read_csv(out / "accounting.csv")
    assert (acc.rows_in == acc.rows_used + acc.rows_quarantined).all() and acc.rows_quarantined.sum() == n_bad


def test_validate_exit_code_2_with_every_table_problem(tmp_path):
    pd.DataFrame({"opportunity_id": ["x"]}).to_csv(tmp_path / "opportunities.csv", index=False)
    res = run("validate", "--data", str(tmp_path))
    assert res.returncode == 2
    assert "required table 'reps' is missing" in res.stderr
    for col in ("owner_id", "created_date", "close_date", "status", "amount"):
        assert f"column '{col}'" in res.stderr
    assert "Traceback" not in res.stderr


def test_missing_folder_and_bad_date_are_clear(tmp_path):
    res = run("validate", "--data", str(tmp_path / "nope"))
    assert res.returncode == 2 and "no such folder" in res.stderr
    res = run("demo-data", str(tmp_path / "d"), "--as-of", "someday")
    assert res.returncode != 0 and "Traceback" not in res.stderr


def test_demo_data_command_writes_a_loadable_company(tmp_path):
    res = run("demo-data", str(tmp_path / "d"), "--seed", "2", "--reps", "6", "--years", "1", "--as-of", AS_OF, "--format", "parquet")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "d" / "opportunities.parquet").exists() and (tmp_path / "d" / "demo.json").exists()
    res = run("validate", "--data", str(tmp_path / "d"), "--as-of", AS_OF)
    assert res.returncode == 0 and ", 0 quarantined" in res.stdout


def test_run_settings_config_file_then_command_line(tmp_path):
    from analysis.cli import _parser, run_settings

    cfg = tmp_path / "s.yaml"
    cfg.write_text("fiscal_year_start: 2\noverassignment: 0.2\n")
    args = _parser().parse_args(["run", "--data", "x", "--config", str(cfg)])
    assert run_settings(args).fiscal_year_start == 2 and run_settings(args).overassignment == 0.2
    args = _parser().parse_args(["run", "--data", "x", "--config", str(cfg), "--fiscal-year-start", "4"])
    assert run_settings(args).fiscal_year_start == 4
    assert run_settings(_parser().parse_args(["run", "--data", "x"])).fiscal_year_start == 1
