"""Where a budget's period starts and ends: the UTC calendar month, or a billing cycle.

A billing cycle runs monthly from its anchor day (Cursor's `subscriptionCycleStart`), clamped to
the end of shorter months: a cycle anchored on the 31st starts on Jan 31, Feb 28 (29 in a leap
year), Mar 31, Apr 30... Every cycle is worked out from the anchor's day of the month, never from
the previous cycle's start, so a short February does not pull every later cycle to the 28th.
Days are UTC dates; `end` is the period's last day (inclusive) and the budget resets the day after.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from grafient_tui.figures import PeriodBounds

PERIODS = ("month", "cycle")
# cost: the usage value (billed plus what a plan or credits cover; the default, as before);
# on_demand: the on-demand part of the providers that split it; billed: what invoices charge for usage.
MEASURES = ("cost", "on_demand", "billed")
MEASURE_WORDS = {"cost": "usage value", "on_demand": "on-demand", "billed": "billed"}


def _clamped(year: int, month: int, day: int) -> date:
    """`day` of that month, or the month's last day when it is shorter."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _month_step(year: int, month: int, step: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + step
    return index // 12, index % 12 + 1


def month_bounds(today: date) -> PeriodBounds:
    """The UTC calendar month holding `today`."""
    start = today.replace(day=1)
    return PeriodBounds(start=start, end=_clamped(today.year, today.month, 31))


def cycle_bounds(anchor: date, today: date) -> PeriodBounds:
    """The billing cycle holding `today`, for cycles starting monthly on `anchor`'s day of the month."""
    day = anchor.day
    start = _clamped(today.year, today.month, day)
    if start > today:
        start = _clamped(*_month_step(today.year, today.month, -1), day)
    following = _clamped(*_month_step(start.year, start.month, 1), day)
    return PeriodBounds(start=start, end=following - timedelta(days=1), follows_cycle=True)


def period_bounds(period: str, today: date, anchor: date | None = None) -> PeriodBounds:
    """`month`: the calendar month. `cycle`: the billing cycle from `anchor`, or the calendar month
    when there is none (providers other than Cursor bill by the month; Cursor before its first sync)."""
    if period not in PERIODS:
        raise ValueError(f"unknown period {period!r}")
    if period == "cycle" and anchor is not None:
        return cycle_bounds(anchor, today)
    return month_bounds(today)
