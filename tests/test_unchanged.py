"""Behaviour unchanged: the demo job's tables against the fingerprints committed in tests/golden/demo-run.json.

A refactoring, a speed-up or a split of modules must leave every table as it was: numbers within 1e-9 relative
(sums taken in another order may differ in the last digits), everything else exactly. A change meant to change the
numbers remakes the fingerprints with ``python tests/golden.py`` and says so in its commit.
"""

from __future__ import annotations

import json

import pytest

from golden import GOLDEN, demo_run


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> dict:
    return demo_run(tmp_path_factory.mktemp("unchanged"))


def test_the_demo_job_writes_the_same_tables(fresh):
    golden = json.loads(GOLDEN.read_text())
    assert sorted(fresh) == sorted(golden)


@pytest.mark.parametrize("table", sorted(json.loads(GOLDEN.read_text())))
def test_each_table_is_as_it_was(fresh, table):
    want, got = json.loads(GOLDEN.read_text())[table], fresh[table]
    assert got["rows"] == want["rows"], f"{table}: {got['rows']} rows, {want['rows']} before"
    assert list(got["columns"]) == list(want["columns"]), f"{table}: columns changed"
    for name, w in want["columns"].items():
        g = got["columns"][name]
        if "hash" in w:
            assert g == w, f"{table}.{name}: the values changed"
        else:
            assert g["missing"] == w["missing"], f"{table}.{name}: missing values changed"
            for key in ("sum", "sumsq"):
                assert g[key] == pytest.approx(w[key], rel=1e-9, abs=1e-9), f"{table}.{name}: {key} {g[key]} != {w[key]}"
