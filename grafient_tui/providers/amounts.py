"""Money of a provider's answer, through the one money parser (money.py), failing in the provider's words.

Every provider reads an amount the same way: money.py's exact, bounded parse, and when the value is
no amount a bill can have, the provider's own error with a sentence that says why and never quotes
the value. These three calls are that, so a cost module says only which field and which sentence:

    amounts.micro(row.get("amount"), amounts.shape("an amount"), "cents")

The provider's error is raised outside the parser's `except`, so nothing is chained to it.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from grafient_tui.errors import ShapeError
from grafient_tui.money import MAX_ROW_MICRO, BadAmount, exact_amount, micro_of, to_micro

# Given the parser's reason ("not a number (got a string of 9 characters)"), the provider's error.
Failure = Callable[[str], Exception]


def shape(what: str) -> Failure:
    """The common failure: ShapeError(f"{what} that is {reason}"), completed by the provider with the
    path or the day and "nothing from this window was saved"."""
    return lambda reason: ShapeError(f"{what} that is {reason}")


def exact(value: object, fail: Failure) -> Decimal:
    """The exact Decimal a JSON amount was written as (to sum before rounding), or `fail(reason)`."""
    try:
        return exact_amount(value)
    except BadAmount as exc:
        reason = exc.reason
    raise fail(reason)


def micro(value: object, fail: Failure, unit: str = "usd", *, limit: int = MAX_ROW_MICRO) -> int:
    """A JSON amount in `unit` ("usd" or "cents") as integer micro-cents, exact and bounded, or
    `fail(reason)`."""
    try:
        return to_micro(value, unit, limit=limit)
    except BadAmount as exc:
        reason = exc.reason
    raise fail(reason)


def micro_of_sum(amount: Decimal, fail: Failure, unit: str = "usd", *, limit: int = MAX_ROW_MICRO) -> int:
    """An exact sum of amounts (from `exact`) as integer micro-cents, rounded once and bounded like
    one amount, or `fail(reason)`."""
    try:
        return micro_of(amount, unit, limit=limit)
    except BadAmount as exc:
        reason = exc.reason
    raise fail(reason)
