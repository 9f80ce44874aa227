"""Budgets as read from the store: list them, and evaluate them for a day into the read model.

Spend comes from the stored daily rows, like every other figure (plain reads, store/read.py); the
pure rules (bounds, forecast, status) are grafient_tui.budgets'. Setting and removing budgets, and
noting the thresholds announced, are writes: store/budgets.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from grafient_tui.budgets import (
    FORECAST_WINDOW_DAYS,
    MEASURES,
    PERIODS,
    BudgetStatus,
    budget_status,
    forecast,
    period_bounds,
)
from grafient_tui.budgets.wording import in_words
from grafient_tui.estimates import together
from grafient_tui.figures import IntegrationInfo
from grafient_tui.store.queries import IntegrationPart, integration_parts, integrations
from grafient_tui.store.read import Reader, ReadSource, day, integer, marks

ALL = "all"
MAX_BUDGET_MICRO = 10**17  # a billion dollars: what `budget set` accepts at most, with room to spare


@dataclass(frozen=True, kw_only=True)
class BudgetRow:
    id: int
    target: str  # "all" or the integration's label
    target_id: int | None
    provider: str | None
    period: str
    measure: str
    amount_micro: int


def _usable(period: object, measure: object, amount: object) -> bool:
    """A budget row this Grafient can evaluate: a known period and measure, an amount above 0 of a
    plausible size. Anyone who may write the database may have written it, or a newer Grafient."""
    return period in PERIODS and measure in MEASURES and type(amount) is int and 0 < amount <= MAX_BUDGET_MICRO


_BUDGETS_SQL = (
    "SELECT budget.id, budget.integration_id, budget.period, budget.measure, budget.amount_micro, "
    "integration.label, integration.provider FROM budget "
    "LEFT JOIN integration ON integration.id = budget.integration_id"
)


def list_budgets(source: ReadSource) -> list[BudgetRow]:
    """All before single integrations, then by integration id; month before cycle. Budgets this Grafient
    cannot use are left out (`unusable_budgets` says which)."""
    with source.reader() as read:
        found = read.rows(_BUDGETS_SQL)
    rows = [
        BudgetRow(
            id=int(budget_id),
            target=ALL if integration_id is None else str(label),
            target_id=integer(integration_id),
            provider=None if integration_id is None else str(provider),
            period=str(period),
            measure=str(measure),
            amount_micro=int(amount),
        )
        for budget_id, integration_id, period, measure, amount, label, provider in found
        if _usable(period, measure, amount)
    ]
    return sorted(rows, key=lambda r: (r.target_id is not None, r.target_id or 0, PERIODS.index(r.period)))


def unusable_budgets(source: ReadSource) -> list[str]:
    """One sentence for each stored budget this Grafient cannot use (left out of every list and check)."""
    with source.reader() as read:
        found = read.rows(_BUDGETS_SQL)
    ids = sorted(int(row[0]) for row in found if not _usable(row[2], row[3], row[4]))
    return [
        f"budget {budget_id} in the database has a period, measure or amount this Grafient cannot use, so it "
        "is left out; remove it with `grafient budget remove` or set it again"
        for budget_id in ids
    ]


def _has_on_demand(provider: str) -> bool:
    from grafient_tui import providers
    from grafient_tui.errors import GrafientError

    try:
        return providers.capabilities(provider).has_on_demand
    except GrafientError:  # a provider this version does not know
        return False


def _anchor(targets: list[IntegrationInfo]) -> date | None:
    """The billing-cycle anchor these integrations share: every one that has a cycle starts it on
    the same day of the month. None when none has one or they differ (then the calendar month)."""
    anchors = [i.cycle_start for i in targets if i.cycle_start is not None]
    if not anchors or len({a.day for a in anchors}) > 1:
        return None
    return max(anchors)


def evaluate(source: ReadSource, today: date) -> list[BudgetStatus]:
    """Every budget, for the period holding `today` (a UTC day)."""
    with source.reader() as read:
        budgets = list_budgets(read)
        if not budgets:
            return []
        every = integrations(read)
        return [_evaluate(read, row, every, today) for row in budgets]


def _evaluate(read: Reader, row: BudgetRow, every: list[IntegrationInfo], today: date) -> BudgetStatus:
    targets = [i for i in every if row.target_id is None or i.integration_id == row.target_id]
    notes = []
    if row.measure == "on_demand":
        counted = [i for i in targets if _has_on_demand(i.provider)]
        if row.target_id is None and len(counted) < len(targets):
            from grafient_tui import providers

            names = sorted({providers.title(i.provider) for i in counted}) or ["Cursor"]
            notes.append(f"on-demand of {in_words(names)} only (the others bill everything per use)")
        targets = counted
    basis = together((i.label, i.basis) for i in targets)
    if basis.note:  # "includes estimates (Acme Voice)"; "leaves out … (cost unknown)"
        notes.append(basis.note)
    anchor = _anchor(targets) if row.period == "cycle" else None
    bounds = period_bounds(row.period, today, anchor)
    ids = [i.integration_id for i in targets]
    yesterday = today - timedelta(days=1)
    window_start = today - timedelta(days=FORECAST_WINDOW_DAYS)
    parts = integration_parts(read, ids)
    days = _days(read, parts, min(bounds.start, window_start), today, row.measure)

    def expected(when: date) -> int:
        """How many of the integrations can have the day (a provider keeps so many days)."""
        return sum(1 for part in parts if part.can_have(when, today))

    spent = sum(d.spent_micro for day, d in days.items() if bounds.start <= day <= today)
    spent_through_yesterday = sum(d.spent_micro for day, d in days.items() if bounds.start <= day <= yesterday)
    complete = [
        d.spent_micro
        for day, d in days.items()
        if window_start <= day <= yesterday and ids and d.complete >= expected(day) > 0
    ]
    finished = max(0, (yesterday - bounds.start).days + 1)
    synced = sum(
        1
        for n in range(finished)
        if ids and _synced(days, bounds.start + timedelta(days=n), expected(bounds.start + timedelta(days=n)))
    )
    result = forecast(
        spent_through_yesterday=spent_through_yesterday,
        spent=spent,
        complete_day_costs=complete,
        days_left=bounds.days_left(today),
    )
    # The spend is known once some integration counted has a synced day of the period (as a summary's)
    spent_known = any(bounds.start <= day <= today for day in days)
    if not ids:
        notes.append("no integration to count yet")
    elif not spent_known:
        notes.append("no day of this period synced yet: spent unknown")
    return budget_status(
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
        spent_known=spent_known,
    )


@dataclass(frozen=True, kw_only=True)
class _DaySpend:
    synced: int  # how many of the integrations have the day synced
    complete: int  # how many have it complete
    spent_micro: int  # their spend on the day, in the budget's measure


def _synced(days: dict[date, _DaySpend], when: date, expected: int) -> bool:
    """Every integration that can have the day has it (a day none can have is no gap)."""
    got = days.get(when)
    return (got.synced if got else 0) >= expected


def _days(read: Reader, parts: list[IntegrationPart], since: date, until: date, measure: str) -> dict[date, _DaySpend]:
    """Each day of [since, until] the integrations have: how many have it, and their spend in the
    budget's measure (billed: each provider's rule, the on-demand part where a plan covers the rest)."""
    ids = [part.integration_id for part in parts]
    if not ids:
        return {}
    covered = [part.integration_id for part in parts if part.billed_is_on_demand]
    if measure == "cost":
        column = "cost_micro"
    elif measure == "on_demand":
        column = "on_demand_micro"
    else:
        column = f"CASE WHEN integration_id IN ({marks(len(covered))}) THEN on_demand_micro ELSE cost_micro END"
    rows = read.rows(
        f"SELECT day, COUNT(*), SUM(CASE WHEN complete THEN 1 ELSE 0 END), SUM({column}) FROM dailycost "
        f"WHERE integration_id IN ({marks(len(ids))}) AND day >= ? AND day <= ? "
        # a day before the earliest the provider returned usage for is not kept, never a $0 day
        "AND NOT EXISTS (SELECT 1 FROM integration AS i WHERE i.id = dailycost.integration_id "
        "AND i.history_from > dailycost.day) GROUP BY day",
        *(covered if measure == "billed" else []),
        *ids,
        since,
        until,
    )
    return {
        day(stored): _DaySpend(synced=int(n), complete=int(done or 0), spent_micro=int(cost or 0))
        for stored, n, done, cost in rows
    }
