"""Budgets in the store: set and remove them, and remember which thresholds have been announced
(once per budget, period and threshold, across restarts and across every process sharing the database).

Listing and evaluating them are reads: store/budget_queries.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete
from sqlmodel import Session, col, select

from grafient_tui.budgets import MEASURES, PERIODS, BudgetStatus
from grafient_tui.budgets.wording import Replaced
from grafient_tui.errors import NotFound
from grafient_tui.store.budget_queries import ALL, BudgetRow
from grafient_tui.store.db import Database
from grafient_tui.store.integrations import find_integration
from grafient_tui.store.models import AlertSent, Budget, Integration

if TYPE_CHECKING:
    from sqlalchemy.sql.dml import ReturningInsert


def target_key(integration_id: int | None) -> str:
    return ALL if integration_id is None else str(integration_id)


def resolve_target(db: Database, text: str) -> Integration | None:
    """`all` (any case): None, every integration together. Else the integration by id or label
    (NotFound with its sentence). An integration labelled "all" is reached by its id."""
    if text.strip().casefold() == ALL:
        return None
    return find_integration(db, text)


def _row(budget: Budget, integration: Integration | None) -> BudgetRow:
    assert budget.id is not None  # flushed
    return BudgetRow(
        id=budget.id,
        target=ALL if integration is None else integration.label,
        target_id=budget.integration_id,
        provider=None if integration is None else integration.provider,
        period=budget.period,
        measure=budget.measure,
        amount_micro=budget.amount_micro,
    )


def set_budget(
    db: Database, integration: Integration | None, period: str, measure: str, amount_micro: int, now: datetime
) -> tuple[BudgetRow, Replaced | None]:
    """Create or replace the budget of (target, period); the one it replaced (its amount and measure), or
    None. A budget whose
    amount or measure changes forgets the thresholds it announced in the current period: they meant
    other amounts."""
    if period not in PERIODS or measure not in MEASURES:
        raise ValueError(f"bad period or measure: {period!r}, {measure!r}")
    key = target_key(None if integration is None else integration.id)
    with db.session(write=True) as session:
        if integration is not None and session.get(Integration, integration.id) is None:
            raise NotFound(f"integration {integration.id} was removed meanwhile; no budget was set.")
        budget = session.exec(select(Budget).where(Budget.target_key == key, Budget.period == period)).first()
        replaced = None if budget is None else Replaced(budget.amount_micro, budget.measure)
        if budget is None:
            budget = Budget(
                target_key=key,
                integration_id=None if integration is None else integration.id,
                period=period,
                measure=measure,
                amount_micro=amount_micro,
                created_at=now,
                updated_at=now,
            )
        elif (budget.amount_micro, budget.measure) != (amount_micro, measure):
            session.exec(delete(AlertSent).where(col(AlertSent.budget_id) == budget.id))
            budget.amount_micro, budget.measure, budget.updated_at = amount_micro, measure, now
        session.add(budget)
        session.flush()
        session.refresh(budget)
        return _row(budget, integration), replaced


def remove_budget(db: Database, integration: Integration | None, period: str) -> BudgetRow:
    key = target_key(None if integration is None else integration.id)
    with db.session(write=True) as session:
        budget = session.exec(select(Budget).where(Budget.target_key == key, Budget.period == period)).first()
        if budget is None:
            name = ALL if integration is None else repr(integration.label)
            raise NotFound(
                f"there is no {'monthly' if period == 'month' else 'billing-cycle'} budget on {name} "
                "(see `grafient budget list`)."
            )
        row = _row(budget, integration)
        session.exec(delete(AlertSent).where(col(AlertSent.budget_id) == budget.id))
        session.exec(delete(Budget).where(col(Budget.id) == budget.id))
        return row


# --------------------------------------------------------------------------- announcements


def record_crossings(
    db: Database, statuses: list[BudgetStatus], now: datetime
) -> list[tuple[BudgetStatus, tuple[str, ...]]]:
    """Note every threshold the budgets stand past that was not announced yet in their period, and
    return those (budget, thresholds): each is returned once, whichever process asks first."""
    wanted = [(s, s.thresholds) for s in statuses if s.thresholds]
    if not wanted:
        return []
    fresh = []
    with db.session(write=True) as session:
        insert = _insert_ignoring_duplicates(session)
        for status, thresholds in wanted:
            new = []
            for threshold in thresholds:
                done = session.execute(
                    insert.values(
                        budget_id=status.budget_id, period_start=status.bounds.start, threshold=threshold, sent_at=now
                    )
                )
                if done.first() is not None:  # RETURNING gave the new row: this process inserted it
                    new.append(threshold)
            if new:
                fresh.append((status, tuple(new)))
    return fresh


def _insert_ignoring_duplicates(session: Session) -> ReturningInsert[tuple[int]]:
    """INSERT ... ON CONFLICT DO NOTHING on AlertSent, in the database's own dialect: two processes
    crossing the same threshold at once both try, and exactly one inserts (and announces)."""
    table = AlertSent.metadata.tables["alertsent"]
    # RETURNING rather than rowcount, which a driver may leave at -1 for such a statement (psycopg does).
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgres_insert

        return postgres_insert(table).on_conflict_do_nothing().returning(table.c.id)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).on_conflict_do_nothing().returning(table.c.id)
