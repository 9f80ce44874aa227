"""Budgets: period bounds (calendar month or billing cycle), the forecast, the status and the
thresholds a budget crosses, and how they are worded. Pure: no store, no network, no Textual.

The store reads spend for a budget (store/budgets.py) and hands it to these functions; the CLI
and the app word the result with `budgets.wording`.
"""

from grafient_tui.budgets.amounts import parse_amount
from grafient_tui.budgets.forecast import FORECAST_WINDOW_DAYS, MIN_COMPLETE_DAYS, forecast
from grafient_tui.budgets.periods import MEASURE_WORDS, MEASURES, PERIODS, cycle_bounds, month_bounds, period_bounds
from grafient_tui.budgets.status import THRESHOLDS, budget_status, crossed, status_of
from grafient_tui.figures import BudgetStatus, Forecast, PeriodBounds

__all__ = [
    "FORECAST_WINDOW_DAYS",
    "MEASURES",
    "MEASURE_WORDS",
    "MIN_COMPLETE_DAYS",
    "PERIODS",
    "THRESHOLDS",
    "BudgetStatus",
    "Forecast",
    "PeriodBounds",
    "budget_status",
    "crossed",
    "cycle_bounds",
    "forecast",
    "month_bounds",
    "parse_amount",
    "period_bounds",
    "status_of",
]
