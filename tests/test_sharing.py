"""What a run shares instead of recomputing: the data loaded once for every notebook, past quarters' calibration
rows computed once for every backtest, and notebooks run side by side only where they do not depend on each other."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

import analysis
from analysis import demo as demo_data
from analysis import forecast, report, worlds
from analysis.data import LOADED_SUFFIX, Memo, save_loaded
from analysis.pipeline_model import PipelineForecaster
from analysis.reliability import calibration
from analysis.stages import order_stage_history, stage_sequence

AS_OF = "2026-11-15"


@pytest.fixture(scope="module")
def demo(demo_dir) -> analysis.Dataset:
    return analysis.load(demo_dir, as_of=AS_OF)


def _tables_equal(a: analysis.Dataset, b: analysis.Dataset) -> None:
    assert a.as_of_date == b.as_of_date
    assert set(a.tables) == set(b.tables)
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name], check_exact=True, obj=name)


@pytest.mark.parametrize(("later", "earlier"), [("2026-06-30", "2026-03-31"), ("2026-09-30", "2025-12-31"), ("2026-08-15", "2026-08-14")])
def test_a_snapshot_of_a_snapshot_is_the_snapshot_of_the_data(demo, later, earlier):
    # What sharing past quarters' results between backtests rests on: the data as they stood at ``earlier``, seen
    # from a later snapshot, are the data as they stood at ``earlier``.
    _tables_equal(demo.as_of(later).as_of(earlier), demo.as_of(earlier))


def test_a_snapshot_of_a_snapshot_is_the_snapshot_of_the_data_in_a_world_with_long_cycles(tmp_path):
    world = worlds.build(worlds.sample_spec(4, quarters=8))
    demo_data.write(world.tables(), tmp_path)
    ds = analysis.load(tmp_path, as_of=world.as_of)
    last = ds.as_of_date
    for months_later, months_earlier in [(2, 5), (4, 13), (1, 2)]:
        later, earlier = last - pd.DateOffset(months=months_later), last - pd.DateOffset(months=months_earlier)
        _tables_equal(ds.as_of(later).as_of(earlier), ds.as_of(earlier))


def _reference_snapshot_stages(ds: analysis.Dataset, d: pd.Timestamp) -> pd.Series:
    """Each visible deal's stage at ``d``, the plain way: the history seen then, sorted by deal, day and funnel place
    (:func:`analysis.stages.order_stage_history` on that history alone), each deal's last row."""
    opps = ds.opportunities[ds.opportunities["created_date"] <= d]
    stage = opps["stage"].where(~(opps["close_date"] > d), "unknown")
    seen = ds.stage_history[ds.stage_history["entered_date"] <= d]
    last = order_stage_history(seen, opps).drop_duplicates("opportunity_id", keep="last").set_index("opportunity_id")["stage"]
    has = opps["opportunity_id"].isin(ds.stage_history["opportunity_id"])
    stage = stage.where(~has, opps["opportunity_id"].map(last).fillna("unknown"))
    return pd.Series(stage.to_numpy(), index=opps["opportunity_id"].to_numpy())


def test_snapshot_stages_are_the_last_stage_seen_read_the_plain_way(demo):
    for d in pd.to_datetime(["2025-03-31", "2026-02-14", "2026-06-30", "2026-11-01"]):
        got = demo.as_of(d).opportunities.set_index("opportunity_id")["stage"]
        want = _reference_snapshot_stages(demo, d)
        assert (got.to_numpy() == want.loc[got.index].to_numpy()).all(), d
        assert len(got) == len(want)


def test_snapshot_stages_break_same_day_ties_by_funnel_place_and_skip_deals_not_yet_created():
    opps = pd.DataFrame(
        {
            "opportunity_id": ["a", "b", "c"],
            "created_date": pd.to_datetime(["2026-01-01", "2026-01-05", "2026-03-01"]),
            "close_date": pd.to_datetime(["2026-02-20", pd.NaT, pd.NaT]),
            "status": ["won", "open", "open"],
            "stage": ["Closed Won", "Proposal", "Qualify"],
        }
    )
    history = pd.DataFrame(
        {  # rows out of order; b enters two stages on one day (Proposal after Qualify in the funnel); c's first row
            # is dated before the deal was created (a data slip) and must not count before the deal exists
            "opportunity_id": ["b", "a", "b", "a", "c", "b", "zz"],
            "stage": ["Proposal", "Qualify", "Qualify", "Closed Won", "Qualify", "Negotiate", "Qualify"],
            "entered_date": pd.to_datetime(
                ["2026-01-10", "2026-01-01", "2026-01-10", "2026-02-20", "2026-01-20", "2026-02-25", "2026-01-02"]
            ),
        }
    )
    ds = analysis.Dataset(
        tables={"opportunities": opps, "stage_history": history, "reps": _no_reps()},
        quarantine=pd.DataFrame(),
        accounting=pd.DataFrame(),
        as_of_date=pd.Timestamp("2026-04-01"),
    )
    for d in pd.to_datetime(["2026-01-09", "2026-01-10", "2026-02-19", "2026-02-20", "2026-03-01", "2026-04-01"]):
        got = ds.as_of(d).opportunities.set_index("opportunity_id")["stage"]
        want = _reference_snapshot_stages(ds, d)
        assert got.to_dict() == want.to_dict(), d
    assert ds.as_of("2026-01-10").opportunities.set_index("opportunity_id")["stage"].to_dict() == {"a": "Qualify", "b": "Proposal"}
    assert ds.as_of("2026-02-19").opportunities.set_index("opportunity_id")["stage"]["a"] == "Qualify"  # closed later


def _no_reps() -> pd.DataFrame:
    return pd.DataFrame(
        {"rep_id": pd.Series(dtype="str"), "hire_date": pd.Series(dtype="datetime64[us]"), "end_date": pd.Series(dtype="datetime64[us]")}
    )


def test_shared_calibration_rows_equal_the_rows_computed_afresh(demo_dir):
    def make() -> PipelineForecaster:
        return PipelineForecaster(draws=10, seed=0)

    shared = analysis.load(demo_dir, as_of=AS_OF)
    whole = calibration(shared, 4, make)  # fills the memo every snapshot of ``shared`` reads
    assert len(shared.memo) >= 3
    snap = shared.as_of("2026-06-30")
    assert snap.memo is shared.memo
    from_memo = calibration(snap, 3, make)
    fresh = calibration(analysis.load(demo_dir, as_of=AS_OF).as_of("2026-06-30"), 3, make)  # its own, empty memo
    pd.testing.assert_frame_equal(from_memo, fresh, check_exact=True)
    assert set(fresh["period"]) <= set(whole["period"]) | {"2026Q2"}


def test_the_loaded_data_are_read_back_as_they_were(demo, tmp_path):
    path = save_loaded(demo, tmp_path / f"data{LOADED_SUFFIX}")
    back = analysis.load(path, as_of=AS_OF)
    _tables_equal(back, demo)
    pd.testing.assert_frame_equal(back.quarantine, demo.quarantine)
    assert back.source == demo.source


def test_loaded_data_of_another_date_are_refused_naming_the_file(demo, tmp_path):
    path = save_loaded(demo, tmp_path / f"data{LOADED_SUFFIX}")
    with pytest.raises(ValueError, match=f"data{LOADED_SUFFIX} holds data loaded as of 2026-11-15.*not as of 2026-11-30"):
        analysis.load(path, as_of="2026-11-30")


def test_notebooks_wait_only_for_the_notebooks_whose_tables_they_read():
    notebooks = report.scheduled_notebooks()
    waits = report.needs(notebooks)
    assert waits["10-check-data"] == waits["20-measure-pipeline"] == waits["30-forecast-bookings"] == set()
    assert waits["40-recommend-quotas"] == {"20-measure-pipeline", "30-forecast-bookings"}
    assert waits["50-summarise-for-leadership"] == {"10-check-data", "20-measure-pipeline", "30-forecast-bookings", "40-recommend-quotas"}
    extra = report.needs([*notebooks, Path("60-my-own.ipynb")])
    assert extra["60-my-own"] == {nb.stem for nb in notebooks}  # a notebook the run does not know waits for all


def test_every_scheduled_notebook_is_declared_with_what_it_needs():
    assert {nb.stem for nb in report.scheduled_notebooks()} == set(report.NEEDS)


def test_the_policy_backtest_replays_the_forecast_backtests_draws_instead_of_refitting(demo_dir, monkeypatch):
    from analysis import backtest, quota

    ds = analysis.load(demo_dir, as_of=AS_OF)

    def make() -> PipelineForecaster:
        return quota.forecaster_for("bookings", 300, 0)

    backtest.backtest(ds, n=3, make=make)
    expected = quota.policy_backtest(analysis.load(demo_dir, as_of=AS_OF), n=3, make=make)  # fitted afresh

    def refuse(self, data):
        raise AssertionError("refitted although the backtest's draws were there")

    monkeypatch.setattr(PipelineForecaster, "fit", refuse)
    replayed = quota.policy_backtest(ds, n=3, make=make)
    pd.testing.assert_frame_equal(replayed, expected, check_exact=True)
    assert len(replayed) > 0


def test_results_shared_between_notebooks_go_through_the_run_folder_and_are_read_back(demo, tmp_path):
    path = save_loaded(demo, tmp_path / f"data{LOADED_SUFFIX}")
    first = analysis.load(path, as_of=AS_OF)
    first.memo[("answer", 1)] = pd.DataFrame({"x": [1.5]})
    second = analysis.load(path, as_of=AS_OF)  # another notebook's kernel
    assert ("answer", 1) in second.memo
    pd.testing.assert_frame_equal(second.memo[("answer", 1)], pd.DataFrame({"x": [1.5]}))
    assert ("answer", 2) not in second.memo
    assert ("answer", 1) not in demo.memo  # data loaded from the source share nothing on disk


def test_kernels_run_their_numeric_libraries_on_one_thread_unless_the_user_said_otherwise(tmp_path, monkeypatch):
    import nbformat
    import papermill as pm

    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.setenv("MKL_NUM_THREADS", "4")  # the user's own setting stands
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("import os\nprint(os.environ['OPENBLAS_NUM_THREADS'], os.environ['MKL_NUM_THREADS'])")]
    nbformat.write(nb, tmp_path / "env.ipynb")
    pm.execute_notebook(
        str(tmp_path / "env.ipynb"),
        str(tmp_path / "out.ipynb"),
        kernel_name="python3",
        cwd=str(tmp_path),
        progress_bar=False,
        kernel_manager_class="analysis.report.LocalKernelManager",
    )
    out = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    assert out.cells[0].outputs[0]["text"].split() == ["1", "4"]


def test_the_forecast_on_two_threads_is_the_forecast_on_one(demo, monkeypatch):
    # Each simulation draws from its own seeded stream, so running them side by side changes no number.
    monkeypatch.setattr(forecast, "THREADED_FROM", 0)  # the demo is below the size that gets threads
    monkeypatch.setattr(forecast, "THREADS", 1)
    one = forecast.forecast_report(demo, "2027Q1", horizon=2, draws=300, backtest_quarters=3)
    monkeypatch.setattr(forecast, "THREADS", 2)
    two = forecast.forecast_report(analysis.load(demo.source, as_of=AS_OF), "2027Q1", horizon=2, draws=300, backtest_quarters=3)
    pd.testing.assert_frame_equal(one.table, two.table, check_exact=True)
    pd.testing.assert_frame_equal(one.backtest, two.backtest, check_exact=True)
    assert one.pipeline_method == two.pipeline_method
    assert (one.sims.draws == two.sims.draws).all()


def test_threads_writing_the_same_result_to_a_run_memo_do_not_collide(tmp_path):
    memo = Memo(tmp_path / "memo")

    def write(i: int) -> None:
        for k in range(30):
            memo[("same", k)] = {"value": k}

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(write, range(4)))
    fresh = Memo(tmp_path / "memo")
    assert all(fresh[("same", k)] == {"value": k} for k in range(30))
    assert not list((tmp_path / "memo").glob("*.part"))


def test_the_timeline_reads_stage_history_in_the_order_stage_sequence_gives(demo):
    order, deal, codes, names = demo.timeline.sequence()
    want_order, want_deal, want_codes = stage_sequence(demo.stage_history, demo.opportunities)
    assert (order == want_order).all() and (deal == want_deal).all() and (codes == want_codes).all()
    assert list(names) == sorted(demo.stage_history["stage"].unique())
