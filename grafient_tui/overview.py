"""What the screens show, read from the store in one go. No Textual here.

The app calls these in thread workers, so the event loop never waits on the database (a sync in
another process may hold SQLite's write lock for seconds); the screens only render the result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
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
    Summary,
    daily_costs,
    model_breakdown,
    period_summary,
)
from grafient_tui.store.team import effective_settings
from grafient_tui.store.top_rows import member_pages, member_totals, members_among, model_pages, model_totals
from grafient_tui.sync.engine import sync_status
from grafient_tui.tops import MAX_TABLE_ROWS, MemberTable, ModelTable, member_table_of, model_table_of


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
    budgets: tuple[BudgetStatus, ...] = ()  # the budgets on this integration
    member_limits: tuple[MemberCycleSpend, ...] = ()  # each member's cycle spend and limit (Cursor)
    # Built here, in the thread, from what the database sorted and cut: the Models and Members tabs
    # draw at most MAX_TABLE_ROWS rows whatever the count, and a sort is a look-up, not a sort.
    model_views: Mapping[tuple[str, bool], ModelTable] = field(default_factory=dict)  # (key, descending) ->
    member_views: Mapping[str, MemberTable] = field(default_factory=dict)  # per sort: top rows and the rest
    limits_by_member: Mapping[str, MemberCycleSpend] = field(default_factory=dict)  # casefolded member ->
    near_unlisted: tuple[MemberCycleSpend, ...] = ()  # near their limit, without spend this period (capped)
    near_count: int = 0  # members at NEAR_LIMIT_PCT or more of their limit


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
    # The Models and Members tabs draw the first MAX_TABLE_ROWS of each order and the rest summed:
    # asked of the database as such, never read one by one (an integration may hold 150,000).
    models = model_totals(db, integration_id, since, today)
    model_views = {
        order: model_table_of(rows, models)
        for order, rows in model_pages(db, integration_id, since, today, limit=MAX_TABLE_ROWS).items()
    }
    members = member_totals(db, integration_id, since, today)
    member_views = {
        sort: member_table_of(rows, members)
        for sort, rows in member_pages(db, integration_id, since, today, limit=MAX_TABLE_ROWS).items()
    }
    limits = tuple(member_limits(db, integration_id))
    by_member = {spend.member.casefold(): spend for spend in limits}
    near = [spend for spend in limits if near_limit(spend)]
    spent = {m.casefold() for m in members_among(db, integration_id, since, today, (s.member for s in near))}
    unlisted = sorted((s for s in near if s.member.casefold() not in spent), key=lambda s: s.member.casefold())
    return DetailData(
        period,
        today,
        plan,
        plan_days,
        _figures(db, settings, integration, period, today),
        tuple(b for b in evaluate(db, today) if b.target_id == integration_id),
        limits,
        model_views=model_views,
        member_views=member_views,
        limits_by_member=by_member,
        near_unlisted=tuple(unlisted[:MAX_TABLE_ROWS]),
        near_count=len(near),
    )


NEAR_LIMIT_PCT = 80  # members at or above this share of their spend limit are marked


def near_limit(spend: MemberCycleSpend) -> bool:
    used = spend.on_demand_micro if spend.on_demand_micro is not None else spend.spend_micro
    return bool(
        spend.limit_micro
        and spend.limit_micro > 0
        and used is not None
        and used * 100 >= spend.limit_micro * NEAR_LIMIT_PCT
    )
