"""What the screens show, read from the store in one go, as the read model (grafient_tui.figures).

The service hands these out (GrafientService.home, .detail); the app calls it in thread workers,
so the event loop never waits on the database (a sync in another process may hold SQLite's write
lock for seconds), and the screens only render the result. No Textual here.
"""

from __future__ import annotations

from datetime import date, timedelta

from grafient_tui.config import PLANS, Settings
from grafient_tui.estimates import together
from grafient_tui.figures import DetailFigures, HomeFigures, IntegrationFigures, IntegrationInfo
from grafient_tui.store.budget_queries import evaluate
from grafient_tui.store.db import Database
from grafient_tui.store.queries import (
    daily_costs,
    integration_info,
    integrations,
    member_limits,
    model_costs,
    period_summary,
)
from grafient_tui.store.read import Reader
from grafient_tui.store.team import effective_settings
from grafient_tui.store.top_rows import member_pages, member_totals, members_among, model_pages, model_totals
from grafient_tui.sync.status import sync_status
from grafient_tui.tops import MAX_TABLE_ROWS, member_table_of, model_table_of


def _figures(
    db: Database, read: Reader, settings: Settings, integration: IntegrationInfo, period: int, today: date
) -> IntegrationFigures:
    since = today - timedelta(days=period - 1)
    iid = integration.integration_id
    return IntegrationFigures(
        integration_id=iid,
        label=integration.label,
        provider=integration.provider,
        key_hint=integration.key_hint,
        team_members=integration.team_members,
        summary=period_summary(read, iid, days=period, until=today, today=today),
        days=tuple(daily_costs(read, iid, since, today)),
        status=sync_status(db, settings, iid, read=read),
        history_from=integration.history_from,
        basis=integration.basis,
    )


def load_home(db: Database, settings: Settings, period: int, today: date) -> HomeFigures:
    plan = effective_settings(db, settings).plan()  # a shared database's team plan wins
    with db.reader() as read:
        figures = tuple(_figures(db, read, settings, i, period, today) for i in integrations(read))
        summary = (
            period_summary(read, [f.integration_id for f in figures], days=period, until=today, today=today)
            if figures
            else None
        )
        budgets = tuple(evaluate(read, today))
        since = today - timedelta(days=period - 1)
        # The models of the estimated integrations: a top model among them is marked ≈ on the home.
        estimated_models = {
            model for f in figures if f.basis.estimated for model in model_costs(read, f.integration_id, since, today)
        }
    return HomeFigures(
        period=period,
        today=today,
        plan=plan,
        integrations=figures,
        summary=summary,
        budgets=budgets,
        basis=together((f.label, f.basis) for f in figures),
        estimated_models=frozenset(estimated_models),
    )


def load_detail(db: Database, settings: Settings, integration_id: int, period: int, today: date) -> DetailFigures:
    """NotFound when the integration is gone."""
    from grafient_tui import providers
    from grafient_tui.errors import GrafientError

    plan = effective_settings(db, settings).plan()  # a shared database's team plan wins
    since = today - timedelta(days=period - 1)
    with db.reader() as read:
        integration = integration_info(read, integration_id)
        try:  # the plan's depth for this provider (OpenAI keeps 180 days, OpenRouter 30, GitHub 730)
            plan_days = providers.get(integration.provider).limits.history_for(plan)
        except GrafientError:
            plan_days = PLANS[plan]
        # The Models and Members tabs draw the first MAX_TABLE_ROWS of each order and the rest summed:
        # asked of the database as such, never read one by one (an integration may hold 150,000).
        model_sums = model_totals(read, integration_id, since, today)
        model_views = {
            order: model_table_of(rows, model_sums)
            for order, rows in model_pages(read, integration_id, since, today, limit=MAX_TABLE_ROWS).items()
        }
        member_sums = member_totals(read, integration_id, since, today)
        member_views = {
            sort: member_table_of(rows, member_sums)
            for sort, rows in member_pages(read, integration_id, since, today, limit=MAX_TABLE_ROWS).items()
        }
        limits = tuple(member_limits(read, integration_id))
        near = [spend for spend in limits if spend.near]
        spent = members_among(read, integration_id, since, today, (s.member for s in near))
        unlisted = sorted((s for s in near if s.member.casefold() not in spent), key=lambda s: s.member.casefold())
        return DetailFigures(
            period=period,
            today=today,
            plan=plan,
            plan_days=plan_days,
            figures=_figures(db, read, settings, integration, period, today),
            models=model_views["cost_micro", True].rows,
            members=member_views["cost"].rows,
            budgets=tuple(b for b in evaluate(read, today) if b.target_id == integration_id),
            member_limits=limits,
            model_views=model_views,
            member_views=member_views,
            limits_by_member={spend.member.casefold(): spend for spend in limits},
            near_unlisted=tuple(unlisted[:MAX_TABLE_ROWS]),
            near_count=len(near),
        )
