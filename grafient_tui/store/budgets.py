"""Budgets in the store: set, list and remove them, evaluate them for a day, and remember which
thresholds have been announced (once per budget, period and threshold, across restarts and across
every process sharing the database).

Spend comes from the stored daily rows, like every other figure; the pure rules (bounds, forecast,
status) are grafient_tui.budgets'.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import case, delete, func
from sqlmodel import select

from grafient_tui.budgets import (
    FORECAST_WINDOW_DAYS,
    MEASURES,
    PERIODS,
    BudgetStatus,
    forecast,
    period_bounds,
)
from grafient_tui.budgets.wording import in_words
from grafient_tui.errors import NotFound
from grafient_tui.estimates import basis_for, together
from grafient_tui.store.db import Database
from grafient_tui.store.integrations import find_integration
from grafient_tui.store.models import AlertSent, Budget, DailyCost, Integration, MemberCycleSpend

ALL = "all"


@dataclass(frozen=True)
class BudgetRow:
    id: int
    target: str  # "all" or the integration's label
    target_id: int | None
    provider: str | None
    period: str
    measure: str
    amount_micro: int


def target_key(integration_id: int | None) -> str:
    return ALL if integration_id is None else str(integration_id)


def resolve_target(db: Database, text: str) -> Integration | None:
    """`all` (any case): None, every integration together. Else the integration by id or label
    (NotFound with its sentence). An integration labelled "all" is reached by its id."""
    if text.strip().casefold() == ALL:
        return None
    return find_integration(db, text)


def _row(budget: Budget, integration: Integration | None) -> BudgetRow:
    return BudgetRow(
        int(budget.id),
        ALL if integration is None else integration.label,  # type: ignore[arg-type]
        budget.integration_id,
        None if integration is None else integration.provider,
        budget.period,
        budget.measure,
        budget.amount_micro,
    )


def set_budget(
    db: Database, integration: Integration | None, period: str, measure: str, amount_micro: int, now: datetime
) -> tuple[BudgetRow, bool]:
    """Create or replace the budget of (target, period); True when one was replaced. A budget whose
    amount or measure changes forgets the thresholds it announced in the current period: they meant
    other amounts."""
    if period not in PERIODS or measure not in MEASURES:
        raise ValueError(f"bad period or measure: {period!r}, {measure!r}")
    key = target_key(None if integration is None else integration.id)
    with db.session(write=True) as session:
        if integration is not None and session.get(Integration, integration.id) is None:
            raise NotFound(f"integration {integration.id} was removed meanwhile; no budget was set.")
        budget = session.exec(select(Budget).where(Budget.target_key == key, Budget.period == period)).first()
        replaced = budget is not None
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
            session.exec(delete(AlertSent).where(AlertSent.budget_id == budget.id))
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
        session.exec(delete(AlertSent).where(AlertSent.budget_id == budget.id))
        session.exec(delete(Budget).where(Budget.id == budget.id))
        return row


MAX_BUDGET_MICRO = 10**17  # a billion dollars: what `budget set` accepts at most, with room to spare


def usable(budget: Budget) -> bool:
    """A budget row this Grafient can evaluate: a known period and measure, an amount above 0 of a
    plausible size. Anyone who may write the database may have written it, or a newer Grafient."""
    return (
        budget.period in PERIODS
        and budget.measure in MEASURES
        and type(budget.amount_micro) is int
        and 0 < budget.amount_micro <= MAX_BUDGET_MICRO
    )


def unusable_budgets(db: Database) -> list[str]:
    """One sentence for each stored budget this Grafient cannot use (left out of every list and check)."""
    with db.session() as session:
        ids = [b.id for b in session.exec(select(Budget).order_by(Budget.id)) if not usable(b)]
    return [
        f"budget {budget_id} in the database has a period, measure or amount this Grafient cannot use, so it "
        "is left out; remove it with `grafient budget remove` or set it again"
        for budget_id in ids
    ]


def list_budgets(db: Database) -> list[BudgetRow]:
    """All before single integrations, then by integration id; month before cycle. Budgets this Grafient
    cannot use are left out (`unusable_budgets` says which)."""
    with db.session() as session:
        pairs = session.exec(select(Budget, Integration).join(Integration, isouter=True)).all()
    rows = [_row(budget, integration) for budget, integration in pairs if usable(budget)]
    return sorted(rows, key=lambda r: (r.target_id is not None, r.target_id or 0, PERIODS.index(r.period)))


# --------------------------------------------------------------------------- evaluation


def _has_on_demand(provider: str) -> bool:
    from grafient_tui import providers
    from grafient_tui.errors import GrafientError

    try:
        return providers.get(provider).capabilities.has_on_demand
    except GrafientError:  # a provider this version does not know
        return False


def _anchor(integrations: list[Integration]) -> date | None:
    """The billing-cycle anchor these integrations share: every one that has a cycle starts it on
    the same day of the month. None when none has one or they differ (then the calendar month)."""
    anchors = [i.cycle_start for i in integrations if i.cycle_start is not None]
    if not anchors or len({a.day for a in anchors}) > 1:
        return None
    return max(anchors)


def evaluate(db: Database, today: date) -> list[BudgetStatus]:
    """Every budget, for the period holding `today` (a UTC day)."""
    budgets = list_budgets(db)
    if not budgets:
        return []
    with db.session() as session:
        integrations = list(session.exec(select(Integration).order_by(Integration.id)))
    return [_evaluate(db, row, integrations, today) for row in budgets]


def _evaluate(db: Database, row: BudgetRow, integrations: list[Integration], today: date) -> BudgetStatus:
    targets = [i for i in integrations if row.target_id is None or i.id == row.target_id]
    notes = []
    if row.measure == "on_demand":
        counted = [i for i in targets if _has_on_demand(i.provider)]
        if row.target_id is None and len(counted) < len(targets):
            from grafient_tui import providers

            names = sorted({providers.title(i.provider) for i in counted}) or ["Cursor"]
            notes.append(f"on-demand of {in_words(names)} only (the others bill everything per use)")
        targets = counted
    basis = together((i.label, basis_for(i.provider, i.cost_basis)) for i in targets)
    if basis.note:  # "includes estimates (Acme Voice)"; "leaves out … (cost unknown)"
        notes.append(basis.note)
    anchor = _anchor(targets) if row.period == "cycle" else None
    bounds = period_bounds(row.period, today, anchor)
    ids = [int(i.id) for i in targets]  # type: ignore[arg-type]
    yesterday = today - timedelta(days=1)
    window_start = today - timedelta(days=FORECAST_WINDOW_DAYS)
    days = _days(db, ids, min(bounds.start, window_start), today, row.measure)
    spent = sum(cost for day, (_, _, cost) in days.items() if bounds.start <= day <= today)
    spent_through_yesterday = sum(cost for day, (_, _, cost) in days.items() if bounds.start <= day <= yesterday)
    complete = [
        cost for day, (_, done, cost) in days.items() if window_start <= day <= yesterday and ids and done == len(ids)
    ]
    finished = max(0, (yesterday - bounds.start).days + 1)
    synced = sum(1 for day, (n, _, _) in days.items() if bounds.start <= day <= yesterday and ids and n == len(ids))
    result = forecast(
        spent_through_yesterday=spent_through_yesterday,
        spent=spent,
        complete_day_costs=complete,
        days_left=bounds.days_left(today),
    )
    if not ids:
        notes.append("no integration to count yet")
    return BudgetStatus(
        budget_id=row.id,
        target=row.target,
        target_id=row.target_id,
        provider=row.provider,
        period=row.period,
        measure=row.measure,
        budget_micro=row.amount_micro,
        bounds=bounds,
        today=today.isoformat(),
        spent_micro=spent,
        forecast=result,
        synced_days=synced,
        finished_days=finished,
        note="; ".join(notes) or None,
        estimated=basis.estimated,
    )


def _days(db: Database, ids: list[int], since: date, until: date, measure: str) -> dict[date, tuple[int, int, int]]:
    """day -> (integrations with the day synced, with it complete, their spend) over [since, until]."""
    if not ids:
        return {}
    t = DailyCost
    column = t.cost_micro if measure == "cost" else t.on_demand_micro
    with db.session() as session:
        result = session.exec(
            select(
                t.day,
                func.count(t.id),
                func.sum(case((t.complete == True, 1), else_=0)),  # noqa: E712
                func.sum(column),
            )
            .where(t.integration_id.in_(ids), t.day >= since, t.day <= until)
            .group_by(t.day)
        ).all()
    return {day: (int(n), int(done or 0), int(cost or 0)) for day, n, done, cost in result}


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


def _insert_ignoring_duplicates(session):
    """INSERT ... ON CONFLICT DO NOTHING on AlertSent, in the database's own dialect: two processes
    crossing the same threshold at once both try, and exactly one inserts (and announces)."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    table = AlertSent.__table__
    # RETURNING rather than rowcount, which a driver may leave at -1 for such a statement (psycopg does).
    return insert(table).on_conflict_do_nothing().returning(table.c.id)


def member_limits(db: Database, integration_id: int) -> list[MemberCycleSpend]:
    """The members' cycle spend and limits as last read from the provider (empty when it gives none)."""
    with db.session() as session:
        return list(
            session.exec(
                select(MemberCycleSpend)
                .where(MemberCycleSpend.integration_id == integration_id)
                .order_by(MemberCycleSpend.member)
            )
        )
