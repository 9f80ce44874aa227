"""What the anomaly rules (grafient_tui.anomalies) read: each integration's stored days over a range,
billed and at usage value, whether each is complete, and each member's and model's cost of each day."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from grafient_tui.anomalies import Series, SeriesDay
from grafient_tui.figures import IntegrationInfo
from grafient_tui.store.read import ReadSource, day, flag


def anomaly_series(
    source: ReadSource,
    integration: IntegrationInfo,
    since: date,
    until: date,
    billed: Callable[[str, int, int | None], int],
    *,
    drivers: bool = True,
) -> Series:
    """The integration's stored days of [since, until] as a series (a day never stored, or before the
    provider's history, is not in it);
    `billed` is the house's rule for what invoices charge of a day's cost (report.billed_of). Without
    `drivers`, no member's or model's cost is read (what a chart's marks need)."""
    iid = integration.integration_id
    with source.reader() as read:
        rows = read.rows(
            "SELECT day, complete, cost_micro, on_demand_micro FROM dailycost "
            "WHERE integration_id = ? AND day >= ? AND day <= ?",
            iid,
            since,
            until,
        )
        models: dict[date, dict[str, int]] = {}
        members: dict[date, dict[str, int]] = {}
        for stored_day, model, cost in (
            []
            if not drivers
            else read.rows(
                "SELECT day, model, cost_micro FROM dailymodelcost WHERE integration_id = ? AND day >= ? AND day <= ?",
                iid,
                since,
                until,
            )
        ):
            models.setdefault(day(stored_day), {})[str(model)] = int(cost or 0)
        for stored_day, actor, cost in (
            []
            if not drivers
            else read.rows(
                "SELECT day, email, cost_micro FROM dailymembercost WHERE integration_id = ? AND day >= ? AND day <= ?",
                iid,
                since,
                until,
            )
        ):
            members.setdefault(day(stored_day), {})[str(actor)] = int(cost or 0)
    days = {}
    for stored_day, complete, cost, on_demand in rows:
        when = day(stored_day)
        if integration.history_from is not None and when < integration.history_from:
            continue  # before the provider's first usage: maybe a day it no longer keeps, never a $0 day
        days[when] = SeriesDay(
            billed_micro=billed(integration.provider, int(cost), None if on_demand is None else int(on_demand)),
            usage_micro=int(cost),
            complete=flag(complete),
            members=members.get(when, {}),
            models=models.get(when, {}),
        )
    return Series(integration_id=iid, integration=integration.label, provider=integration.provider, days=days)
