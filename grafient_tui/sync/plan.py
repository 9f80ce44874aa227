"""Which UTC days a sync fetches, in which windows, and whether a daily sync is due.

Pure: what is stored comes in as plain values (store/sync_reads.py reads them), and so does the
moment (today, or now): no I/O and no clock here, so every rule is a table of cases in
tests/unit/test_sync_plan.py.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta

from grafient_tui.config import DAILY_SYNC_HOUR_UTC, PLANS
from grafient_tui.providers.base import Limits
from grafient_tui.store.sums import day_runs

TRIGGERS = ("backfill", "daily", "force")
DEFAULT_WINDOW_DAYS = 30  # plan_windows' width when no provider's limit is given


def utc_today(now: datetime) -> date:
    return now.astimezone(UTC).date()


def history_days(plan: str, limits: Limits | None) -> int:
    """How many finished days before today the plan keeps: the provider's depth for the plan (30
    free; pro and ultimate its maximum: 365 Cursor, 730 GitHub Copilot, ...); without a provider,
    the plan's own (30 free, 365 pro/ultimate)."""
    return PLANS[plan] if limits is None else limits.history_for(plan)


def first_day(today: date, history_days: int, history_limit: date | None) -> date:
    """The first day a sync keeps: `history_days` before today, or the provider's history limit when
    that is later (it keeps nothing older: asking again would only be refused), today at the latest."""
    start = today - timedelta(days=history_days)
    if history_limit is not None and history_limit > start:
        start = min(history_limit, today)
    return start


def fetch_days(
    *, today: date, history_days: int, limits: Limits, complete: Collection[date], history_limit: date | None
) -> list[date]:
    """The UTC days a sync fetches, oldest first: every day of the plan's range that is missing or
    was not over when it was synced (not in `complete`), today so far, and the provider's settle
    days (the most recent finished days, which it may still change) again.

    The same for every trigger, so a backfill from `add`, the app's start-up sync and `grafient
    sync` leave the same figures for the same plan. A sync killed halfway resumes here: the windows
    it wrote are complete days, and only what is missing is fetched again."""
    start = first_day(today, history_days, history_limit)
    yesterday = today - timedelta(days=1)
    wanted = {start + timedelta(days=i) for i in range((today - start).days + 1)} - set(complete)
    wanted |= {yesterday - timedelta(days=i) for i in range(limits.settle_days)}
    if limits.settle_month:  # the invoice month so far, whose credits and corrections still land
        month = today.replace(day=1)
        wanted |= {month + timedelta(days=i) for i in range((today - month).days)}
    return sorted(d for d in wanted if d >= start)


def plan_windows(
    days: Collection[date], window_days: int = DEFAULT_WINDOW_DAYS, *, one_run: bool = False
) -> list[tuple[date, date]]:
    """Contiguous runs of days, each cut into windows of at most `window_days`, newest first:
    the recent weeks people look at arrive first, and a short window, if any, is the oldest.
    `one_run`: the days from the first to the last as one run, gaps included (a provider whose every
    fetch costs a minimum, Google's BigQuery scan, reads the gaps' stored days again instead)."""
    windows: list[tuple[date, date]] = []
    runs = day_runs(days)
    if one_run and runs:
        runs = [(runs[0][0], runs[-1][1])]
    for run_start, run_end in reversed(runs):
        end = run_end
        while end >= run_start:
            first = max(run_start, end - timedelta(days=window_days - 1))
            windows.append((first, end))
            end = first - timedelta(days=1)
    return windows


def is_due(
    *,
    now: datetime,
    history_days: int,
    history_limit: date | None,
    complete: Collection[date],
    reports_today: bool,
    last_success: datetime | None,
) -> bool:
    """Due when a day up to yesterday is missing or unfinished, or no sync has succeeded since the
    last 06:00 UTC (DAILY_SYNC_HOUR_UTC). A provider that reports completed days only (OpenRouter,
    `reports_today` False) may not have yesterday yet: that day is not missing until the day after."""
    today = utc_today(now)
    start = first_day(today, history_days, history_limit)
    yesterday = today - timedelta(days=1 if reports_today else 2)
    if sum(1 for day in set(complete) if start <= day <= yesterday) < (yesterday - start).days + 1:
        return True
    boundary = datetime.combine(today, time(DAILY_SYNC_HOUR_UTC), UTC)
    if now < boundary:
        boundary -= timedelta(days=1)
    return last_success is None or last_success < boundary
