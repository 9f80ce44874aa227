"""Every write a sync makes: a window of days, the billing cycle, what it learnt of the provider's
history and team, and its run in the sync log. Each is one transaction.

Each writer first checks, inside its transaction, that the integration it was started for is still
the one stored (`check_still_there`): a window of an integration removed or re-keyed meanwhile is
never written.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlmodel import Session

from grafient_tui import money
from grafient_tui.errors import BadResponse, GrafientError
from grafient_tui.figures import SyncResult
from grafient_tui.providers.base import Billing, CostBasis
from grafient_tui.store.db import Database
from grafient_tui.store.integrations import table_of
from grafient_tui.store.models import (
    DailyCost,
    DailyMemberCost,
    DailyModelCost,
    Integration,
    MemberCycleSpend,
    SyncRun,
)
from grafient_tui.store.sums import MAX_DAY_COUNT, MAX_DAY_CREDITS_MICRO, WindowSums, day_runs
from grafient_tui.store.team import who_runs

# The integration's (uid, created_at) when its sync started: the row a sync's writes belong to.
Identity = tuple[str, datetime]
Row = dict[str, Any]


class IntegrationGone(GrafientError):
    """The integration this sync started for is no longer the one in the store."""

    def __init__(self, sentence: str, *, removed: bool) -> None:
        super().__init__(sentence)
        self.removed = removed


def aware(moment: datetime) -> datetime:
    """A stored moment as UTC (SQLite hands it back without a zone)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def check_still_there(session: Session, integration_id: int, identity: Identity | None) -> None:
    """Inside the writer's transaction: the integration row with this id, and (when given) the same
    uid and creation time, still exists; else IntegrationGone, and the caller writes nothing.

    On PostgreSQL the row is locked (FOR UPDATE) until the transaction ends: writers of one
    integration, on any machine, go one after another, so a window's delete-then-insert always sees
    what the writer before it committed and never meets a duplicate key. (SQLite's writers are one
    at a time already: BEGIN IMMEDIATE; there the clause is left out.)"""
    table = table_of(Integration)
    row = (
        session.connection()
        .execute(select(table.c.uid, table.c.created_at).where(table.c.id == integration_id).with_for_update())
        .first()
    )
    if identity is not None and row is not None and (row[0], aware(row[1])) != (identity[0], aware(identity[1])):
        if aware(row[1]) == aware(identity[1]):  # same row, new uid: `rekey` sealed a new key
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


# ---------------------------------------------------------------- a window of days


def write_window(
    db: Database,
    integration_id: int,
    first: date,
    last: date,
    totals: WindowSums,
    synced_at: datetime,
    *,
    identity: Identity | None = None,
    source: str = "the provider",
    covered: list[date] | None = None,
    cost_basis: CostBasis | None = None,
) -> int:
    """Replace the stored days `covered` (every day of [first, last] when not given) with `totals`,
    all in one transaction; days of the window the answer did not cover stay as they were. Returns
    the number of days written; a day is complete when it had ended by `synced_at` (UTC).

    `cost_basis`, when the provider says how these dollars were made (an estimate's plan, a
    converted currency), is stored with the integration in the same transaction, so the figures and
    the words beside them always agree.

    `source` names who sent the figures in the sentence when a sum is too large to store
    ("the <title> API").

    `identity` is the integration's (uid, created_at) when the sync started: if that row is gone
    (removed, or replaced under the same id) the window is dropped and IntegrationGone raised."""
    synced_at = synced_at.astimezone(UTC)
    today = synced_at.date()
    if covered is None:
        covered = [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
    days = sorted({day for day in covered if first <= day <= last})
    wanted = set(days)
    day_rows: list[Row] = [
        {
            "integration_id": integration_id,
            "day": day,
            **(totals.days.get(day) or totals.empty_day()).columns(),
            "synced_at": synced_at,
            "complete": day < today,
        }
        for day in days
    ]
    model_rows: list[Row] = [
        {"integration_id": integration_id, "day": day, "model": model, **sums.columns()}
        for (day, model), sums in totals.models.items()
        if day in wanted
    ]
    member_rows: list[Row] = [
        {
            "integration_id": integration_id,
            "day": day,
            "email": email,
            "cost_micro": sums.cost_micro,
            "requests": sums.requests,
        }
        for (day, email), sums in totals.members.items()
        if day in wanted
    ]
    check_storable(source, first, last, day_rows, model_rows, member_rows)
    with db.session(write=True) as session:
        check_still_there(session, integration_id, identity)
        # Core statements, not ORM units of work: a busy window is tens of
        # thousands of member rows, and this is one executemany each.
        connection = session.connection()
        tables = [(table_of(DailyCost), day_rows), (table_of(DailyModelCost), model_rows)]
        tables.append((table_of(DailyMemberCost), member_rows))
        for runs_start, runs_end in day_runs(days):
            for table, _ in tables:
                connection.execute(
                    delete(table).where(
                        table.c.integration_id == integration_id, table.c.day >= runs_start, table.c.day <= runs_end
                    )
                )
        for table, rows in tables:
            if rows:
                connection.execute(insert(table), rows)
        _note_history(connection, integration_id, totals)
        if cost_basis is not None:
            integration = table_of(Integration)
            connection.execute(
                update(integration)
                .where(integration.c.id == integration_id)
                .values(cost_basis=json.dumps(cost_basis.to_json(), ensure_ascii=True, sort_keys=True))
            )
    return len(day_rows)


def _note_history(connection: Connection, integration_id: int, totals: WindowSums) -> None:
    """Move the integration's `history_from` back to the earliest day a provider sent usage for."""
    if not totals.days:
        return
    earliest = min(totals.days)
    table = table_of(Integration)
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
# (store/sums.py keeps them, so that store/row_check.py reads them without the database toolkit.)
MAX_DAY_MICRO = money.MAX_DAY_MICRO
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


def check_storable(source: str, first: date, last: date, *tables: list[Row]) -> None:
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


# ---------------------------------------------------------------- the billing cycle, the provider's edges


def write_billing(
    db: Database,
    integration_id: int,
    billing: Billing,
    synced_at: datetime,
    *,
    identity: Identity | None = None,
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
        check_still_there(session, integration_id, identity)
        connection = session.connection()
        table = table_of(MemberCycleSpend)
        connection.execute(delete(table).where(table.c.integration_id == integration_id))
        if rows:
            connection.execute(insert(table), rows)
        if billing.cycle_start is not None:
            table = table_of(Integration)
            connection.execute(
                update(table)
                .where(
                    table.c.id == integration_id,
                    (table.c.cycle_start.is_(None)) | (table.c.cycle_start != billing.cycle_start),
                )
                .values(cycle_start=billing.cycle_start)
            )
    return len(rows)


def note_history_limit(db: Database, integration_id: int, first_kept: date) -> None:
    """The provider keeps nothing before `first_kept`: backfills stop there from now on."""
    _set_integration(db, integration_id, history_limit=first_kept)


def note_members(db: Database, integration_id: int, members: int) -> None:
    """How many members the provider's answers named."""
    _set_integration(db, integration_id, team_members=members)


def _set_integration(db: Database, integration_id: int, **values: object) -> None:
    table = table_of(Integration)
    with db.session(write=True) as session:
        session.connection().execute(update(table).where(table.c.id == integration_id).values(**values))


# ---------------------------------------------------------------- the sync log


def start_run(
    db: Database,
    integration_id: int,
    trigger: str,
    started: datetime,
    identity: Identity | None = None,
    lock_pid: int | None = None,
) -> int:
    """Record a run as running (and any run left running by a process that died as interrupted);
    returns its id."""
    with db.session(write=True) as session:
        check_still_there(session, integration_id, identity)  # removed while we waited for the lock
        # We hold the lock, so any run still marked running belongs to a process that died.
        table = table_of(SyncRun)
        session.connection().execute(
            update(table)
            .where(table.c.integration_id == integration_id, table.c.outcome == "running")
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
        assert run.id is not None  # the flush gave it one
        return int(run.id)


def finish_run(
    db: Database,
    run_id: int,
    result: SyncResult,
    finished: datetime,
    outcome: str | None = None,
    identity: Identity | None = None,
) -> None:
    """Record how the run ended (`outcome`, else the result's). Nothing when its integration was
    removed meanwhile: its sync log went with it, and the run's id may since belong to another."""
    with db.session(write=True) as session:
        try:
            check_still_there(session, result.integration_id, identity)
        except IntegrationGone as gone:
            if gone.removed:
                return
        table = table_of(SyncRun)
        session.connection().execute(
            update(table)
            .where(table.c.id == run_id)
            .values(
                finished_at=finished,
                outcome=outcome or result.outcome,
                requests=result.requests,
                rate_limited=result.rate_limited,
                retries=result.retries,
                days_written=result.days_written,
                error=result.error,
                error_kind=result.error_kind,
            )
        )
