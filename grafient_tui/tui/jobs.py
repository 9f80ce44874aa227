"""What the App's workers do off the event loop, each through the one service, each ending by
posting its result message (tui/messages.py) for an `@on` handler of the App. A job that raises
ends in the App's one `Worker.StateChanged` handler instead, which words it from FAILED."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from textual.message import Message

from grafient_tui.tui import messages as m
from grafient_tui.tui import syncing

if TYPE_CHECKING:
    from grafient_tui.config import Settings
    from grafient_tui.figures import SyncProgress
    from grafient_tui.service import GrafientService, IntegrationToAdd

Post = Callable[[Message], object]

# A job that raised, by its worker group: (toast title, what the sentence follows, its fallback).
FAILED: dict[str, tuple[str, str, str]] = {
    "delete": ("Not deleted", "", "the integration could not be deleted"),
    "plan": ("", "The plan was not changed: ", "it could not be saved"),
    "budgets": ("Budgets not checked", "", "the budgets could not be checked"),
    "due": ("Daily sync not started", "", "the local store could not be read"),
    "demo-add": ("", "", "the demo team could not be added"),
    "export": ("", "Nothing exported: ", "the file could not be written"),
    "budget": ("Budget not changed", "", "the budget could not be saved"),
    "alerts": ("Alerts not sent", "", "the alert channels could not be read"),
}


def open_store(service: Callable[[], GrafientService], now: datetime, post: Post) -> None:
    """Build the service (the heavy imports come with it), open the store, and find the
    integrations whose daily sync is due (none for a viewer, now or on the timer)."""
    opened = service()
    opened.open()
    access = opened.access()
    post(m.StoreReady(opened.due_syncs(now), None if access.can_change else access.reason))


async def sync(service: GrafientService, integration_id: int, trigger: str, now: datetime, post: Post) -> None:
    """One integration's sync, its progress posted as it goes (a newer one replaces one still queued)."""

    def progress(update: SyncProgress) -> None:
        post(m.SyncProgressed(update))

    [result] = await service.sync(integration_id, trigger=trigger, progress=progress, now=now)
    post(m.SyncFinished(syncing.ended(result)))


def check_budgets(service: GrafientService, now: datetime, post: Post) -> None:
    """Each budget threshold crossed since it was last announced: the store remembers them per budget
    and period, so a restart (or another app on a shared database) does not repeat one."""
    post(m.BudgetsChecked(service.budget_alerts(now)))


def deliver_alerts(service: GrafientService, now: datetime, send: bool, post: Post) -> None:
    """After this app's syncs (`send`): the pending alerts to every channel, once per channel and
    event (service.deliver_alerts: a viewer sends nothing); either way, the channels' standing."""
    delivered = service.deliver_alerts(now) if send else []
    failed = sum(1 for done in delivered if not done.ok)
    post(m.AlertsDelivered(len(delivered), failed, service.alert_problem()))


def find_due(service: GrafientService, now: datetime, post: Post) -> None:
    post(m.SyncRequested(tuple(service.due_syncs(now)), trigger="daily"))


async def add_demo_teams(
    service: GrafientService,
    teams: Sequence[IntegrationToAdd],
    budgets: Sequence[tuple[str, str, str, bool]],
    now: datetime,
    post: Post,
) -> None:
    """The demo's teams, one after another so they keep their order (and their ids), then its
    budgets (through the service, as `grafient budget set`); their backfills start together."""
    added = []
    for team in teams:
        integration = await service.add(
            team.provider, team.label, team.key, account=team.account, allow_unidentified=team.allow_unidentified
        )
        added.append(integration.integration_id)
    for target, amount, period, on_demand in budgets:
        await asyncio.to_thread(service.set_budget, target, amount, period=period, on_demand=on_demand, now=now)
    post(m.IntegrationsAdded(tuple(added)))


def remove(service: GrafientService, integration_id: int, label: str, post: Post) -> None:
    service.remove(integration_id)
    post(m.Deleted(integration_id, label))


def save_plan(service: GrafientService, plan: str | None, post: Post) -> None:
    """Save the plan (the team's, on a shared database) the question was answered with; None: it was
    declined, and nothing changes."""
    if plan is not None:
        service.set_plan(plan)
        post(m.PlanSaved(plan))


def save_period(settings: Settings, days: int) -> str | None:
    """Remember the period in config.toml; None, or why it was not saved."""
    from grafient_tui.errors import GrafientError
    from grafient_tui.tui.widgets.text import sentence_of

    try:
        settings.ensure_dirs()
        settings.set_period(days)
    except (GrafientError, OSError) as exc:
        return f"The period was not saved: {sentence_of(exc, 'the config file cannot be written')}"
    return None


def plan_words(plan: str) -> str:
    depth = (
        "30 days of history for every provider"
        if plan == "free"
        else "each provider's most history: Cursor and Anthropic 365 days, OpenAI 180, OpenRouter 30"
    )
    return f"Plan {plan}: {depth}. The next sync fetches what is missing (R syncs all now)."
