"""Calendar periods (issue 21): this month so far, last month, any YYYY-MM, and what each compares with."""

from __future__ import annotations

from datetime import date

import pytest

from grafient_tui.errors import ConfigError
from grafient_tui.spans import choice, choices, month, rolling

TODAY = date(2026, 12, 7)


def test_this_month_runs_to_today_and_compares_with_the_same_days_of_last_month() -> None:
    this = month("2026-12", TODAY)
    assert (this.key, this.since, this.until, this.to_date) == ("this-month", date(2026, 12, 1), TODAY, True)
    assert (this.previous_since, this.previous_until) == (date(2026, 11, 1), date(2026, 11, 7))
    assert this.label == "this month (Dec 2026, to date)"


def test_a_whole_month_compares_with_the_whole_month_before() -> None:
    march = month("2026-03", TODAY)
    assert (march.since, march.until, march.days) == (date(2026, 3, 1), date(2026, 3, 31), 31)
    assert (march.previous_since, march.previous_until) == (date(2026, 2, 1), date(2026, 2, 28))
    assert not march.to_date and march.month == "2026-03"
    assert choice("last-month", TODAY).label == "last month (Nov 2026)"
    # the month so far on the 31st keeps the month before's last day as its match
    assert month("2026-03", date(2026, 3, 31)).previous_until == date(2026, 2, 28)


def test_rolling_periods_compare_with_the_days_just_before() -> None:
    thirty = rolling(30, TODAY)
    assert (thirty.since, thirty.previous_since, thirty.previous_until) == (
        date(2026, 11, 8),
        date(2026, 10, 9),
        date(2026, 11, 7),
    )
    assert thirty.month is None


def test_the_choice_offers_months_back_to_the_first_stored_day() -> None:
    keys = [c.key for c in choices(TODAY, earliest=date(2026, 9, 14))]
    assert keys == ["7", "30", "90", "this-month", "last-month", "2026-10", "2026-09"]
    assert [c.key for c in choices(TODAY)] == ["7", "30", "90", "this-month", "last-month"]


@pytest.mark.parametrize("text", ["2026-13", "2026-1", "26-01", "december", "2027-01", "1969-12"])
def test_a_month_that_is_not_one_or_still_to_come_is_one_sentence(text: str) -> None:
    with pytest.raises(ConfigError):
        month(text, TODAY)


def test_a_month_so_far_is_forecast_to_its_last_day_and_others_are_not() -> None:
    assert month("2026-12", TODAY).forecast_until == date(2026, 12, 31)
    assert month("2026-02", date(2026, 2, 10)).forecast_until == date(2026, 2, 28)
    assert month("2026-11", TODAY).forecast_until is None and rolling(30, TODAY).forecast_until is None
    assert rolling(30, TODAY).previous is None
    assert month("2026-11", TODAY).previous == (date(2026, 10, 1), date(2026, 10, 31))
