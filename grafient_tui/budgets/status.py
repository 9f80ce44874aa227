"""A budget's standing in its period: spend so far, the forecast, the status and the thresholds.

    over           spend so far is at or above the budget
    forecast_over  the forecast for the period's end is above the budget (and spend is not yet)
    ok             neither

Thresholds are announced once each per budget and period: 50, 80 and 100 (% of the budget spent)
and "forecast" (the forecast is above the budget).
"""

from __future__ import annotations

from typing import Any

from grafient_tui.figures import BudgetStatus, Forecast, PeriodBounds
from grafient_tui.money import usd_float

THRESHOLDS = ("50", "80", "100", "forecast")
STATUSES = ("ok", "forecast_over", "over")
EXIT_CODES = {"ok": 0, "forecast_over": 3, "over": 4}


def status_of(spent_micro: int, budget_micro: int, forecast_micro: int | None) -> str:
    if spent_micro >= budget_micro:
        return "over"
    if forecast_micro is not None and forecast_micro > budget_micro:
        return "forecast_over"
    return "ok"


def crossed(spent_micro: int, budget_micro: int, forecast_micro: int | None) -> tuple[str, ...]:
    """Every threshold the budget stands past now, in THRESHOLDS order."""
    out = [t for t in ("50", "80", "100") if spent_micro * 100 >= budget_micro * int(t)]
    if forecast_micro is not None and forecast_micro > budget_micro:
        out.append("forecast")
    return tuple(out)


def worst(statuses: list[str]) -> str:
    return max(statuses, key=STATUSES.index, default="ok")


def budget_status(
    *,
    budget_id: int,
    target: str,
    target_id: int | None,
    provider: str | None,
    period: str,
    measure: str,
    budget_micro: int,
    bounds: PeriodBounds,
    today: str,
    spent_micro: int,
    forecast: Forecast,
    synced_days: int,
    finished_days: int,
    note: str | None = None,
    estimated: bool = False,
    spent_known: bool = True,
) -> BudgetStatus:
    """One budget's figures for its period, with the status and the thresholds they make."""
    return BudgetStatus(
        budget_id=budget_id,
        target=target,
        target_id=target_id,
        provider=provider,
        period=period,
        measure=measure,
        budget_micro=budget_micro,
        bounds=bounds,
        today=today,
        spent_micro=spent_micro,
        forecast=forecast,
        synced_days=synced_days,
        finished_days=finished_days,
        status=status_of(spent_micro, budget_micro, forecast.micro),
        thresholds=crossed(spent_micro, budget_micro, forecast.micro),
        note=note,
        estimated=estimated,
        spent_known=spent_known,
    )


def status_data(s: BudgetStatus) -> dict[str, Any]:
    """One budget's standing as `grafient check --format json` and the MCP server's `budgets` give it:
    the same figures, exact to the micro-dollar's float (null where a forecast is not ready)."""
    return {
        "target": s.target,
        "target_id": s.target_id,
        "period": s.period,
        "period_start": s.bounds.start.isoformat(),
        "period_end": s.bounds.end.isoformat(),
        "measure": s.measure,
        "budget_usd": usd_float(s.budget_micro),
        # null (with percent) when no day of the period is synced: unknown, never $0
        "spent_usd": usd_float(s.spent_micro) if s.spent_known else None,
        "forecast_usd": None if s.forecast.micro is None else usd_float(s.forecast.micro),
        "percent": round(s.percent, 1) if s.spent_known else None,
        "status": s.status,
        "day": s.day,
        "days": s.bounds.days,
        "resets": s.bounds.resets.isoformat(),
        "follows_cycle": s.bounds.follows_cycle,
        "forecast_note": s.forecast.note,
        "synced_days": s.synced_days,
        "finished_days": s.finished_days,
        "note": s.note,
        # "estimate" when the spend counted includes dollars estimated from credits
        "cost_basis": "estimate" if s.estimated else "billed",
    }
