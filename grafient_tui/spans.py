"""The periods the app and `report` offer: the last 7, 30 or 90 days, and calendar months (this
month so far, last month, any `YYYY-MM`), each with the days its "vs previous" compares against.

A rolling period compares with the same number of days just before it. A month compares with the
month before: a whole month with the whole month before, a month so far with the same days of the
month before (Dec 1-6 with Nov 1-6), so "last month against this month" compares like with like.
Pure: UTC dates in, figures.PeriodChoice out; `today` is always given (tests pin it).
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from grafient_tui.errors import ConfigError
from grafient_tui.figures import PeriodChoice

ROLLING = (7, 30, 90)
MAX_MONTHS = 24  # the months offered besides this one and the last, newest first
# The earliest day a period can start: nothing was billed before, and a period's previous one (as
# long, just before it) must still be a date.
EARLIEST = date(1970, 1, 1)
_MONTH = re.compile(r"(?P<year>\d{4})-(?P<month>\d{2})")


def rolling(days: int, today: date) -> PeriodChoice:
    since = today - timedelta(days=days - 1)
    return PeriodChoice(
        key=str(days),
        label=f"{days} days",
        since=since,
        until=today,
        previous_since=since - timedelta(days=days),
        previous_until=since - timedelta(days=1),
    )


def _month_start(year: int, month: int, step: int = 0) -> date:
    index = year * 12 + (month - 1) + step
    return date(index // 12, index % 12 + 1, 1)


def _month_end(start: date) -> date:
    return start.replace(day=calendar.monthrange(start.year, start.month)[1])


def month(text: str, today: date) -> PeriodChoice:
    """The calendar month `YYYY-MM` (ConfigError with one sentence for another shape or a month to
    come); the current one runs to today, and is compared with the same days of the month before."""
    found = _MONTH.fullmatch(text.strip())
    if found is None or not 1 <= int(found["month"]) <= 12 or int(found["year"]) < EARLIEST.year:
        raise ConfigError(f"a month is YYYY-MM, such as {today:%Y-%m}, not {text[:20]!r}.")
    start = date(int(found["year"]), int(found["month"]), 1)
    if start > today:
        raise ConfigError(f"{start:%Y-%m} is still to come (today is {today} UTC).")
    end = _month_end(start)
    before = _month_start(start.year, start.month, -1)
    last = _month_start(today.year, today.month, -1)
    name = f"{calendar.month_abbr[start.month]} {start.year}"
    if end >= today:  # this month so far: its finished days against the same days of the month before
        shown = (today - start).days + 1
        return PeriodChoice(
            key="this-month",
            label=f"this month ({name}, to date)",
            since=start,
            until=today,
            previous_since=before,
            previous_until=min(before + timedelta(days=shown - 1), _month_end(before)),
            month=f"{start:%Y-%m}",
            to_date=True,
        )
    return PeriodChoice(
        key="last-month" if start == last else f"{start:%Y-%m}",
        label=f"last month ({name})" if start == last else name,
        since=start,
        until=end,
        previous_since=before,
        previous_until=_month_end(before),
        month=f"{start:%Y-%m}",
    )


def choices(today: date, earliest: date | None = None) -> tuple[PeriodChoice, ...]:
    """What the period choice offers: 7, 30 and 90 days, this month so far, last month, and the months
    before it back to the earliest stored day (at most MAX_MONTHS of them)."""
    out = [rolling(days, today) for days in ROLLING]
    out.append(month(f"{today:%Y-%m}", today))
    start = _month_start(today.year, today.month, -1)
    for _ in range(MAX_MONTHS + 1):
        if earliest is not None and _month_end(start) < earliest and len(out) > len(ROLLING) + 1:
            break
        out.append(month(f"{start:%Y-%m}", today))
        if earliest is None:
            break  # nothing stored: this month and the last
        start = _month_start(start.year, start.month, -1)
    return tuple(out)


def choice(key: str, today: date) -> PeriodChoice:
    """The period a key names: "7", "30", "90", "this-month", "last-month" or "YYYY-MM"."""
    if key.isdigit() and int(key) in ROLLING:
        return rolling(int(key), today)
    if key == "this-month":
        return month(f"{today:%Y-%m}", today)
    if key == "last-month":
        return month(f"{_month_start(today.year, today.month, -1):%Y-%m}", today)
    return month(key, today)


__all__ = ["MAX_MONTHS", "ROLLING", "choice", "choices", "month", "rolling"]


def check_range(since: date, until: date, today: date, *, max_days: int, too_long: str, dashes: str = "") -> None:
    """The rules of a period someone chose (`report --since/--until`, MCP's `spend`), one sentence each
    (ConfigError): in order, ending on or after it starts, starting on EARLIEST or later, not ending
    in the future, at most `max_days` long (`too_long` says so). `dashes`: "--" where the arguments
    are options."""
    if since > until:
        raise ConfigError(f"{dashes}since {since} is after {dashes}until {until}.")
    if since < EARLIEST:
        raise ConfigError(f"{dashes}since {since} is before {EARLIEST}: a period starts on that day or later.")
    if until > today:
        raise ConfigError(f"{until} is in the future (today is {today} UTC).")
    if (until - since).days >= max_days:
        raise ConfigError(too_long)
