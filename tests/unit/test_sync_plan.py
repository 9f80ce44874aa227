"""The sync's planner (sync/plan.py): which days a sync fetches, in which windows, and when a daily sync
is due. Pure, so each rule is a row of a table: no database, no clock (today and now are given)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from grafient_tui.providers.base import Limits
from grafient_tui.sync.plan import fetch_days, first_day, history_days, is_due, plan_windows

TODAY = date(2026, 11, 24)
# Cursor's: 30-day windows, a year for Pro, the two latest finished days fetched again.
CURSOR = Limits(
    max_window_days=30,
    history_days={"free": 30, "pro": 365, "ultimate": 365},
    max_history_days=365,
    settle_days=2,
    default_rpm=20,
)
# GitHub Copilot's: two years for Pro.
COPILOT = Limits(max_window_days=31, history_days={"free": 30}, max_history_days=730, settle_days=2, default_rpm=20)
# Google's billing export: the invoice month so far again at every sync, one query for all of it.
GOOGLE = Limits(
    max_window_days=366,
    history_days={"free": 30},
    max_history_days=365,
    settle_days=3,
    default_rpm=20,
    settle_month=True,
    one_window=True,
)


def ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def span(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


@pytest.mark.parametrize(
    ("plan", "limits", "days"),
    [
        ("free", CURSOR, 30),
        ("pro", CURSOR, 365),
        ("ultimate", CURSOR, 365),
        ("free", COPILOT, 30),
        ("pro", COPILOT, 730),  # a plan the provider does not name: its maximum
        ("free", None, 30),  # no provider (removed, or unknown to this version): the plan's own
        ("pro", None, 365),
    ],
)
def test_the_plan_depth_is_the_providers_for_the_plan(plan: str, limits: Limits | None, days: int) -> None:
    assert history_days(plan, limits) == days


@pytest.mark.parametrize(
    ("history_limit", "first"),
    [
        (None, ago(30)),
        (ago(40), ago(30)),  # an edge older than the plan asks for changes nothing
        (ago(10), ago(10)),  # the provider keeps nothing older: never asked for again
        (TODAY + timedelta(days=3), TODAY),  # an edge past today: today at the latest
    ],
)
def test_the_first_day_kept(history_limit: date | None, first: date) -> None:
    assert first_day(TODAY, 30, history_limit) == first


# Each row: what is stored (complete days, the provider's edge), the plan's depth, and the days fetched.
FETCH_CASES = {
    "backfill: nothing stored, the plan's month and today": (frozenset(), None, 30, span(ago(30), TODAY)),
    "backfill on Pro: a year and today": (frozenset(), None, 365, span(ago(365), TODAY)),
    "resume after a kill: the newest window was written, the oldest day was not": (
        frozenset(span(ago(29), ago(1))),
        None,
        30,
        [ago(30), ago(2), ago(1), TODAY],
    ),
    "every day complete: the settle days and today only": (
        frozenset(span(ago(30), ago(1))),
        None,
        30,
        [ago(2), ago(1), TODAY],
    ),
    "a day synced while it ran is fetched again": (
        frozenset(span(ago(30), ago(1))) - {ago(12)},
        None,
        30,
        [ago(12), ago(2), ago(1), TODAY],
    ),
    "complete days outside the range change nothing": (
        frozenset(span(ago(60), ago(1))),
        None,
        30,
        [ago(2), ago(1), TODAY],
    ),
    "the provider's history limit: nothing older is asked for": (frozenset(), ago(10), 365, span(ago(10), TODAY)),
    "a limit older than the plan changes nothing": (frozenset(), ago(400), 30, span(ago(30), TODAY)),
    "a limit today: today only": (frozenset(), TODAY, 30, [TODAY]),
}


@pytest.mark.parametrize(("complete", "limit", "depth", "expected"), FETCH_CASES.values(), ids=FETCH_CASES.keys())
def test_the_days_a_sync_fetches(
    complete: frozenset[date], limit: date | None, depth: int, expected: list[date]
) -> None:
    got = fetch_days(today=TODAY, history_days=depth, limits=CURSOR, complete=complete, history_limit=limit)
    assert got == expected


def test_the_invoice_month_so_far_is_fetched_again_when_the_provider_settles_by_month() -> None:
    complete = frozenset(span(ago(30), ago(1)))
    got = fetch_days(today=TODAY, history_days=30, limits=GOOGLE, complete=complete, history_limit=None)
    assert got == span(TODAY.replace(day=1), TODAY)
    # Early in a month the settle days reach back into the last one.
    early = date(2026, 12, 2)
    complete = frozenset(span(early - timedelta(days=30), early - timedelta(days=1)))
    got = fetch_days(today=early, history_days=30, limits=GOOGLE, complete=complete, history_limit=None)
    assert got == span(date(2026, 11, 29), early)


WINDOW_CASES = {
    "one run cut into 30-day windows, newest first, the short one oldest": (
        span(ago(65), TODAY),
        30,
        False,
        [(ago(29), TODAY), (ago(59), ago(30)), (ago(65), ago(60))],
    ),
    "gaps make separate runs": (
        [ago(30), ago(2), ago(1), TODAY],
        30,
        False,
        [(ago(2), TODAY), (ago(30), ago(30))],
    ),
    "one run, gaps included, for a provider that pays per query": (
        [ago(30), ago(2), ago(1), TODAY],
        366,
        True,
        [(ago(30), TODAY)],
    ),
    "nothing to fetch": ([], 30, False, []),
    "nothing to fetch in one run either": ([], 30, True, []),
}


@pytest.mark.parametrize(("days", "width", "one_run", "windows"), WINDOW_CASES.values(), ids=WINDOW_CASES.keys())
def test_the_windows_a_sync_fetches(
    days: list[date], width: int, one_run: bool, windows: list[tuple[date, date]]
) -> None:
    assert plan_windows(days, width, one_run=one_run) == windows


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), UTC)


FULL = frozenset(span(ago(30), ago(1)))
DUE_CASES = {
    "never synced": (at(TODAY, 10), frozenset(), None, True, None, True),
    "every day kept, a good sync since 06:00": (at(TODAY, 10), FULL, None, True, at(TODAY, 7), False),
    "every day kept, the last good sync before 06:00": (at(TODAY, 10), FULL, None, True, at(TODAY, 5), True),
    "before 06:00, yesterday's 06:00 is the boundary": (at(TODAY, 5), FULL, None, True, at(ago(1), 7), False),
    "before 06:00, a sync before yesterday's 06:00 is stale": (at(TODAY, 5), FULL, None, True, at(ago(1), 5), True),
    "every day kept, never a good sync": (at(TODAY, 10), FULL, None, True, None, True),
    "yesterday missing": (at(TODAY, 10), FULL - {ago(1)}, None, True, at(TODAY, 7), True),
    "a day in the middle missing": (at(TODAY, 10), FULL - {ago(15)}, None, True, at(TODAY, 7), True),
    "a provider that does not report today may not have yesterday yet": (
        at(TODAY, 10),
        FULL - {ago(1)},
        None,
        False,
        at(TODAY, 7),
        False,
    ),
    "but the day before yesterday is missing for it too": (
        at(TODAY, 10),
        FULL - {ago(1), ago(2)},
        None,
        False,
        at(TODAY, 7),
        True,
    ),
    "days before the provider's history limit are never missing": (
        at(TODAY, 10),
        frozenset(span(ago(10), ago(1))),
        ago(10),
        True,
        at(TODAY, 7),
        False,
    ),
}


@pytest.mark.parametrize(
    ("now", "complete", "limit", "reports_today", "last_success", "due"), DUE_CASES.values(), ids=DUE_CASES.keys()
)
def test_when_a_daily_sync_is_due(
    now: datetime,
    complete: frozenset[date],
    limit: date | None,
    reports_today: bool,
    last_success: datetime | None,
    due: bool,
) -> None:
    got = is_due(
        now=now,
        history_days=30,
        history_limit=limit,
        complete=complete,
        reports_today=reports_today,
        last_success=last_success,
    )
    assert got is due
