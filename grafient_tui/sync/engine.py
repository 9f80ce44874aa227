"""The sync engine: backfill, daily catch-up and force sync, one function each.

The CLI, the TUI and the tests all call these. A sync:
  1. takes the integration's cross-process lock (or reports it is busy),
  2. works out which UTC days need fetching and groups them into windows as wide as
     the provider serves, newest first (13 requests for a quiet year of 30-day windows, not 365),
  3. for each window, streams the provider's cost lines, aggregates them per day, model
     and member, and replaces that window's stored days in ONE transaction.
The provider comes from the registry by the integration's provider name; nothing here
knows which one it is.
A sync that fails or is killed therefore leaves every day either as it was or
fully new, and the next run starts from the first window not yet written
(what is missing is read from the store, so no resume point needs keeping).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import traceback
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from time import monotonic as _monotonic
from time import sleep as _pause
from typing import Any, TypeVar

import httpx
from sqlalchemy import delete, insert, update
from sqlmodel import select

from grafient_tui import money, providers
from grafient_tui.config import DAILY_SYNC_HOUR_UTC, Settings
from grafient_tui.errors import BadResponse, GrafientError, NotFound, RequestRejected, StoreError
from grafient_tui.figures import SyncProgress, SyncResult
from grafient_tui.providers.base import Billing, Capabilities, CostBasis, CostLine, Limits, Provider
from grafient_tui.providers.http import RetryNotice, reporting_retries, warm_up
from grafient_tui.secret import scrub_known
from grafient_tui.store.db import RETRY_PAUSE_BASES, Database
from grafient_tui.store.integrations import account_of, find_integration, integration_key
from grafient_tui.store.models import (
    DailyCost,
    DailyMemberCost,
    DailyModelCost,
    Integration,
    MemberCycleSpend,
    SyncRun,
)
from grafient_tui.store.team import effective_settings, note_fingerprint, problem_for, who_runs
from grafient_tui.store.vault import Vault
from grafient_tui.sync.lock import IntegrationLock, LockLost, blocked_sentence, is_sync_running, lock_holder, sync_lock
from grafient_tui.sync.status import sync_status
from grafient_tui.untrusted import stored_name

T = TypeVar("T")

log = logging.getLogger("grafient.sync")

TRIGGERS = ("backfill", "daily", "force")
LOCK_WAIT_SECONDS = 2.0
MAX_ROWS_PER_WINDOW = 200_000  # day x model plus day x member sums held for one window (tens of MB)
DEFAULT_WINDOW_DAYS = 30  # plan_windows' width when no provider's limit is given
_CURSOR_LIKE = Capabilities(has_requests=True, actor_kind="member")  # WindowTotals' default


ProgressCallback = Callable[[SyncProgress], None]


class SyncTimeLimit(GrafientError):
    """The sync ran past GRAFIENT_SYNC_DEADLINE; the window under way was abandoned."""

    exit_code = 1


# ---------------------------------------------------------------- planning


def utc_today(now: datetime) -> date:
    return now.astimezone(UTC).date()


def history_start(settings: Settings, today: date, limits: Limits | None = None) -> date:
    """The first day the plan keeps: N finished days before today, and today so far on top. N is the
    provider's depth for the plan (30 free; pro and ultimate its maximum: 365 Cursor, 730 GitHub
    Copilot, ...); without a provider, the plan's own (30 free, 365 pro/ultimate)."""
    days = settings.backfill_days() if limits is None else limits.history_for(settings.plan())
    return today - timedelta(days=days)


def provider_limits(db: Database, integration_id: int) -> Limits:
    """The limits of the provider this integration syncs from."""
    return providers.get(find_integration(db, integration_id).provider).limits


def complete_days(db: Database, integration_id: int, since: date, until: date) -> set[date]:
    with db.session() as session:
        return set(
            session.exec(
                select(DailyCost.day).where(
                    DailyCost.integration_id == integration_id,
                    DailyCost.day >= since,
                    DailyCost.day <= until,
                    DailyCost.complete == True,  # noqa: E712
                )
            )
        )


def days_to_fetch(
    db: Database, settings: Settings, integration_id: int, trigger: str, now: datetime, *, limits: Limits | None = None
) -> list[date]:
    """The UTC days a sync fetches, oldest first: every day of the plan's range that is missing or
    was not over when it was synced, today so far, and the provider's settle days (the most recent
    finished days, which it may still change) again. `limits` default to the integration's provider's.

    The same for every trigger, so a backfill from `add`, the app's start-up sync and `grafient
    sync` leave the same figures for the same plan; the trigger only says who asked."""
    if trigger not in TRIGGERS:
        raise ValueError(f"unknown trigger {trigger!r}")
    if limits is None:
        limits = provider_limits(db, integration_id)
    today = utc_today(now)
    start = history_start(settings, today, limits)
    edge = _history_limit(db, integration_id)
    if edge is not None and edge > start:
        start = min(edge, today)  # the provider keeps nothing older: asking again would only be refused
    yesterday = today - timedelta(days=1)
    done = complete_days(db, integration_id, start, today)
    wanted = {start + timedelta(days=i) for i in range((today - start).days + 1)} - done
    wanted |= {yesterday - timedelta(days=i) for i in range(limits.settle_days)}
    if limits.settle_month:  # the invoice month so far, whose credits and corrections still land
        month = today.replace(day=1)
        wanted |= {month + timedelta(days=i) for i in range((today - month).days)}
    return sorted(d for d in wanted if d >= start)


def _history_limit(db: Database, integration_id: int) -> date | None:
    with db.session() as session:
        return session.exec(select(Integration.history_limit).where(Integration.id == integration_id)).first()


def plan_windows(
    days: list[date], window_days: int = DEFAULT_WINDOW_DAYS, *, one_run: bool = False
) -> list[tuple[date, date]]:
    """Contiguous runs of days, each cut into windows of at most `window_days`, newest first:
    the recent weeks people look at arrive first, and a short window, if any, is the oldest.
    `one_run`: the days from the first to the last as one run, gaps included (a provider whose every
    fetch costs a minimum, Google's BigQuery scan, reads the gaps' stored days again instead)."""
    windows: list[tuple[date, date]] = []
    runs = _runs(days)
    if one_run and runs:
        runs = [(runs[0][0], runs[-1][1])]
    for run_start, run_end in reversed(runs):
        end = run_end
        while end >= run_start:
            first = max(run_start, end - timedelta(days=window_days - 1))
            windows.append((first, end))
            end = first - timedelta(days=1)
    return windows


def _runs(days: list[date]) -> list[tuple[date, date]]:
    runs: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if runs and day == runs[-1][1] + timedelta(days=1):
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def sync_due(db: Database, settings: Settings, integration_id: int, now: datetime | None = None) -> bool:
    """Due when a day up to yesterday is missing or unfinished, or no sync has
    succeeded since the last 06:00 UTC."""
    now = now or datetime.now(UTC)
    today = utc_today(now)
    reports_today = True
    settings = effective_settings(db, settings)
    try:
        provider = providers.get(find_integration(db, integration_id).provider)
        limits: Limits | None = provider.limits
        reports_today = provider.capabilities.has_today
    except GrafientError:  # removed meanwhile, or a provider this version does not know: the plan decides
        limits = None
    start = history_start(settings, today, limits)
    edge = _history_limit(db, integration_id)
    if edge is not None and edge > start:
        start = min(edge, today)  # the provider keeps nothing older: those days are never missing
    # A provider that reports completed days only (OpenRouter) may not have yesterday yet: that
    # day is not "missing" until the day after.
    yesterday = today - timedelta(days=1 if reports_today else 2)
    if len(complete_days(db, integration_id, start, yesterday)) < (yesterday - start).days + 1:
        return True
    boundary = datetime.combine(today, time(DAILY_SYNC_HOUR_UTC), UTC)
    if now < boundary:
        boundary -= timedelta(days=1)
    with db.session() as session:
        last_ok = session.exec(
            select(SyncRun.finished_at)
            .where(SyncRun.integration_id == integration_id, SyncRun.outcome == "success")
            .order_by(SyncRun.id.desc())
        ).first()
    return last_ok is None or _aware(last_ok) < boundary


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# ---------------------------------------------------------------- aggregation


class WindowTotals:
    """Per-day, per-model and per-member sums of one window's cost lines.

    Memory grows with days x models x members, never with the number of lines. Money and counts
    are exact integer sums; a count is None (unknown) as soon as one line of its sum has none.
    """

    __slots__ = ("capabilities", "days", "first", "last", "members", "models", "outside")

    def __init__(
        self, first: date | None = None, last: date | None = None, *, capabilities: Capabilities | None = None
    ) -> None:
        # Lines for days outside [first, last] belong to another window: dropped as they come,
        # so a hostile answer full of them costs no memory (and can never be counted twice).
        self.first, self.last, self.outside = first, last, 0
        self.capabilities = capabilities or _CURSOR_LIKE
        # day -> [cost, on_demand, included, requests, units, input, output, cache_read, cache_write,
        #         reasoning, byok, credits, characters]
        self.days: dict[date, list[int | None]] = {}
        # (day, model) -> [cost, requests, input, output, cache_read, cache_write, reasoning, credits,
        #                  characters]
        self.models: dict[tuple[date, str], list[int | None]] = {}
        # (day, actor) -> [cost, requests]
        self.members: dict[tuple[date, str], list[int | None]] = {}

    def empty_day(self) -> list[int | None]:
        """The sums of a day the answer covers without a single line: zero where this window's lines
        know the figure, unknown where they do not (a usage report that failed for the window leaves
        its quiet days' requests or tokens unknown too, never 0). Without any line, the provider's
        capabilities decide."""
        caps = self.capabilities
        split = 0 if caps.has_on_demand else None
        tokens = 0 if caps.has_tokens else None
        day: list[int | None] = [
            0,
            split,
            split,
            0 if caps.has_requests else None,
            0,
            tokens,
            tokens,
            tokens,
            tokens,
            None,
            0 if caps.has_byok else None,
            0 if caps.cost_basis == "estimate" else None,  # credits: what an estimate is made from
            0 if caps.cost_basis == "estimate" else None,
        ]
        if self.days:
            for index in (3, 5, 6, 7, 8, 9, 10):
                day[index] = None if any(d[index] is None for d in self.days.values()) else 0
        return day

    def add(self, lines: list[CostLine]) -> None:
        days, models, members = self.days, self.models, self.members
        clean = _stored_name
        first, last = self.first, self.last
        split = self.capabilities.has_on_demand
        for e in lines:
            day = e.day
            if first is not None and not first <= day <= last:  # type: ignore[operator]
                self.outside += 1
                continue
            cost = e.cost_micro
            requests = e.requests
            tokens = (e.input_tokens, e.output_tokens, e.cache_read_tokens, e.cache_write_tokens, e.reasoning_tokens)
            d = days.get(day)
            if d is None:
                # The first line sets what is known; later ones add to it (None stays None).
                d = days[day] = [
                    cost,
                    (cost if e.on_demand else 0) if split else None,
                    (0 if e.on_demand else cost) if split else None,
                    requests,
                    e.request_units_micro,
                    *tokens,
                    e.byok_micro,
                    e.credits_micro,
                    e.characters,
                ]
            else:
                d[0] += cost
                if split:
                    d[1 if e.on_demand else 2] += cost
                d[3] = None if requests is None or d[3] is None else d[3] + requests
                d[4] += e.request_units_micro
                for i, value in enumerate(tokens, 5):
                    d[i] = None if value is None or d[i] is None else d[i] + value
                byok = e.byok_micro
                d[10] = None if byok is None or d[10] is None else d[10] + byok
                d[11], d[12] = _units(d[11], e.credits_micro), _units(d[12], e.characters)
            key = (day, clean(e.model))
            m = models.get(key)
            if m is None:
                models[key] = [cost, requests, *tokens, e.credits_micro, e.characters]
            else:
                m[0] += cost
                m[1] = None if requests is None or m[1] is None else m[1] + requests
                for i, value in enumerate(tokens, 2):
                    m[i] = None if value is None or m[i] is None else m[i] + value
                m[7], m[8] = _units(m[7], e.credits_micro), _units(m[8], e.characters)
            key = (day, clean(e.actor))
            u = members.get(key)
            if u is None:
                members[key] = [cost, requests]
            else:
                u[0] += cost
                u[1] = None if requests is None or u[1] is None else u[1] + requests

    def check_size(self, source: str) -> None:
        """Memory stays bounded: past MAX_ROWS_PER_WINDOW day x model and day x member sums, the
        window is refused (no real team comes near it)."""
        if len(self.models) + len(self.members) > MAX_ROWS_PER_WINDOW:
            raise BadResponse(
                f"{source} sent more than {MAX_ROWS_PER_WINDOW:,} day-by-model and day-by-member totals for "
                "one window; stopped reading, nothing from this window was saved"
            )


def _padded(sums: list[int | None], length: int) -> list[int | None]:
    """Sums built before credits and characters were kept (a caller's own WindowTotals) lack them."""
    return sums if len(sums) >= length else sums + [None] * (length - len(sums))


def _units(total: int | None, value: int | None) -> int | None:
    """Credits or characters summed: a line without them (a model that makes no characters) adds
    nothing, and the sum is None only when no line has any."""
    if value is None:
        return total
    return value if total is None else total + value


def _stored_name(name: str) -> str:
    """A model or actor name as stored (untrusted.stored_name): storable (lone surrogates replaced),
    without NUL and the other C0 control characters (and DEL), at most 255 characters with a visible
    `…` where it was cut. Every other character is kept, and shown escaped wherever it is shown."""
    return stored_name(name)


class IntegrationGone(GrafientError):
    """The integration this sync started for is no longer the one in the store."""

    def __init__(self, sentence: str, *, removed: bool) -> None:
        super().__init__(sentence)
        self.removed = removed


def _check_still_there(session, integration_id: int, identity: tuple[str, datetime] | None) -> None:
    """Inside the writer's transaction: the integration row with this id, and (when given) the same
    uid and creation time, still exists; else IntegrationGone, and the caller writes nothing.

    On PostgreSQL the row is locked (FOR UPDATE) until the transaction ends: writers of one
    integration, on any machine, go one after another, so a window's delete-then-insert always sees
    what the writer before it committed and never meets a duplicate key. (SQLite's writers are one
    at a time already: BEGIN IMMEDIATE; there the clause is left out.)"""
    row = session.exec(
        select(Integration.uid, Integration.created_at).where(Integration.id == integration_id).with_for_update()
    ).first()
    if identity is not None and row is not None and (row[0], _aware(row[1])) != (identity[0], _aware(identity[1])):
        if _aware(row[1]) == _aware(identity[1]):  # same row, new uid: `rekey` sealed a new key
            raise IntegrationGone(
                f"the key of integration {integration_id} was replaced while it synced; "
                "this window was not written, so sync again",
                removed=False,
            )
        row = None  # another integration under the same id (a database from before ids were kept unique)
    if row is None:
        raise IntegrationGone(
            f"integration {integration_id} was removed while it synced; nothing was written", removed=True
        )


def write_window(
    db: Database,
    integration_id: int,
    first: date,
    last: date,
    totals: WindowTotals,
    synced_at: datetime,
    *,
    identity: tuple[str, datetime] | None = None,
    source: str = "the provider",
    covered: list[date] | None = None,
    cost_basis: CostBasis | None = None,
) -> int:
    """Replace the stored days `covered` (every day of [first, last] when not given) with `totals`,
    all in one transaction; days of the window the answer did not cover stay as they were.

    `cost_basis`, when the provider says how these dollars were made (an estimate's plan, a
    converted currency), is stored with the integration in the same transaction, so the figures and
    the words beside them always agree.

    `source` names who sent the figures in the sentence when a sum is too large to store
    ("the <title> API").

    `identity` is the integration's (uid, created_at) when the sync started: if that row is gone
    (removed, or replaced under the same id) the window is dropped and IntegrationGone raised."""
    today = utc_today(synced_at)
    synced_at = synced_at.astimezone(UTC)
    if covered is None:
        covered = [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
    days = sorted({day for day in covered if first <= day <= last})
    wanted = set(days)
    day_rows = []
    for day in days:
        d = _padded(totals.days.get(day) or totals.empty_day(), 13)
        day_rows.append(
            {
                "integration_id": integration_id,
                "day": day,
                "cost_micro": d[0],
                "on_demand_micro": d[1],
                "included_micro": d[2],
                "requests": d[3],
                "request_units_micro": d[4],
                "input_tokens": d[5],
                "output_tokens": d[6],
                "cache_read_tokens": d[7],
                "cache_write_tokens": d[8],
                "reasoning_tokens": d[9],
                "byok_micro": d[10],
                "credits_micro": d[11],
                "characters": d[12],
                "synced_at": synced_at,
                "complete": day < today,
            }
        )
    model_rows = [
        {
            "integration_id": integration_id,
            "day": day,
            "model": model,
            "cost_micro": m[0],
            "requests": m[1],
            "input_tokens": m[2],
            "output_tokens": m[3],
            "cache_read_tokens": m[4],
            "cache_write_tokens": m[5],
            "reasoning_tokens": m[6],
            "credits_micro": m[7],
            "characters": m[8],
        }
        for (day, model), m in ((key, _padded(sums, 9)) for key, sums in totals.models.items())
        if day in wanted
    ]
    member_rows = [
        {"integration_id": integration_id, "day": day, "email": email, "cost_micro": u[0], "requests": u[1]}
        for (day, email), u in totals.members.items()
        if day in wanted
    ]
    _check_storable(source, first, last, day_rows, model_rows, member_rows)
    with db.session(write=True) as session:
        _check_still_there(session, integration_id, identity)
        # Core statements, not ORM units of work: a busy window is tens of
        # thousands of member rows, and this is one executemany each.
        connection = session.connection()
        for runs_start, runs_end in _runs(days):
            for model in (DailyCost, DailyModelCost, DailyMemberCost):
                table = model.__table__
                connection.execute(
                    delete(table).where(
                        table.c.integration_id == integration_id, table.c.day >= runs_start, table.c.day <= runs_end
                    )
                )
        for model, rows in ((DailyCost, day_rows), (DailyModelCost, model_rows), (DailyMemberCost, member_rows)):
            if rows:
                connection.execute(insert(model.__table__), rows)
        _note_history(connection, integration_id, totals)
        if cost_basis is not None:
            table = Integration.__table__
            connection.execute(
                update(table)
                .where(table.c.id == integration_id)
                .values(cost_basis=json.dumps(cost_basis.to_json(), ensure_ascii=True, sort_keys=True))
            )
    return len(day_rows)


def write_billing(
    db: Database,
    integration_id: int,
    billing: Billing,
    synced_at: datetime,
    *,
    identity: tuple[str, datetime] | None = None,
    source: str = "the provider",
) -> int:
    """Replace the integration's members' cycle spend and limits with `billing`'s, in one transaction,
    and note its cycle start (an answer without one keeps the last known: cycles are monthly, so an
    older anchor still gives the same days). Returns the number of members stored."""
    rows = [
        {
            "integration_id": integration_id,
            "member": m.member,
            "name": m.name,
            "spend_micro": m.spend_micro,
            "on_demand_micro": m.on_demand_micro,
            "limit_micro": m.limit_micro,
            "synced_at": synced_at,
        }
        for m in billing.members
    ]
    # Each figure is bounded by the money parser (a member's at most a billion dollars), and the
    # names are cut as they arrived (providers/cursor/spend.py): nothing here can overflow the store.
    with db.session(write=True) as session:
        _check_still_there(session, integration_id, identity)
        connection = session.connection()
        table = MemberCycleSpend.__table__
        connection.execute(delete(table).where(table.c.integration_id == integration_id))
        if rows:
            connection.execute(insert(table), rows)
        if billing.cycle_start is not None:
            table = Integration.__table__
            connection.execute(
                update(table)
                .where(
                    table.c.id == integration_id,
                    (table.c.cycle_start.is_(None)) | (table.c.cycle_start != billing.cycle_start),
                )
                .values(cycle_start=billing.cycle_start)
            )
    return len(rows)


async def _sync_billing(
    client: Provider,
    db: Database,
    integration_id: int,
    label: str,
    *,
    ends_at: float,
    clock: Callable[[], datetime],
    identity: tuple[str, datetime],
) -> None:
    """Read the billing cycle after the cost windows and store it. Whatever goes wrong here, the
    costs just written stand and the sync succeeds: the members' previous cycle figures are kept,
    and the fault is logged in one sentence."""
    try:
        async with asyncio.timeout_at(ends_at):
            billing = await client.billing()
        if billing is not None:
            await in_daemon_thread(
                write_billing, db, integration_id, billing, clock(), identity=identity, source=f"the {client.title} API"
            )
    except IntegrationGone:
        raise
    except GrafientError as exc:
        log.warning(
            "%s: the billing cycle and spend limits were not updated (%s); the costs are saved", label, exc.sentence
        )
    except TimeoutError:
        log.warning("%s: the billing cycle was not read before the sync's time limit; the costs are saved", label)
    except Exception as exc:  # noqa: BLE001  (never fails the costs; the traceback only scrubbed, in debug)
        log.debug(
            "%s: reading the billing cycle failed:\n%s", label, scrub_known("".join(traceback.format_exception(exc)))
        )
        log.warning(
            "%s: the billing cycle was not updated (unexpected %s); the costs are saved", label, type(exc).__name__
        )


def _note_history_limit(db: Database, integration_id: int, first_kept: date) -> None:
    with db.session(write=True) as session:
        session.exec(update(Integration).where(Integration.id == integration_id).values(history_limit=first_kept))


def _note_members(db: Database, integration_id: int, members: int) -> None:
    with db.session(write=True) as session:
        session.exec(update(Integration).where(Integration.id == integration_id).values(team_members=members))


def _note_history(connection, integration_id: int, totals: WindowTotals) -> None:
    """Move the integration's `history_from` back to the earliest day a provider sent usage for."""
    with_usage = list(totals.days)
    if not with_usage:
        return
    earliest = min(with_usage)
    table = Integration.__table__
    connection.execute(
        update(table)
        .where(
            table.c.id == integration_id,
            (table.c.history_from.is_(None)) | (table.c.history_from > earliest),
        )
        .values(history_from=earliest)
    )


# What one stored row (a day, a day's model, a day's member) may hold. money.py says why these keep
# every SUM the reports make inside 64 bits, on SQLite as on PostgreSQL.
MAX_DAY_MICRO = money.MAX_DAY_MICRO
MAX_DAY_COUNT = 10**13  # requests, tokens or request units of one integration's day: 922,337 such rows fit a SUM
# Credits in millionths (ElevenLabs): 100 million credits in a day, ten times a month of the largest
# plan it lists; like money, 92,233 such rows fit a SUM.
MAX_DAY_CREDITS_MICRO = 10**14
_MONEY_COLUMNS = frozenset({"cost_micro", "on_demand_micro", "included_micro", "byok_micro"})
_COUNT_COLUMNS = frozenset(
    {
        "requests",
        "request_units_micro",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "reasoning_tokens",
        "characters",
    }
)


def _check_storable(source: str, first: date, last: date, *tables: list[dict]) -> None:
    """Every row of the window within the per-day maxima: a day past them is no real bill, and would
    let a report's SUM() overflow (SQLite fails every report then, for every integration)."""
    for rows in tables:
        for row in rows:
            for column, value in row.items():
                if type(value) is not int:
                    continue
                if column in _MONEY_COLUMNS and not -MAX_DAY_MICRO <= value <= MAX_DAY_MICRO:
                    raise BadResponse(
                        f"{source} sent usage for {first} .. {last} whose total for {row['day']} is beyond any "
                        f"plausible bill (more than {money.format_usd(MAX_DAY_MICRO, cents=False)} in a day); "
                        "nothing from this window was saved"
                    )
                if column == "credits_micro" and not -MAX_DAY_CREDITS_MICRO <= value <= MAX_DAY_CREDITS_MICRO:
                    raise BadResponse(
                        f"{source} sent usage for {first} .. {last} whose credits for {row['day']} are beyond "
                        f"any real day's (more than {MAX_DAY_CREDITS_MICRO // 1_000_000:,}); "
                        "nothing from this window was saved"
                    )
                if column in _COUNT_COLUMNS and not -MAX_DAY_COUNT <= value <= MAX_DAY_COUNT:
                    raise BadResponse(
                        f"{source} sent usage for {first} .. {last} whose {column.replace('_', ' ')} for "
                        f"{row['day']} are beyond any real day's (more than {MAX_DAY_COUNT:,}); "
                        "nothing from this window was saved"
                    )


# ---------------------------------------------------------------- running


def _now() -> datetime:
    return datetime.now(UTC)


def _start_run(
    db: Database,
    integration_id: int,
    trigger: str,
    started: datetime,
    identity: tuple[str, datetime] | None = None,
    lock_pid: int | None = None,
) -> int:
    with db.session(write=True) as session:
        _check_still_there(session, integration_id, identity)  # removed while we waited for the lock
        # We hold the lock, so any run still marked running belongs to a process that died.
        session.exec(
            update(SyncRun)
            .where(SyncRun.integration_id == integration_id, SyncRun.outcome == "running")
            .values(outcome="interrupted", error="the process stopped before this sync finished")
        )
        host, user = who_runs()
        run = SyncRun(
            integration_id=integration_id,
            trigger=trigger,
            started_at=started.astimezone(UTC),
            host=host,
            username=user,
            lock_pid=lock_pid,
        )
        session.add(run)
        session.flush()
        return int(run.id)


def _finish_run(
    db: Database,
    run_id: int,
    result: SyncResult,
    finished: datetime,
    outcome: str | None = None,
    identity: tuple[str, datetime] | None = None,
) -> None:
    with db.session(write=True) as session:
        try:
            _check_still_there(session, result.integration_id, identity)
        except IntegrationGone as gone:
            if gone.removed:
                return  # its sync log went with it; a run id may since belong to another integration
        session.exec(
            update(SyncRun)
            .where(SyncRun.id == run_id)
            .values(
                finished_at=finished,
                outcome=outcome or result.outcome,
                requests=result.requests,
                rate_limited=result.rate_limited,
                retries=result.retries,
                days_written=result.days_written,
                error=result.error,
            )
        )


async def run_sync(
    db: Database,
    vault: Vault,
    settings: Settings,
    integration_id: int,
    trigger: str,
    *,
    progress: ProgressCallback | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    now: datetime | None = None,
) -> SyncResult:
    """Run one sync. Failures come back as outcome="failed" with one sentence; nothing raises
    except cancellation (which records the run as interrupted)."""
    if trigger not in TRIGGERS:
        raise ValueError(f"unknown trigger {trigger!r}")
    # Every store call runs in a thread: the app's event loop never waits on SQLite (another
    # process may hold the write lock for seconds), and the CLI loses nothing by it. A team server's
    # failure that a moment may cure (a cut connection, a restart) is tried once more (db.retrying).

    async def store(work: Callable[..., T], *args: object, **kwargs: object) -> T:
        return await in_daemon_thread(db.retrying, work, *args, **kwargs)

    try:
        integration = await store(find_integration, db, integration_id)
    except NotFound:  # removed since the caller listed it: nothing to sync, and not a failure
        return SyncResult(
            integration_id=integration_id,
            label=f"integration {integration_id}",
            trigger=trigger,
            outcome="skipped",
            error=f"integration {integration_id} was removed; nothing to sync",
        )
    except GrafientError as exc:
        return SyncResult(
            integration_id=integration_id,
            label=f"integration {integration_id}",
            trigger=trigger,
            outcome="failed",
            error=exc.sentence,
        )
    label = integration.label
    identity = (integration.uid, _aware(integration.created_at))
    lock = sync_lock(settings, integration_id, db)
    try:  # a shared database's team settings (plan, pacing) win over this machine's
        settings = await store(effective_settings, db, settings)
        problem = problem_for(settings, integration.provider)
        # A team setting this Grafient cannot use: one sentence, no lock taken, nothing fetched.
        got = problem is None and await lock.acquire(LOCK_WAIT_SECONDS)
        holder = None if got or problem or not db.is_postgres else await store(lock_holder, db, integration_id)
    except GrafientError as exc:
        lock.release()
        return SyncResult(
            integration_id=integration_id, label=label, trigger=trigger, outcome="failed", error=exc.sentence
        )
    if problem is not None:
        return SyncResult(integration_id=integration_id, label=label, trigger=trigger, outcome="failed", error=problem)
    if not got:
        if db.is_postgres:  # another machine's sync, or some session: named, and this sync gave up
            return SyncResult(
                integration_id=integration_id,
                label=label,
                trigger=trigger,
                outcome="skipped",
                error=blocked_sentence(label, holder, LOCK_WAIT_SECONDS),
                blocked=True,
            )
        return SyncResult(
            integration_id=integration_id,
            label=label,
            trigger=trigger,
            outcome="skipped",
            error=f"a sync for {label} is already running",
        )
    run_id: int | None = None
    clock = _SyncClock(now)
    state = {"days": 0, "requests": 0, "rate_limited": 0, "retries": 0, "done": 0}
    retrying: list[RetryNotice] = []  # the retry under way, if any

    def result(outcome: str, error: str | None = None) -> SyncResult:
        # Every sentence is redacted against every key this process holds before it is printed
        # or stored in the sync log: a sentence may quote what a server sent back.
        return SyncResult(
            integration_id=integration_id,
            label=label,
            trigger=trigger,
            outcome=outcome,
            days_written=state["days"],
            requests=state["requests"],
            rate_limited=state["rate_limited"],
            retries=state["retries"],
            error=scrub_known(error) if error else error,
        )

    try:
        started = clock()
        run_id = await store(_start_run, db, integration_id, trigger, started, identity, lock.pid)
        provider = providers.get(integration.provider)
        limits = provider.limits
        windows = plan_windows(
            await store(days_to_fetch, db, settings, integration_id, trigger, started, limits=limits),
            limits.max_window_days,
            one_run=limits.one_window,
        )
        key = await store(integration_key, vault, integration)
        account = account_of(integration)  # read back untrusted: a row that does not fit fails this sync
        await store(note_fingerprint, db, vault)
        log.debug("sync %s %s: %d windows", label, trigger, len(windows))

        def report(done: int) -> None:
            """A page or a window has come in: any retry before it has succeeded."""
            state["done"] = done
            retrying.clear()
            tell()

        def retried(notice: RetryNotice) -> None:
            retrying[:] = [replace(notice, reason=scrub_known(notice.reason))]  # fixed words, but a URL is the user's
            tell()

        def tell() -> None:
            if progress is None:
                return
            notice = retrying[0] if retrying else None
            progress(
                SyncProgress(
                    integration_id=integration_id,
                    label=label,
                    trigger=trigger,
                    windows_done=state["done"],
                    windows_total=len(windows),
                    days_written=state["days"],
                    requests=state["requests"],
                    retry_attempt=notice.attempt if notice else 0,
                    retry_attempts=notice.attempts if notice else 0,
                    retry_reason=notice.reason if notice else None,
                )
            )

        if transport is None:  # httpx's TLS context (tens of ms of CPU): built once, off the event loop
            await store(warm_up)
        report(0)
        # One bound on the whole sync, however the answers come. It covers the fetching only: a
        # window under way when it passes is abandoned, a window being written is written, and
        # every finished one stays.
        ends_at = asyncio.get_running_loop().time() + settings.sync_deadline
        async with (
            reporting_retries(retried),
            provider.from_settings(key.reveal(), settings, transport=transport, account=account) as client,
        ):
            client.today = utc_today(started)
            # The oldest day an answer covered: the earliest usage ever returned, or any window this
            # sync has read (with usage or without). A 400 older than that is the provider's edge.
            answered: date | None = integration.history_from
            try:
                for done, (first, last) in enumerate(windows):
                    await in_daemon_thread(lock.check)  # never fetch a window once the lock is gone
                    totals = WindowTotals(first, last, capabilities=provider.capabilities)
                    deadline = asyncio.timeout_at(ends_at)
                    try:
                        async with deadline:
                            async for lines in client.cost_lines(first, last):
                                totals.add(lines)
                                totals.check_size(f"the {provider.title} API")
                                state["requests"] = client.stats.requests
                                report(done)
                    except RequestRejected as refused:
                        if refused.status != 400 or answered is None or last >= answered:
                            raise
                        # A provider that keeps less than the plan asks for answers an older window with
                        # 400 (how Cursor, Anthropic and OpenAI answer there is undocumented): what it
                        # answered before stands, and backfills stop at that edge from now on.
                        log.debug("sync %s: %s; history ends after %s", label, refused.sentence, last)
                        await store(_note_history_limit, db, integration_id, last + timedelta(days=1))
                        report(len(windows))
                        break
                    except TimeoutError:
                        if not deadline.expired():
                            raise
                        raise SyncTimeLimit(
                            f"the sync stopped at its time limit of {settings.sync_deadline:g} s with "
                            f"{len(windows) - done} of {len(windows)} windows still to fetch; the finished ones are "
                            "kept (run `grafient sync` again to go on, or raise GRAFIENT_SYNC_DEADLINE)"
                        ) from None
                    state["requests"] = client.stats.requests
                    state["days"] += await in_daemon_thread(
                        _write_locked,
                        db,
                        lock,
                        integration_id,
                        first,
                        last,
                        totals,
                        clock(),
                        identity=identity,
                        source=f"the {provider.title} API",
                        covered=client.days_covered(first, last),
                        cost_basis=client.cost_basis(),
                    )
                    answered = min(answered or first, first)  # this window answered, with usage or not
                    report(done + 1)
                    if client.history_edge is not None:  # the provider found its edge inside this window
                        log.debug("sync %s: history begins %s", label, client.history_edge)
                        await store(_note_history_limit, db, integration_id, client.history_edge)
                        report(len(windows))
                        break
                if client.members_seen is not None:
                    await store(_note_members, db, integration_id, client.members_seen)
                await _sync_billing(client, db, integration_id, label, ends_at=ends_at, clock=clock, identity=identity)
            finally:
                state["requests"] = client.stats.requests
                state["rate_limited"] = client.stats.rate_limited
                state["retries"] = client.stats.retries
        outcome = result("success")
    except asyncio.CancelledError:
        if run_id is not None:
            # Recorded from a daemon thread, never on the event loop: quitting must not wait on a
            # write lock another process holds. If the process ends first, the lock tells every
            # reader the run was interrupted anyway.
            cancelled = result("failed", "the sync was cancelled before it finished")
            threading.Thread(
                target=_finish_quietly,
                args=(db, run_id, cancelled, clock(), "interrupted", identity),
                name="grafient-finish-run",
                daemon=True,
            ).start()
        raise
    except IntegrationGone as exc:  # removed: nothing to report as failed; a new key: this sync did fail
        outcome = result("skipped" if exc.removed else "failed", exc.sentence)
    except (StoreError, LockLost) as exc:  # a team's server, mid-sync: say what was kept (SQLite: as it was)
        if isinstance(exc, StoreError):  # a write that waited past the lock timeout: for whom
            what = f"{label}'s row in the team database"
            exc = await in_daemon_thread(db.name_row_holder, exc, "integration", integration_id, what)
        started = db.is_postgres and run_id is not None
        outcome = result("failed", _cut(exc.sentence, state["days"], started))
    except GrafientError as exc:
        outcome = result("failed", exc.sentence)
    except Exception as exc:  # noqa: BLE001  (one odd failure must not take the other integrations down)
        # The traceback as scrubbed text, never exc_info: an exception from below us (a transport,
        # a proxy) can quote the request's credentials, and a log handler prints exc_info as it is.
        log.debug("sync %s failed unexpectedly:\n%s", label, scrub_known("".join(traceback.format_exception(exc))))
        outcome = result("failed", f"unexpected error ({type(exc).__name__}); rerun with GRAFIENT_DEBUG=1 for details")
    finally:
        lock.release()
    if run_id is not None:
        await store(_finish_quietly, db, run_id, outcome, clock(), identity=identity)
    return outcome


def _write_locked(db: Database, lock: IntegrationLock, integration_id: int, *args: Any, **kwargs: Any) -> int:
    """write_window, once the lock is known to be held. A team server's failure that a moment may cure
    is tried once more, after a pause and after the lock is checked again (a restart that cut the
    write took the lock with it, and then the sync stops)."""
    lock.check()
    try:
        return write_window(db, integration_id, *args, **kwargs)
    except StoreError as exc:
        if not (db.is_postgres and exc.transient):
            raise
        log.debug("%s; the window is written again once the lock is checked", exc.sentence)
    _pause(RETRY_PAUSE_BASES * db.settings.backoff_base)
    lock.check()
    return write_window(db, integration_id, *args, **kwargs)


def _cut(sentence: str, days: int, started: bool) -> str:
    """A database failure's sentence, with what the sync had written before it: the windows already
    written stand, the rest were not."""
    if not started:
        return sentence
    sentence = sentence.rstrip(".")
    if days:
        return f"{sentence}; {days:,} {'day' if days == 1 else 'days'} written, the rest not (run the sync again)"
    return f"{sentence}; nothing was written (run the sync again)"


async def in_daemon_thread(work: Callable[..., T], *args: object, **kwargs: object) -> T:
    """`await work(*args)` run in a daemon thread.

    Like asyncio.to_thread, but the thread never holds the process open: a store write waiting out
    SQLite's busy timeout (another process holds the write lock) must not delay quitting. A write
    cut short by the exit is a transaction never committed, which SQLite rolls back."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(setter: Callable[[Any], None], value: Any) -> None:
        if not future.done():
            setter(value)

    def run() -> None:
        try:
            outcome = work(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001  (handed to the awaiting coroutine)
            deliver, value = future.set_exception, exc
        else:
            deliver, value = future.set_result, outcome
        try:
            loop.call_soon_threadsafe(settle, deliver, value)
        except RuntimeError:
            pass  # the loop has closed: nobody waits for this any more

    threading.Thread(target=run, name="grafient-store", daemon=True).start()
    return await future


class _SyncClock:
    """Wall time, or a pinned start (tests, GRAFIENT_NOW) advanced by the real elapsed time."""

    def __init__(self, start: datetime | None) -> None:
        self._start = start
        self._t0 = _monotonic()

    def __call__(self) -> datetime:
        if self._start is None:
            return _now()
        return self._start + timedelta(seconds=_monotonic() - self._t0)


def _finish_quietly(
    db: Database,
    run_id: int,
    result: SyncResult,
    finished: datetime,
    outcome: str | None = None,
    identity: tuple[str, datetime] | None = None,
) -> None:
    try:
        _finish_run(db, run_id, result, finished, outcome, identity)
    except GrafientError as exc:  # the disk may be full; the next run marks this one interrupted
        log.warning("could not record the sync outcome: %s", exc.sentence)


async def backfill_integration(db: Database, vault: Vault, settings: Settings, integration_id: int, **kw) -> SyncResult:
    return await run_sync(db, vault, settings, integration_id, "backfill", **kw)


async def daily_sync(db: Database, vault: Vault, settings: Settings, integration_id: int, **kw) -> SyncResult:
    return await run_sync(db, vault, settings, integration_id, "daily", **kw)


async def force_sync(db: Database, vault: Vault, settings: Settings, integration_id: int, **kw) -> SyncResult:
    return await run_sync(db, vault, settings, integration_id, "force", **kw)


__all__ = [
    "ProgressCallback",
    "SyncProgress",
    "SyncResult",
    "backfill_integration",
    "daily_sync",
    "days_to_fetch",
    "force_sync",
    "is_sync_running",
    "plan_windows",
    "run_sync",
    "sync_due",
    "sync_status",
]
