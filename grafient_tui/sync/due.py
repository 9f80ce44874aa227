"""What a sync fetches, and whether one is due: what the store holds (store/sync_reads.py), handed to
the planner (sync/plan.py). The engine asks `days_to_fetch` at the start of each run; the service
asks `sync_due` for the 06:00 UTC catch-up."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from grafient_tui import providers
from grafient_tui.config import Settings
from grafient_tui.errors import GrafientError
from grafient_tui.providers.base import Limits
from grafient_tui.store.db import Database
from grafient_tui.store.integrations import find_integration
from grafient_tui.store.sync_reads import last_success, stored_days
from grafient_tui.store.team import effective_settings
from grafient_tui.sync import clock
from grafient_tui.sync.plan import TRIGGERS, fetch_days, history_days, is_due, utc_today


def provider_limits(db: Database, integration_id: int) -> Limits:
    """The limits of the provider this integration syncs from."""
    return providers.get(find_integration(db, integration_id).provider).limits


def days_to_fetch(
    db: Database, settings: Settings, integration_id: int, trigger: str, now: datetime, *, limits: Limits | None = None
) -> list[date]:
    """The UTC days a sync fetches, oldest first (sync/plan.fetch_days), from what the store holds.
    `limits` default to the integration's provider's; the trigger only says who asked."""
    if trigger not in TRIGGERS:
        raise ValueError(f"unknown trigger {trigger!r}")
    if limits is None:
        limits = provider_limits(db, integration_id)
    today = utc_today(now)
    depth = history_days(settings.plan(), limits)
    stored = stored_days(db, integration_id, today - timedelta(days=depth), today)
    return fetch_days(
        today=today, history_days=depth, limits=limits, complete=stored.complete, history_limit=stored.history_limit
    )


def sync_due(db: Database, settings: Settings, integration_id: int, now: datetime | None = None) -> bool:
    """Due when a day up to yesterday is missing or unfinished, or no sync has
    succeeded since the last 06:00 UTC (sync/plan.is_due)."""
    now = now or clock.now()
    today = utc_today(now)
    reports_today = True
    settings = effective_settings(db, settings)
    try:
        provider = providers.get(find_integration(db, integration_id).provider)
        limits: Limits | None = provider.limits
        reports_today = provider.capabilities.has_today
    except GrafientError:  # removed meanwhile, or a provider this version does not know: the plan decides
        limits = None
    depth = history_days(settings.plan(), limits)
    stored = stored_days(db, integration_id, today - timedelta(days=depth), today)
    return is_due(
        now=now,
        history_days=depth,
        history_limit=stored.history_limit,
        complete=stored.complete,
        reports_today=reports_today,
        last_success=last_success(db, integration_id),
    )
