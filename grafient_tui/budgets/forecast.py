"""The forecast of a period's spend at its end.

    forecast = spend through yesterday + average complete day × days left (today included)

The average is over the complete synced days among the 14 days before today (whichever period
they fall in): a day synced after it ended, for every integration the budget covers. With fewer
than 7 such days the forecast is not ready, rather than a guess. Today's partial spend is replaced
by the average, since the day is not over; but a forecast is never below what is already spent
(today included): the period cannot end lower than where it stands.

Exact integer arithmetic in micro-cents, rounded once (half to even).
"""

from __future__ import annotations

from grafient_tui.figures import Forecast

FORECAST_WINDOW_DAYS = 14
MIN_COMPLETE_DAYS = 7


def _round_div(numerator: int, denominator: int) -> int:
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2):
        quotient += 1
    return quotient


def forecast(*, spent_through_yesterday: int, spent: int, complete_day_costs: list[int], days_left: int) -> Forecast:
    """The forecast for the period's end. `complete_day_costs`: the spend of each complete day of the
    14 before today; `spent`: the period's spend so far, today included."""
    n = len(complete_day_costs)
    total = sum(complete_day_costs)
    average = _round_div(total, n) if n else None
    if n < MIN_COMPLETE_DAYS:
        return Forecast(
            micro=None,
            complete_days=n,
            average_micro=average,
            note=f"{n} of the {MIN_COMPLETE_DAYS} complete days it needs among the last {FORECAST_WINDOW_DAYS}",
        )
    value = spent_through_yesterday + _round_div(total * max(days_left, 0), n)
    return Forecast(micro=max(value, spent), complete_days=n, average_micro=average)
