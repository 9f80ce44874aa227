"""What the screens show, read from the store in one go, as the read model (grafient_tui.figures).

The service hands these out (GrafientService.home, .detail); the app calls it in thread workers,
so the event loop never waits on the database (a sync in another process may hold SQLite's write
lock for seconds), and the screens only render the result. No Textual here.
"""

from __future__ import annotations

from datetime import date

from grafient_tui.config import PLANS, Settings
from grafient_tui.estimates import together
from grafient_tui.figures import (
    DetailFigures,
    HomeFigures,
    IntegrationFigures,
    IntegrationInfo,
    PeriodChoice,
    Summary,
)
from grafient_tui.model_keys import model_key
from grafient_tui.spans import rolling
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


def _summary(read: Reader, ids: int | list[int], span: PeriodChoice, today: date, plan: str) -> Summary:
    """The period's summary, judged per integration; a calendar month compared with the month before."""
    return period_summary(
        read,
        ids,
        days=span.days,
        until=span.until,
        today=today,
        plan=plan,
        previous=span.previous,
        forecast_until=span.forecast_until,
    )


def _figures(
    db: Database,
    read: Reader,
    settings: Settings,
    integration: IntegrationInfo,
    span: PeriodChoice,
    today: date,
    plan: str,
) -> IntegrationFigures:
    iid = integration.integration_id
    return IntegrationFigures(
        integration_id=iid,
        label=integration.label,
        provider=integration.provider,
        key_hint=integration.key_hint,
        team_members=integration.team_members,
        summary=_summary(read, iid, span, today, plan),
        days=tuple(daily_costs(read, iid, span.since, span.until, today)),
        status=sync_status(db, settings, iid, read=read),
        history_from=integration.history_from,
        basis=integration.basis,
    )


def load_home(
    db: Database, settings: Settings, period: int, today: date, span: PeriodChoice | None = None
) -> HomeFigures:
    """The home's figures over the last `period` days, or over `span` (a calendar month) when given."""
    plan = effective_settings(db, settings).plan()  # a shared database's team plan wins
    span = span or rolling(period, today)
    with db.reader() as read:
        figures = tuple(_figures(db, read, settings, i, span, today, plan) for i in integrations(read))
        summary = _summary(read, [f.integration_id for f in figures], span, today, plan) if figures else None
        budgets = tuple(evaluate(read, today))
        # The models of the estimated integrations, by key: a top model among them is marked ≈ on the home.
        estimated_models = {
            model_key(model)
            for f in figures
            if f.basis.estimated
            for model in model_costs(read, f.integration_id, span.since, span.until)
        }
    return HomeFigures(
        period=span.days,
        today=today,
        plan=plan,
        integrations=figures,
        summary=summary,
        budgets=budgets,
        basis=together((f.label, f.basis) for f in figures),
        estimated_models=frozenset(estimated_models),
        month=span.month,
        plan_note=plan_note(plan, summary),
    )


def plan_note(plan: str, summary: Summary | None) -> str | None:
    """What the plan keeps and how to change it, when a trend is missing because of it (a new home is
    on the free plan: every 30-day trend needs the 30 days before)."""
    if summary is None or not summary.plan_limited:
        return None
    return plan_words(plan) + " Trends need the period before too: P (or `grafient plan pro`) keeps more."


def plan_words(plan: str) -> str:
    """`Grafient plan free keeps 30 days of history of every provider.` (`pro`: each provider's deepest:
    365 days, OpenAI 180, OpenRouter 30, ...; ultimate keeps what pro keeps)."""
    from grafient_tui import providers
    from grafient_tui.store.queries import plan_days

    depths = {name: plan_days(providers.capabilities(name), plan) for name in providers.names()}
    if len(set(depths.values())) == 1:
        return f"Grafient plan {plan} keeps {next(iter(depths.values()))} days of history of every provider."
    usual = max(set(depths.values()), key=list(depths.values()).count)
    others = ", ".join(f"{providers.title(n)} {d}" for n, d in depths.items() if d != usual)
    return f"Grafient plan {plan} keeps {usual} days of history ({others})."


def load_detail(
    db: Database, settings: Settings, integration_id: int, period: int, today: date, span: PeriodChoice | None = None
) -> DetailFigures:
    """Over the last `period` days, or over `span` (a calendar month) when given; NotFound when the
    integration is gone."""
    from grafient_tui import providers
    from grafient_tui.errors import GrafientError

    plan = effective_settings(db, settings).plan()  # a shared database's team plan wins
    span = span or rolling(period, today)
    since, until = span.since, min(span.until, today)
    with db.reader() as read:
        integration = integration_info(read, integration_id)
        try:  # the plan's depth for this provider (OpenAI keeps 180 days, OpenRouter 30, GitHub 730)
            plan_days = providers.get(integration.provider).limits.history_for(plan)
        except GrafientError:
            plan_days = PLANS[plan]
        # The Models and Members tabs draw the first MAX_TABLE_ROWS of each order and the rest summed:
        # asked of the database as such, never read one by one (an integration may hold 150,000).
        model_sums = model_totals(read, integration_id, since, until)
        model_views = {
            order: model_table_of(rows, model_sums)
            for order, rows in model_pages(read, integration_id, since, until, limit=MAX_TABLE_ROWS).items()
        }
        member_sums = member_totals(read, integration_id, since, until)
        member_views = {
            sort: member_table_of(rows, member_sums)
            for sort, rows in member_pages(read, integration_id, since, until, limit=MAX_TABLE_ROWS).items()
        }
        limits = tuple(member_limits(read, integration_id))
        near = [spend for spend in limits if spend.near]
        spent = members_among(read, integration_id, since, until, (s.member for s in near))
        unlisted = sorted((s for s in near if s.member.casefold() not in spent), key=lambda s: s.member.casefold())
        return DetailFigures(
            period=span.days,
            today=today,
            month=span.month,
            plan=plan,
            plan_days=plan_days,
            figures=_figures(db, read, settings, integration, span, today, plan),
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
