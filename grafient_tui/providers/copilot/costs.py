"""GitHub Copilot's cost rules: one day's billing report read exactly, and that day's cost lines.

The rules are shared/copilot-billing-api.md's. Money is integer micro-cents (1 USD = 100_000_000): every
`…Amount` is US dollars, read by the one money parser (money.exact_amount: the literal text of a JSON
number or numeric string, exact, refused past any plausible bill), summed exactly and rounded half-even
once per cost line (money.micro_of, bounded per line).

- Total = Σ `grossAmount` (the usage value, plan-included or not); on-demand = Σ `netAmount` (the bill);
  included = total − on-demand (the plan's AI credits or premium requests and GitHub's other discounts).
  `discountAmount` is never summed (it can exceed the gross), nor are quantities or unit prices read.
- Models are the `model` display names as sent (cut to 255 characters with a visible mark, like every
  stored name), summed across products and SKUs.
- Requests and tokens are unknown (None): these reports give neither.
- The actor of a day is each seat holder (their own report, `user=`) and `(other usage)` for what the
  day's total holds beyond them; a day not split is `(all users)`. The actors always add up to the day.

An answer is walked item by item (jsonstream), never decoded whole; items and the window's distinct
(day, model, person) sums are counted as they arrive (MAX_ITEMS, MAX_SUMS_PER_WINDOW).

Pure: no network, no Textual. Every shape error is a ShapeError (its `detail` never quotes a value).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Context, Decimal

from grafient_tui import providers
from grafient_tui.errors import MAX_SUMS_PER_WINDOW, ShapeError, too_many_sums
from grafient_tui.providers import amounts
from grafient_tui.providers.base import CostLine
from grafient_tui.providers.jsonstream import JsonObject
from grafient_tui.untrusted import stored_name

# Copilot moved organizations and enterprises from premium requests to AI credits on this day.
AI_CREDITS_FROM = datetime.date(2026, 6, 1)
PREMIUM_REQUESTS = "premium_request"
AI_CREDITS = "ai_credit"
OTHER_USAGE = "(other usage)"  # a split day's usage beyond its seat holders (seats ended, nobody's)


def _whole_actor() -> str:
    """The actor of a day GitHub does not split per person: the registry's row names it, so the
    capabilities read without loading this module (member counts, the card, FOCUS) say the same."""
    whole = providers.capabilities("copilot").whole_actor
    if whole is None:
        raise RuntimeError("the copilot row of the provider registry names no whole_actor")
    return whole


ALL_USERS = _whole_actor()
MAX_ITEMS = 10_000  # usage items in one answer: far beyond any real day's products x SKUs x models

_CTX = Context(prec=60)  # our own: a caller's decimal context cannot change our sums


@dataclass(frozen=True)
class Money:
    """Exact dollars of one model (or actor) in one day: the usage value and the bill."""

    gross: Decimal
    net: Decimal

    def __add__(self, other: Money) -> Money:
        return Money(_CTX.add(self.gross, other.gross), _CTX.add(self.net, other.net))

    def __sub__(self, other: Money) -> Money:
        return Money(_CTX.subtract(self.gross, other.gross), _CTX.subtract(self.net, other.net))

    @property
    def zero(self) -> bool:
        return self.gross == 0 and self.net == 0


ZERO = Money(Decimal(0), Decimal(0))
Usage = dict[str, Money]  # model -> its money in one report


def report_kind(day: datetime.date) -> str:
    """Which report holds `day`: premium requests before 2026-06-01, AI credits from then on."""
    return AI_CREDITS if day >= AI_CREDITS_FROM else PREMIUM_REQUESTS


# --------------------------------------------------------------------------- money


_GROSS, _NET = amounts.shape("a grossAmount"), amounts.shape("a netAmount")
_DAY_SUM = amounts.shape("a model's day")


class SumCount:
    """The distinct (day, model, person) sums one window's reports have made so far: counted as each
    arrives, so reports that invent a new model item after item fail the window at the bound."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0

    def add(self) -> None:
        self.count += 1
        if self.count > MAX_SUMS_PER_WINDOW:
            raise too_many_sums("GitHub", "billing reports", MAX_SUMS_PER_WINDOW)


# --------------------------------------------------------------------------- the report


def read_report(
    answer: JsonObject,
    *,
    year: int,
    month: int,
    day: int | None,
    user: str | None = None,
    sums: SumCount | None = None,
) -> Usage:
    """The money of one report answer by model. The answer must be the period asked (`timePeriod`: the
    year, month and, for a day, the day; the echoed `user` the one asked) with a `usageItems` list whose
    items each have a `model` string and a finite `grossAmount` and `netAmount`. An empty list is a period
    without usage. The items are read one at a time; each new model is counted in `sums`."""
    period = answer.get("timePeriod")
    if type(period) is not dict:
        raise ShapeError("an answer without its timePeriod")
    asked: dict[str, int | None] = {"year": year, "month": month, "day": day}
    for name, wanted in asked.items():
        got = period.get(name)
        if wanted is None:
            if got is not None:
                raise ShapeError("an answer for a day where a month was asked")
        elif type(got) is not int or got != wanted:
            raise ShapeError("an answer for another period than the one asked")
    echoed = answer.get("user")
    if user is not None and echoed is not None and (type(echoed) is not str or echoed.casefold() != user.casefold()):
        raise ShapeError("an answer for another user than the one asked")
    items = answer.array("usageItems")
    if items is None:
        raise ShapeError("an answer without a usageItems list")
    usage: Usage = {}
    for count, item in enumerate(items.objects(), 1):
        if count > MAX_ITEMS:
            raise ShapeError(f"more than {MAX_ITEMS:,} usage items for one period")
        if isinstance(item, str):
            raise ShapeError("a usage item that is not an object")
        model = item.get("model")
        if type(model) is not str or not model.strip():
            raise ShapeError("a usage item without a model name")
        model = stored_name(model)
        money = Money(amounts.exact(item.get("grossAmount"), _GROSS), amounts.exact(item.get("netAmount"), _NET))
        known = usage.get(model)
        if known is None:
            if sums is not None:
                sums.add()
            usage[model] = money
        else:
            usage[model] = known + money
    return usage


def total(usage: Usage) -> Money:
    out = ZERO
    for money in usage.values():
        out = out + money
    return out


# --------------------------------------------------------------------------- lines


def _lines(day: datetime.date, actor: str, usage: Usage) -> list[CostLine]:
    """The lines of one actor's day: per model, the included part (gross − net; written even when 0, so
    a day whose items are all free still counts as a day with usage) and the billed part when not 0."""
    lines = []
    for model, money in usage.items():
        included = _CTX.subtract(money.gross, money.net)
        lines.append(_line(day, model, actor, False, included))
        if money.net != 0:
            lines.append(_line(day, model, actor, True, money.net))
    return lines


def _line(day: datetime.date, model: str, actor: str, on_demand: bool, value: Decimal) -> CostLine:
    return CostLine(
        day,
        model,
        actor,
        on_demand,
        amounts.micro_of_sum(value, _DAY_SUM),
        None,  # requests: premium requests are multiplied, AI credits are money; neither counts requests
        input_tokens=None,
        output_tokens=None,
        cache_read_tokens=None,
        cache_write_tokens=None,
    )


def day_lines(day: datetime.date, whole: Usage, people: Mapping[str, Usage] | None) -> list[CostLine]:
    """The cost lines of one day: its whole report under `(all users)` when it is not split (`people`
    None), else each seat holder's own report and, per model, what the whole holds beyond them as
    `(other usage)` (omitted where that is exactly zero). Exact: the actors add up to the day."""
    if people is None:
        return _lines(day, ALL_USERS, whole)
    lines: list[CostLine] = []
    accounted: Usage = {}
    for login, usage in people.items():
        lines.extend(_lines(day, login, usage))
        for model, money in usage.items():
            accounted[model] = accounted.get(model, ZERO) + money
    other: Usage = {}
    for model in whole.keys() | accounted.keys():
        rest = whole.get(model, ZERO) - accounted.get(model, ZERO)
        if not rest.zero:
            other[model] = rest
    lines.extend(_lines(day, OTHER_USAGE, other))
    return lines
