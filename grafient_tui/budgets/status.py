"""A budget's standing in its period: spend so far, the forecast, the status and the thresholds.

    over           spend so far is at or above the budget
    forecast_over  the forecast for the period's end is above the budget (and spend is not yet)
    ok             neither

Thresholds are announced once each per budget and period: 50, 80 and 100 (% of the budget spent)
and "forecast" (the forecast is above the budget).
"""

from __future__ import annotations

from dataclasses import dataclass

from grafient_tui.budgets.forecast import Forecast
from grafient_tui.budgets.periods import PeriodBounds

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


@dataclass(frozen=True)
class BudgetStatus:
    """One budget, evaluated for the period holding `today`."""

    budget_id: int
    target: str  # "all", or the integration's label
    target_id: int | None  # None: every integration together
    provider: str | None  # the target integration's provider; None for all
    period: str  # month | cycle
    measure: str  # cost | on_demand
    budget_micro: int
    bounds: PeriodBounds
    today: str  # ISO date of the evaluation
    spent_micro: int
    forecast: Forecast
    synced_days: int  # finished days of the period so far that are synced (for every integration counted)
    finished_days: int  # finished days of the period so far (today not counted)
    note: str | None = None  # what the figure covers, when not what one would assume
    # The spend counted includes dollars estimated from credits (ElevenLabs): every figure is marked ≈.
    estimated: bool = False

    @property
    def day(self) -> int:
        from datetime import date

        return self.bounds.day_of(date.fromisoformat(self.today))

    @property
    def percent(self) -> float:
        return self.spent_micro * 100 / self.budget_micro

    @property
    def status(self) -> str:
        return status_of(self.spent_micro, self.budget_micro, self.forecast.micro)

    @property
    def thresholds(self) -> tuple[str, ...]:
        return crossed(self.spent_micro, self.budget_micro, self.forecast.micro)
