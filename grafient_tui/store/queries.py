"""Reads for reports and screens. Every figure comes from the stored daily rows.

Money stays integer micro-cents here; `usd()` and `format_usd()` convert only
for output.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func
from sqlmodel import select

from grafient_tui.store.db import Database
from grafient_tui.store.models import DailyCost, DailyMemberCost, DailyModelCost

MICRO_PER_USD = 100_000_000  # 1 USD = 100 cents = 100 * 1_000_000 micro-cents


def usd(micro: int) -> Decimal:
    """Exact dollars from micro-cents."""
    return Decimal(micro).scaleb(-8)


def usd_float(micro: int) -> float:
    """Dollars for JSON: the nearest float to the exact value."""
    return float(usd(micro))


def format_usd(micro: int, *, cents: bool = True) -> str:
    value = usd(micro)
    return f"${value:,.2f}" if cents else f"${value:,.0f}"


def days_between(since: date, until: date) -> list[date]:
    return [since + timedelta(days=i) for i in range((until - since).days + 1)]


@dataclass(frozen=True)
class DayRow:
    day: date
    synced: bool  # False: never fetched (not the same as "no usage")
    complete: bool
    cost_micro: int = 0
    on_demand_micro: int = 0
    included_micro: int = 0
    requests: int = 0
    request_units_micro: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    top_model: str | None = None


@dataclass(frozen=True)
class ModelRow:
    model: str
    cost_micro: int
    requests: int
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0


@dataclass(frozen=True)
class MemberRow:
    email: str
    cost_micro: int
    requests: int


def daily_costs(db: Database, integration_id: int, since: date, until: date) -> list[DayRow]:
    """One row per UTC day of [since, until], including days never synced."""
    with db.session() as session:
        stored = {
            row.day: row
            for row in session.exec(
                select(DailyCost).where(
                    DailyCost.integration_id == integration_id, DailyCost.day >= since, DailyCost.day <= until
                )
            )
        }
        top: dict[date, tuple[int, str]] = {}
        for day, model, cost in session.exec(
            select(DailyModelCost.day, DailyModelCost.model, DailyModelCost.cost_micro).where(
                DailyModelCost.integration_id == integration_id,
                DailyModelCost.day >= since,
                DailyModelCost.day <= until,
            )
        ):
            if day not in top or (cost, model) > top[day]:
                top[day] = (cost, model)
    rows = []
    for day in days_between(since, until):
        stored_row = stored.get(day)
        if stored_row is None:
            rows.append(DayRow(day=day, synced=False, complete=False))
            continue
        rows.append(DayRow(
            day=day, synced=True, complete=stored_row.complete, cost_micro=stored_row.cost_micro,
            on_demand_micro=stored_row.on_demand_micro, included_micro=stored_row.included_micro,
            requests=stored_row.requests, request_units_micro=stored_row.request_units_micro,
            input_tokens=stored_row.input_tokens, output_tokens=stored_row.output_tokens,
            cache_read_tokens=stored_row.cache_read_tokens, cache_write_tokens=stored_row.cache_write_tokens,
            top_model=top[day][1] if day in top else None,
        ))
    return rows


def models_by_day(db: Database, integration_id: int, since: date, until: date) -> dict[date, list[ModelRow]]:
    out: dict[date, list[ModelRow]] = {}
    with db.session() as session:
        for row in session.exec(
            select(DailyModelCost).where(
                DailyModelCost.integration_id == integration_id,
                DailyModelCost.day >= since,
                DailyModelCost.day <= until,
            )
        ):
            out.setdefault(row.day, []).append(ModelRow(
                row.model, row.cost_micro, row.requests, row.input_tokens, row.output_tokens,
                row.cache_read_tokens, row.cache_write_tokens,
            ))
    for rows in out.values():
        rows.sort(key=lambda r: (-r.cost_micro, r.model))
    return out


def model_breakdown(db: Database, integration_ids: int | Iterable[int], since: date, until: date) -> list[ModelRow]:
    """Totals per model over the range, most expensive first."""
    ids = _ids(integration_ids)
    t = DailyModelCost
    with db.session() as session:
        result = session.exec(
            select(t.model, func.sum(t.cost_micro), func.sum(t.requests), func.sum(t.input_tokens),
                   func.sum(t.output_tokens), func.sum(t.cache_read_tokens), func.sum(t.cache_write_tokens))
            .where(t.integration_id.in_(ids), t.day >= since, t.day <= until)
            .group_by(t.model)
        ).all()
    rows = [ModelRow(m, int(c or 0), int(r or 0), int(i or 0), int(o or 0), int(cr or 0), int(cw or 0))
            for m, c, r, i, o, cr, cw in result]
    return sorted(rows, key=lambda r: (-r.cost_micro, r.model))


def member_breakdown(db: Database, integration_ids: int | Iterable[int], since: date, until: date) -> list[MemberRow]:
    """Totals per member email over the range, most expensive first."""
    ids = _ids(integration_ids)
    t = DailyMemberCost
    with db.session() as session:
        result = session.exec(
            select(t.email, func.sum(t.cost_micro), func.sum(t.requests))
            .where(t.integration_id.in_(ids), t.day >= since, t.day <= until)
            .group_by(t.email)
        ).all()
    rows = [MemberRow(e, int(c or 0), int(r or 0)) for e, c, r in result]
    return sorted(rows, key=lambda r: (-r.cost_micro, r.email))


@dataclass(frozen=True)
class Summary:
    """The headline figures for a period of `days` UTC days ending `until`."""

    since: date
    until: date
    days: int
    total_micro: int
    requests: int
    daily_average_micro: int
    top_model: str | None
    top_model_micro: int
    previous_total_micro: int
    previous_synced_days: int

    @property
    def change_pct(self) -> float | None:
        """Change against the previous period of the same length; None when there is nothing to compare."""
        if self.previous_synced_days == 0 or self.previous_total_micro == 0:
            return None
        return (self.total_micro - self.previous_total_micro) * 100.0 / self.previous_total_micro


def period_summary(db: Database, integration_ids: int | Iterable[int], *, days: int, until: date) -> Summary:
    ids = _ids(integration_ids)
    since = until - timedelta(days=days - 1)
    prev_until = since - timedelta(days=1)
    prev_since = prev_until - timedelta(days=days - 1)
    t = DailyCost
    with db.session() as session:
        total, requests = session.exec(
            select(func.sum(t.cost_micro), func.sum(t.requests))
            .where(t.integration_id.in_(ids), t.day >= since, t.day <= until)
        ).one()
        prev_total, prev_days = session.exec(
            select(func.sum(t.cost_micro), func.count(t.id))
            .where(t.integration_id.in_(ids), t.day >= prev_since, t.day <= prev_until)
        ).one()
    models = model_breakdown(db, ids, since, until)
    total = int(total or 0)
    return Summary(
        since=since, until=until, days=days, total_micro=total, requests=int(requests or 0),
        daily_average_micro=total // days if days else 0,
        top_model=models[0].model if models and models[0].cost_micro > 0 else None,
        top_model_micro=models[0].cost_micro if models else 0,
        previous_total_micro=int(prev_total or 0), previous_synced_days=int(prev_days or 0),
    )


def _ids(integration_ids: int | Iterable[int]) -> list[int]:
    return [integration_ids] if isinstance(integration_ids, int) else list(integration_ids)
