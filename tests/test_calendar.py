import pandas as pd
import pytest

from analysis import calendar


def test_calendar_quarters_with_january_start():
    assert calendar.period_of(pd.Timestamp("2026-03-31")) == "2026Q1"
    assert calendar.period_of(pd.Timestamp("2026-04-01")) == "2026Q2"
    assert calendar.period_bounds("2026Q4") == (pd.Timestamp("2026-10-01"), pd.Timestamp("2026-12-31"))
    assert calendar.next_period("2026-11-24") == "2027Q1"


@pytest.mark.parametrize(
    ("start", "date", "label", "first", "last"),
    [
        (2, "2026-02-01", "2027Q1", "2026-02-01", "2026-04-30"),  # named by the year the fiscal year ends
        (2, "2026-01-31", "2026Q4", "2025-11-01", "2026-01-31"),
        (4, "2026-03-31", "2026Q4", "2026-01-01", "2026-03-31"),
        (7, "2026-07-01", "2027Q1", "2026-07-01", "2026-09-30"),
        (10, "2026-12-31", "2027Q1", "2026-10-01", "2026-12-31"),
    ],
)
def test_fiscal_year_start(start, date, label, first, last):
    assert calendar.period_of(pd.Timestamp(date), start) == label
    assert calendar.period_bounds(label, start) == (pd.Timestamp(first), pd.Timestamp(last))


def test_every_day_falls_in_exactly_the_quarter_whose_bounds_contain_it():
    days = pd.Series(pd.date_range("2024-01-01", "2027-12-31", freq="D"))
    for start in (1, 2, 5, 11):
        labels = calendar.period_of(days, start)
        for label in labels.unique():
            lo, hi = calendar.period_bounds(label, start)
            inside = days[labels == label]
            assert inside.min() >= lo and inside.max() <= hi
            assert (hi - lo).days in range(88, 92)


def test_period_helpers_and_errors():
    assert calendar.period_range("2025Q3", "2026Q2") == ["2025Q3", "2025Q4", "2026Q1", "2026Q2"]
    assert calendar.shift_period("2026Q1", -1) == "2025Q4"
    assert calendar.resolve_period("next", today="2026-03-31") == "2026Q2"
    assert calendar.resolve_period("2030Q4") == "2030Q4"
    for bad in ["2026Q5", "2026-Q1", "Q1 2026", ""]:
        with pytest.raises(ValueError, match="fiscal quarter"):
            calendar.to_period(bad)
    with pytest.raises(ValueError, match="month 1-12"):
        calendar.quarter_freq(13)


def test_last_complete_period_counts_a_quarter_complete_at_the_end_of_its_last_day():
    assert calendar.last_complete_period("2017-12-31") == "2017Q4"
    assert calendar.last_complete_period("2017-12-30") == "2017Q3"
    assert calendar.last_complete_period("2026-11-15") == "2026Q3"
    assert calendar.last_complete_period("2026-01-31", fiscal_year_start=2) == "2026Q4"


def test_period_labels_by_quarter_or_month_and_the_periods_between():
    days = pd.Series(pd.to_datetime(["2026-01-31", None, "2026-02-01", "2025-12-31"]))
    assert calendar.period_labels(days, "Q").tolist()[::2] == ["2026Q1", "2026Q1"]
    assert calendar.period_labels(days, "M").tolist()[::2] == ["2026-01", "2026-02"]
    assert calendar.period_labels(days, "M").isna().tolist() == [False, True, False, False]
    assert calendar.periods_between(pd.Timestamp("2025-12-31"), pd.Timestamp("2026-04-01 13:00"), "Q") == ["2025Q4", "2026Q1", "2026Q2"]
    assert calendar.periods_between(pd.Timestamp("2025-12-31"), pd.Timestamp("2026-02-01"), "M") == ["2025-12", "2026-01", "2026-02"]
    assert calendar.periods_between(pd.Timestamp("2026-01-31"), pd.Timestamp("2026-02-01"), "Q", 2) == ["2026Q4", "2027Q1"]
    # Same as listing the label of every day in between (how the metrics table used to do it).
    every_day = calendar.period_labels(pd.Series(pd.date_range("2024-11-17", "2026-11-15")), "M").unique().tolist()
    assert calendar.periods_between(pd.Timestamp("2024-11-17"), pd.Timestamp("2026-11-15"), "M") == every_day
    with pytest.raises(ValueError, match="freq"):
        calendar.period_labels(days, "W")
