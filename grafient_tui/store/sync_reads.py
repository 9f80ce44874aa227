"""What a sync's planner reads of the store: the days already complete, the provider's known edge,
and the last run that succeeded. Plain values out; the planner (sync/plan.py) decides from them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from grafient_tui.store.db import Database
from grafient_tui.store.integrations import table_of
from grafient_tui.store.models import DailyCost, Integration, SyncRun
from grafient_tui.store.sync_writes import aware


@dataclass(frozen=True)
class StoredDays:
    """An integration's stored days as the planner needs them."""

    complete: frozenset[date]  # days of the range asked for, synced after they had ended
    history_limit: date | None  # the provider keeps nothing before this day (it refused older windows)


def stored_days(db: Database, integration_id: int, since: date, until: date) -> StoredDays:
    """The complete days of [since, until], and the provider's history limit, in one read."""
    days, integration = table_of(DailyCost), table_of(Integration)
    with db.session() as session:
        connection = session.connection()
        complete = frozenset(
            connection.execute(
                select(days.c.day).where(
                    days.c.integration_id == integration_id,
                    days.c.day >= since,
                    days.c.day <= until,
                    days.c.complete == True,  # noqa: E712
                )
            ).scalars()
        )
        limit = connection.execute(
            select(integration.c.history_limit).where(integration.c.id == integration_id)
        ).scalar()
        return StoredDays(complete=complete, history_limit=limit)


def last_success(db: Database, integration_id: int) -> datetime | None:
    """When the integration's latest successful sync finished (UTC), if one ever did."""
    runs = table_of(SyncRun)
    with db.session() as session:
        finished = (
            session.connection()
            .execute(
                select(runs.c.finished_at)
                .where(runs.c.integration_id == integration_id, runs.c.outcome == "success")
                .order_by(runs.c.id.desc())
                .limit(1)
            )
            .scalar()
        )
    return None if finished is None else aware(finished)
