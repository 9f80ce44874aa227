"""ElevenLabs' cost rules: credits per model and day, read exactly, and the estimate that prices them
(shared/elevenlabs-api.md).

ElevenLabs bills a monthly plan of credits, not money per call, and its API gives no price. The
dollars are an estimate: USD per credit = the plan's monthly list price (Grafient's table, by
`tier`) ÷ the period's credit quota (`character_limit`), applied to every day. A tier without a
list price (enterprise, custom, older names) has an unknown cost, never $0; its credits are kept.
Credits are stored in millionths (half credits are common), cost in micro-cents (1e-8 USD), each
rounded once, half to even, by integer arithmetic: exact.

An answer is walked bucket by bucket and model by model (jsonstream), never decoded whole; model
names are cut to 255 characters with a visible mark, like every stored name.

Pure: no network, no Textual. Every shape error is a ShapeError (its `detail` never quotes a value):
the client completes the sentence (`unreadable`).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import Any

from grafient_tui.errors import ShapeError
from grafient_tui.money import plausible
from grafient_tui.providers.base import CostBasis, CostLine
from grafient_tui.providers.jsonstream import JsonObject
from grafient_tui.untrusted import stored_name

MICRO_PER_USD = 100_000_000
MICRO_PER_CREDIT = 1_000_000
WORKSPACE = "Workspace"  # the one actor: usage is read for the whole workspace
SAVED_NOTHING = "nothing from this window was saved"
DAY_MS = 86_400_000
EPOCH = datetime.date(1970, 1, 1)
MAX_MODELS = 1_000
MAX_BUCKETS = 400  # a window is at most 90 days; hourly buckets would be 2,160

# ElevenLabs' public monthly list prices in US dollars, by `tier` (the API gives none).
TIER_PRICES_USD: dict[str, int] = {
    "free": 0,
    "starter": 5,
    "creator": 22,
    "pro": 99,
    "scale": 330,
    "business": 1320,
}

_CTX = Context(prec=60)
_VALUE_LIMIT = Decimal(10) ** 12  # credits or characters in one bucket
_MS_LIMIT = Decimal(10) ** 14  # a bucket's timestamp: about the year 5138


def malformed(what: str) -> ShapeError:
    """An ElevenLabs answer of a shape Grafient cannot read: an error for its window (see `unreadable`)."""
    return ShapeError(f"an answer Grafient cannot read ({what})")


def unreadable(detail: str) -> str:
    """The sentence of a ShapeError met reading an answer."""
    return f"the ElevenLabs API sent {detail}; {SAVED_NOTHING}"


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class Plan:
    """The subscription as the estimate needs it."""

    tier: str
    credit_quota: int | None  # `character_limit`: the period's credits
    price_usd: int | None  # the monthly list price; None: a tier Grafient has no price for

    @property
    def priced(self) -> bool:
        return self.price_usd is not None and (self.price_usd == 0 or bool(self.credit_quota))

    def cost_micro(self, credits_micro: int) -> int:
        """The estimate for these credits in micro-cents (0 when the plan is not priced: the caller
        marks the cost unknown)."""
        if not self.priced or not self.price_usd:
            return 0
        assert self.credit_quota is not None
        # credits_micro / 1e6 credits × price / quota dollars × 1e8 micro-cents a dollar, at 60 digits:
        # a quotient that rounds the other way than the exact one would need a tie past them
        exact = _CTX.divide(Decimal(credits_micro * self.price_usd * 100), Decimal(self.credit_quota))
        return int(exact.to_integral_value(rounding=ROUND_HALF_EVEN, context=_CTX))

    def usd_per_credit(self) -> Decimal | None:
        if not self.priced:
            return None
        if not self.price_usd:
            return Decimal(0)
        assert self.credit_quota is not None
        return _CTX.divide(Decimal(self.price_usd), Decimal(self.credit_quota)).normalize(_CTX)

    def basis(self, as_of: datetime.date) -> CostBasis:
        """How the dollars of this plan are made, in words and as the JSON report's `estimate`."""
        name = self.tier.replace("_", " ").title()
        rate = self.usd_per_credit()
        estimate: dict[str, str | int | None] = {
            "tier": self.tier,
            "plan_price_usd": None if self.price_usd is None else str(self.price_usd),
            "credit_quota": self.credit_quota,
            "usd_per_credit": None if rate is None else format(rate, "f"),
            "as_of": as_of.isoformat(),
        }
        if not self.priced:
            note = f"cost unknown: Grafient has no list price for the {name} plan (credits are kept)"
            return CostBasis(note=note, estimate=estimate, cost_known=False)
        if self.price_usd == 0:
            note = f"estimated from credits: the {name} plan's credits cost nothing"
        else:
            note = f"estimated from credits at the {name} plan's ${self.price_usd:,} / {self.credit_quota:,} credits"
        return CostBasis(note=note, estimate=estimate)


def read_plan(answer: Mapping[str, Any]) -> Plan:
    """The plan of a /v1/user/subscription answer; ShapeError when it cannot be priced safely
    (no `tier`; a priced paid tier without an integer `character_limit` above 0)."""
    tier = answer.get("tier")
    if type(tier) is not str or not tier.strip() or len(tier) > 64:
        raise ShapeError("a subscription without its tier")
    tier = tier.strip().lower()
    price = TIER_PRICES_USD.get(tier)
    limit = answer.get("character_limit")
    quota = limit if type(limit) is int and 0 < limit <= 10**12 else None
    if price is not None and price > 0 and quota is None:
        raise ShapeError("a subscription without a credit quota (character_limit)")
    return Plan(tier=tier, credit_quota=quota, price_usd=price)


# --------------------------------------------------------------------------- character-stats


def _number(value: Any, limit: Decimal = _VALUE_LIMIT) -> Decimal | None:
    """A JSON number as an exact Decimal (the client decodes fractions as Decimal), or None."""
    if type(value) is int:
        number = Decimal(value)
    elif isinstance(value, Decimal):
        number = value
    else:
        return None
    if not plausible(number) or _CTX.abs(number) > limit:
        return None
    return number


def read_series(
    answer: JsonObject, first: datetime.date, last: datetime.date
) -> dict[str, dict[datetime.date, Decimal]]:
    """model id -> day -> value, from a character-stats answer for first..last (buckets of a day),
    read bucket by bucket and model by model.

    Malformed (an error for the window, never an empty day): no `time` list or `usage` object, a
    series whose length differs from `time`, a bucket that is not a UTC midnight inside the window
    (or is there twice), a value that is not a number."""
    times, usage = answer.array("time"), answer.object("usage")
    if times is None or usage is None:
        raise malformed("no time list or usage object")
    days: list[datetime.date] = []
    for stamp in times.values():
        if len(days) >= MAX_BUCKETS:
            raise malformed("more buckets or models than a window can have")
        ms = _number(stamp, _MS_LIMIT)
        if ms is None or ms != ms.to_integral_value(context=_CTX) or int(ms) % DAY_MS:
            raise malformed("a bucket that is not a UTC midnight")
        try:
            day = EPOCH + datetime.timedelta(days=int(ms) // DAY_MS)
        except OverflowError:
            raise malformed("a bucket that is not a UTC midnight") from None
        if not first <= day <= last:
            raise malformed(f"a bucket for {day.isoformat()}, outside {first} .. {last}")
        if day in days:
            raise malformed(f"the day {day.isoformat()} twice")
        days.append(day)
    models = usage.names()
    if len(models) > MAX_MODELS:
        raise malformed("more buckets or models than a window can have")
    out: dict[str, dict[datetime.date, Decimal]] = {}
    for model in models:
        values = usage.array(model)
        if values is None:
            raise malformed("a series whose length differs from its buckets")
        series = out.setdefault(stored_name(model), {})  # names alike in their first 254 characters: one
        count = 0
        for value in values.values():
            if count >= len(days):
                raise malformed("a series whose length differs from its buckets")
            number = _number(value)
            if number is None:
                raise malformed("a value that is not a number")
            day = days[count]
            series[day] = _CTX.add(series[day], number) if day in series else number
            count += 1
        if count != len(days):
            raise malformed("a series whose length differs from its buckets")
    return out


def cost_lines(
    credits: Mapping[str, Mapping[datetime.date, Decimal]],
    characters: Mapping[str, Mapping[datetime.date, Decimal]],
    plan: Plan,
) -> list[CostLine]:
    """One line per model and day with credits or characters: the estimate of its credits (0 when
    the plan has no price: its basis says the cost is unknown), its credits and characters;
    requests unknown, tokens not applicable."""
    keys = {(model, day) for model, series in credits.items() for day, v in series.items() if v} | {
        (model, day) for model, series in characters.items() for day, v in series.items() if v
    }
    lines = []
    for model, day in sorted(keys, key=lambda k: (k[1], k[0])):
        spent = credits.get(model, {}).get(day, Decimal(0))
        chars = characters.get(model, {}).get(day)
        credits_micro = int(
            _CTX.multiply(spent, Decimal(MICRO_PER_CREDIT)).to_integral_value(rounding=ROUND_HALF_EVEN, context=_CTX)
        )
        lines.append(
            CostLine(
                day,
                model,
                WORKSPACE,
                False,
                plan.cost_micro(credits_micro),
                None,
                input_tokens=None,
                output_tokens=None,
                cache_read_tokens=None,
                cache_write_tokens=None,
                credits_micro=credits_micro,
                characters=None
                if chars is None
                else int(chars.to_integral_value(rounding=ROUND_HALF_EVEN, context=_CTX)),
            )
        )
    return lines


__all__ = [
    "MICRO_PER_CREDIT",
    "TIER_PRICES_USD",
    "WORKSPACE",
    "Plan",
    "cost_lines",
    "malformed",
    "read_plan",
    "read_series",
    "unreadable",
]
