"""What the screens show, read from the store in one go. No Textual here.

The app calls these in thread workers, so the event loop never waits on the database (a sync in
another process may hold SQLite's write lock for seconds); the screens only render the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from grafient_tui.budgets import BudgetStatus
from grafient_tui.config import PLANS, Settings
from grafient_tui.estimates import BILLED, Basis, basis_for, together
from grafient_tui.store.budgets import evaluate, member_limits
from grafient_tui.store.db import Database
from grafient_tui.store.integrations import IntegrationStatus, find_integration, list_integrations
from grafient_tui.store.models import Integration, MemberCycleSpend
from grafient_tui.store.queries import (
    DayRow,
    MemberRow,
    ModelRow,
    Summary,
    daily_costs,
    member_breakdown,
    model_breakdown,
    period_summary,
)
from grafient_tui.store.team import effective_settings
from grafient_tui.sync.engine import sync_status


@dataclass(frozen=True)
class IntegrationFigures:
    """One integration over the period: who it is, its figures, its days and its stored sync state."""

    integration_id: int
    label: str
    provider: str
    key_hint: str
    team_members: int | None
    summary: Summary
    days: tuple[DayRow, ...]
    status: IntegrationStatus
    history_from: date | None = None  # the earliest day the provider returned usage for
    basis: Basis = BILLED  # how its dollars were made: every figure of it is marked this way


@dataclass(frozen=True)
class HomeData:
    period: int
    today: date
    plan: str
    integrations: tuple[IntegrationFigures, ...]
    summary: Summary | None  # every integration together; None when there are none
    budgets: tuple[BudgetStatus, ...] = ()  # every budget, for the period holding today
    basis: Basis = BILLED  # of the total over every integration (an estimate when one of them is)
    # The models of the period's estimated integrations: the most expensive model's figure is marked ≈
    # only when it is one of them.
    estimated_models: frozenset[str] = frozenset()

    def budgets_of(self, integration_id: int | None) -> tuple[BudgetStatus, ...]:
        """The budgets on one integration, or (None) on all together."""
        return tuple(b for b in self.budgets if b.target_id == integration_id)


@dataclass(frozen=True)
class DetailData:
    period: int
    today: date
    plan: str
    plan_days: int
    figures: IntegrationFigures
    models: tuple[ModelRow, ...]
    members: tuple[MemberRow, ...]
    budgets: tuple[BudgetStatus, ...] = ()  # the budgets on this integration
    member_limits: tuple[MemberCycleSpend, ...] = ()  # each member's cycle spend and limit (Cursor)


def _figures(
    db: Database, settings: Settings, integration: Integration, period: int, today: date
) -> IntegrationFigures:
    since = today - timedelta(days=period - 1)
    iid = int(integration.id)  # type: ignore[arg-type]
    return IntegrationFigures(
        integration_id=iid,
        label=integration.label,
        provider=integration.provider,
        key_hint=integration.key_hint,
        team_members=integration.team_members,
        summary=period_summary(db, iid, days=period, until=today, today=today),
        days=tuple(daily_costs(db, iid, since, today)),
        status=sync_status(db, settings, iid),
        history_from=integration.history_from,
        basis=basis_for(integration.provider, integration.cost_basis),
    )


def load_home(db: Database, settings: Settings, period: int, today: date) -> HomeData:
    integrations = list_integrations(db)
    figures = tuple(_figures(db, settings, i, period, today) for i in integrations)
    summary = (
        period_summary(db, [f.integration_id for f in figures], days=period, until=today, today=today)
        if figures
        else None
    )
    return HomeData(
        period,
        today,
        effective_settings(db, settings).plan(),
        figures,
        summary,
        tuple(evaluate(db, today)),
        together((f.label, f.basis) for f in figures),
        frozenset(
            row.model
            for f in figures
            if f.basis.estimated
            for row in model_breakdown(db, f.integration_id, today - timedelta(days=period - 1), today)
        ),
    )


def load_detail(db: Database, settings: Settings, integration_id: int, period: int, today: date) -> DetailData:
    """NotFound when the integration is gone."""
    integration = find_integration(db, integration_id)
    since = today - timedelta(days=period - 1)
    plan = effective_settings(db, settings).plan()  # a shared database's team plan wins
    from grafient_tui import providers
    from grafient_tui.errors import GrafientError

    try:  # the plan's depth for this provider (OpenAI keeps 180 days, OpenRouter 30, GitHub 730)
        plan_days = providers.get(integration.provider).limits.history_for(plan)
    except GrafientError:
        plan_days = PLANS[plan]
    return DetailData(
        period,
        today,
        plan,
        plan_days,
        _figures(db, settings, integration, period, today),
        tuple(model_breakdown(db, integration_id, since, today)),
        tuple(member_breakdown(db, integration_id, since, today)),
        tuple(b for b in evaluate(db, today) if b.target_id == integration_id),
        tuple(member_limits(db, integration_id)),
    )
