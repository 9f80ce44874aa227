"""The pure budget rules, with frozen dates: period bounds (calendar month, billing cycles from the
31st and from a leap day), the forecast against hand computations, status, thresholds, amounts."""

from __future__ import annotations

import calendar
import subprocess
import sys
from datetime import date, timedelta

import pytest

from grafient_tui.budgets import (
    Forecast,
    crossed,
    cycle_bounds,
    forecast,
    month_bounds,
    parse_amount,
    period_bounds,
    status_of,
)
from grafient_tui.budgets.wording import bar, gauge_text, in_words
from grafient_tui.errors import ConfigError
from tests.helpers import PATIENCE

DOLLAR = 100_000_000  # micro-cents


# ------------------------------------------------------------------ bounds


@pytest.mark.parametrize(
    ("today", "start", "end", "day", "days"),
    [
        (date(2026, 11, 24), date(2026, 11, 1), date(2026, 11, 30), 24, 30),
        (date(2026, 12, 31), date(2026, 12, 1), date(2026, 12, 31), 31, 31),
        (date(2028, 2, 12), date(2028, 2, 1), date(2028, 2, 29), 12, 29),  # a leap February
        (date(2027, 2, 28), date(2027, 2, 1), date(2027, 2, 28), 28, 28),
    ],
)
def test_the_calendar_month(today: date, start: date, end: date, day: int, days: int) -> None:
    bounds = month_bounds(today)
    assert (bounds.start, bounds.end, bounds.day_of(today), bounds.days) == (start, end, day, days)
    assert bounds.resets == end + timedelta(days=1) and not bounds.follows_cycle


@pytest.mark.parametrize(
    ("today", "start", "end"),
    [
        # anchored on the 31st: clamped to shorter months, and back to the 31st when the month has one
        (date(2026, 1, 31), date(2026, 1, 31), date(2026, 2, 27)),
        (date(2026, 2, 10), date(2026, 1, 31), date(2026, 2, 27)),
        (date(2026, 2, 28), date(2026, 2, 28), date(2026, 3, 30)),
        (date(2026, 3, 30), date(2026, 2, 28), date(2026, 3, 30)),
        (date(2026, 3, 31), date(2026, 3, 31), date(2026, 4, 29)),
        (date(2026, 4, 30), date(2026, 4, 30), date(2026, 5, 30)),
        (date(2026, 12, 31), date(2026, 12, 31), date(2027, 1, 30)),
        (date(2027, 1, 1), date(2026, 12, 31), date(2027, 1, 30)),
        (date(2028, 2, 29), date(2028, 2, 29), date(2028, 3, 30)),  # a leap year's February ends on the 29th
        (date(2028, 2, 28), date(2028, 1, 31), date(2028, 2, 28)),
    ],
)
def test_a_cycle_anchored_on_the_31st(today: date, start: date, end: date) -> None:
    bounds = cycle_bounds(date(2025, 10, 31), today)
    assert (bounds.start, bounds.end) == (start, end)
    assert bounds.follows_cycle


@pytest.mark.parametrize(
    ("today", "start", "end"),
    [
        (date(2024, 3, 5), date(2024, 2, 29), date(2024, 3, 28)),
        (date(2025, 2, 28), date(2025, 2, 28), date(2025, 3, 28)),  # no 29th in 2025: the 28th
        (date(2025, 2, 27), date(2025, 1, 29), date(2025, 2, 27)),
        (date(2028, 2, 29), date(2028, 2, 29), date(2028, 3, 28)),
    ],
)
def test_a_cycle_anchored_on_a_leap_day(today: date, start: date, end: date) -> None:
    assert (cycle_bounds(date(2024, 2, 29), today).start, cycle_bounds(date(2024, 2, 29), today).end) == (start, end)


def test_cycles_tile_every_day_for_every_anchor_day() -> None:
    """Over four years (a leap year among them) and every anchor day, each day lies in exactly one
    cycle, cycles follow each other without a gap, and each starts on the anchor day or its month's end."""
    first = date(2027, 1, 1)
    for anchor_day in range(1, 32):
        anchor = date(2025, 1, anchor_day)
        previous = None
        for offset in range(4 * 366):
            today = first + timedelta(days=offset)
            bounds = cycle_bounds(anchor, today)
            assert bounds.start <= today <= bounds.end
            assert 28 <= bounds.days <= 31
            assert bounds.start.day == min(anchor_day, calendar.monthrange(bounds.start.year, bounds.start.month)[1])
            if previous is not None and previous != bounds:
                assert bounds.start == previous.resets
            previous = bounds


def test_an_anchor_in_the_future_still_gives_the_cycle_holding_today() -> None:
    assert (
        cycle_bounds(date(2030, 5, 15), date(2026, 11, 3)).start,
        cycle_bounds(date(2030, 5, 15), date(2026, 11, 3)).end,
    ) == (date(2026, 10, 15), date(2026, 11, 14))


def test_a_cycle_without_an_anchor_is_the_calendar_month() -> None:
    bounds = period_bounds("cycle", date(2026, 11, 24), None)
    assert (bounds.start, bounds.end, bounds.follows_cycle) == (date(2026, 11, 1), date(2026, 11, 30), False)
    assert period_bounds("month", date(2026, 11, 24), date(2025, 1, 9)) == month_bounds(date(2026, 11, 24))
    with pytest.raises(ValueError):
        period_bounds("week", date(2026, 11, 24))


# ------------------------------------------------------------------ forecast


def test_the_forecast_by_hand() -> None:
    # Nov 24: $370 through yesterday, today so far $3; the 14 days before today averaged $20,
    # and 7 days are left with today: 370 + 20 x 7 = 510
    result = forecast(
        spent_through_yesterday=370 * DOLLAR, spent=373 * DOLLAR, complete_day_costs=[20 * DOLLAR] * 14, days_left=7
    )
    assert result == Forecast(micro=510 * DOLLAR, complete_days=14, average_micro=20 * DOLLAR)
    assert result.ready and result.note is None


def test_the_forecast_rounds_once_and_exactly() -> None:
    # average 10/3 micro-cents a day over 3 days left: 10 exactly, not 3.33 rounded then tripled
    costs = [3, 3, 4, 3, 3, 4, 3, 3, 4]
    result = forecast(spent_through_yesterday=100, spent=100, complete_day_costs=costs, days_left=3)
    assert result.micro == 100 + round(30 * 3 / 9)  # 110


def test_seven_complete_days_are_enough_and_six_are_not() -> None:
    ready = forecast(spent_through_yesterday=0, spent=0, complete_day_costs=[DOLLAR] * 7, days_left=10)
    assert ready.micro == 10 * DOLLAR
    not_ready = forecast(spent_through_yesterday=0, spent=0, complete_day_costs=[DOLLAR] * 6, days_left=10)
    assert not_ready.micro is None and not not_ready.ready
    assert not_ready.note == "6 of the 7 complete days it needs among the last 14"


def test_the_forecast_is_never_below_what_is_already_spent() -> None:
    # a quiet fortnight, then a $400 morning: the period cannot end below $400
    result = forecast(spent_through_yesterday=0, spent=400 * DOLLAR, complete_day_costs=[0] * 14, days_left=5)
    assert result.micro == 400 * DOLLAR


# ------------------------------------------------------------------ status and thresholds


@pytest.mark.parametrize(
    ("spent", "forecast_usd", "status", "thresholds"),
    [
        (100, None, "ok", ()),
        (250, None, "ok", ("50",)),
        (400, 490, "ok", ("50", "80")),
        (400, 501, "forecast_over", ("50", "80", "forecast")),
        (500, 700, "over", ("50", "80", "100", "forecast")),  # exactly the budget is used up
        (499.99, None, "ok", ("50", "80")),
        (620, None, "over", ("50", "80", "100")),
    ],
)
def test_status_and_thresholds(spent: float, forecast_usd: float | None, status: str, thresholds: tuple) -> None:
    spent_micro = round(spent * DOLLAR)
    forecast_micro = None if forecast_usd is None else round(forecast_usd * DOLLAR)
    assert status_of(spent_micro, 500 * DOLLAR, forecast_micro) == status
    assert crossed(spent_micro, 500 * DOLLAR, forecast_micro) == thresholds


def test_the_bar() -> None:
    assert bar(0.62) == "███████░░░░░"
    assert bar(0) == "░" * 12 and bar(0.001) == "█" + "░" * 11 and bar(1.7) == "█" * 12


def test_names_read_as_a_list() -> None:
    assert in_words(["Cursor"]) == "Cursor"
    assert in_words(["Cursor", "GitHub Copilot"]) == "Cursor and GitHub Copilot"
    assert in_words(["Cursor", "GitHub Copilot", "Google Gemini"]) == "Cursor, GitHub Copilot and Google Gemini"


def test_the_gauge_line() -> None:
    from grafient_tui.budgets import budget_status

    status = budget_status(
        budget_id=1,
        target="all",
        target_id=None,
        provider=None,
        period="month",
        measure="cost",
        budget_micro=500 * DOLLAR,
        bounds=month_bounds(date(2026, 11, 12)),
        today="2026-11-12",
        spent_micro=310 * DOLLAR,
        forecast=Forecast(micro=540 * DOLLAR + 40_000_000, complete_days=11, average_micro=20 * DOLLAR),
        synced_days=11,
        finished_days=11,
    )
    assert gauge_text(status) == "62% of $500 · forecast $540 · day 12 of 30 · resets 2026-12-01"


# ------------------------------------------------------------------ amounts


@pytest.mark.parametrize(
    ("text", "micro"),
    [
        ("500", 500 * DOLLAR),
        ("1250.50", 125_050_000_000),
        ("1250.5", 125_050_000_000),
        (" 12.05 ", 1_205_000_000),
        ("$500", 500 * DOLLAR),
        ("0.01", 1_000_000),
        ("1000000000", 10**9 * DOLLAR),
    ],
)
def test_amounts_are_read_exactly(text: str, micro: int) -> None:
    assert parse_amount(text) == micro


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("-5", "a budget cannot be negative ('-5')."),
        ("-0.50", "a budget cannot be negative ('-0.50')."),
        ("0", "a budget must be more than $0 (to drop one, use `grafient budget remove`)."),
        ("0.00", "a budget must be more than $0 (to drop one, use `grafient budget remove`)."),
        ("5.555", "a budget is in dollars and cents, at most two decimals ('5.555')."),
        ("abc", "the amount must be in US dollars, like 500 or 1250.50, not 'abc'."),
        ("NaN", "the amount must be in US dollars, like 500 or 1250.50, not 'NaN'."),
        ("Infinity", "the amount must be in US dollars, like 500 or 1250.50, not 'Infinity'."),
        ("1e3", "the amount must be in US dollars, like 500 or 1250.50, not '1e3'."),
        ("1,250", "the amount must be in US dollars, like 500 or 1250.50, not '1,250'."),
        ("", "the amount must be in US dollars, like 500 or 1250.50, not ''."),
        ("5\x1b[31m", "the amount must be in US dollars, like 500 or 1250.50, not '5\\\\x1b[31m'."),
        ("1000000000.01", "a budget can be at most $1,000,000,000."),
    ],
)
def test_bad_amounts_are_one_sentence(text: str, sentence: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_amount(text)
    assert caught.value.sentence == sentence


def test_a_key_typed_as_the_amount_is_not_echoed() -> None:
    key = "key_" + "a1b2c3d4" * 8
    with pytest.raises(ConfigError) as caught:
        parse_amount(key)
    assert key not in caught.value.sentence and "looks like an API key" in caught.value.sentence


def test_the_budget_rules_import_no_store_network_or_textual() -> None:
    probe = (
        "import sys, grafient_tui.budgets, grafient_tui.budgets.wording\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'sqlmodel', 'httpx', 'textual'})\n"
        "assert not heavy, heavy\nprint('CLEAN')"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=PATIENCE)
    assert result.returncode == 0 and "CLEAN" in result.stdout, result.stderr
