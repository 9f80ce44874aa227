"""Cursor's cost rules: a usage event as Cursor sends it, read exactly, priced and placed on its UTC day.

Money is integer micro-cents (1 cent = 1_000_000), computed exactly: a JSON number
is read as the decimal literal it was written as, never as a binary float sum.
Pure: no network, no Textual.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Context, Decimal
from typing import Any

from grafient_tui.errors import EventFormatError
from grafient_tui.money import MAX_ROW_MICRO, describe
from grafient_tui.providers import amounts
from grafient_tui.providers.base import CostLine
from grafient_tui.untrusted import MAX_NAME, stored_name

MICRO = 1_000_000
DAY_MS = 86_400_000
UNATTRIBUTED = "unattributed"  # the member of events that name no one


# --------------------------------------------------------------------------- money

_LIMIT = 10**12  # a token count or timestamp part past this is no real one
_LIMIT_D = Decimal(_LIMIT)
_MAX_CENTS = MAX_ROW_MICRO // MICRO  # an integer chargedCents up to this takes the fast path
# Our own context, so a caller that changed the thread's decimal context cannot
# change our results; 60 digits hold any value below 1e12 times 1e6 exactly.
_CTX = Context(prec=60)
_ONE = Decimal(1)
_HUNDRED = Decimal(100)


def _describe(value: Any) -> str:
    """What a bad value is, never the value itself: it came from the server, which may echo the
    key (the sentence is printed and stored in the sync log)."""
    return describe(value)


def _bad(field_name: str, value: Any, what: str = "a number") -> EventFormatError:
    return EventFormatError(f"usage event field {field_name} is not {what} (got {_describe(value)})")


def _decimal(value: Any, field_name: str, limit: Decimal = _LIMIT_D) -> Decimal:
    """The exact decimal a JSON value was written as; finite and at most `limit` (1e12) in size."""
    d = amounts.exact(value, _field_is(field_name))
    if _CTX.abs(d) > limit:
        raise _bad(field_name, value, "a number of a plausible size")
    return d


def _field_is(field_name: str) -> amounts.Failure:
    return lambda reason: EventFormatError(f"usage event field {field_name} is {reason}")


def _micro(value: Any, field_name: str) -> int:
    """`value` (not None), in cents or units, in micro-units through the one money parser; an
    integer in range takes a shortcut (this is the hot loop of every sync)."""
    if type(value) is int and -_MAX_CENTS <= value <= _MAX_CENTS:
        return value * MICRO
    return amounts.micro(value, _field_is(field_name), "cents")


def _fallback_cost_micro(usage: dict[str, Any] | None, raw: dict[str, Any]) -> int:
    """totalCents × (1 − discountPercentOff/100) + cursorTokenFee, each missing part 0."""
    usage = usage or {}
    total = usage.get("totalCents")
    discount = usage.get("discountPercentOff")
    if discount is None:
        discount = raw.get("discountPercentOff")
    fee = raw.get("cursorTokenFee")
    if fee is None:
        fee = usage.get("cursorTokenFee")
    if discount is None:
        if total is None and fee is None:
            return 0
        if total is None:
            return _micro(fee, "cursorTokenFee")
        if fee is None:
            return _micro(total, "tokenUsage.totalCents")
    cost = Decimal(0)
    if total is not None:
        factor = _ONE
        if discount is not None:
            factor = _CTX.subtract(_ONE, _CTX.divide(_decimal(discount, "tokenUsage.discountPercentOff"), _HUNDRED))
        cost = _CTX.multiply(_decimal(total, "tokenUsage.totalCents"), factor)
    if fee is not None:
        cost = _CTX.add(cost, _decimal(fee, "cursorTokenFee"))
    return amounts.micro_of_sum(cost, _field_is("cost"), "cents")


def _token_usage(raw: dict[str, Any]) -> dict[str, Any] | None:
    usage = raw.get("tokenUsage")
    if usage is None or type(usage) is dict:
        return usage
    raise _bad("tokenUsage", usage, "an object")


def _kind_of(raw: dict[str, Any]) -> str:
    """`kind`, else `kindLabel` (older shapes), else ""."""
    kind = raw.get("kind")
    if kind is None:
        kind = raw.get("kindLabel")
    return kind if type(kind) is str else _text(kind, "kind", "")


def not_charged(kind: str, raw: dict[str, Any]) -> bool:
    """The event's own word that it cost nothing: an errored or aborted kind, or a free Bugbot run.
    Only consulted when `chargedCents` is absent (chargedCents wins whatever the kind says)."""
    folded = kind.casefold()
    if "not charged" in folded or "no charge" in folded:
        return True
    if kind.startswith("USAGE_EVENT_KIND_") and ("ERRORED" in kind or "ABORTED" in kind):
        return True
    free_bugbot = raw.get("isFreeBugbot")
    return free_bugbot is True or (
        free_bugbot is not None and free_bugbot is not False and _flag(free_bugbot, "isFreeBugbot")
    )


_ON_DEMAND_KINDS = {"usagebased", "ondemand", "USAGE_EVENT_KIND_USAGE_BASED"}


def on_demand_kind(kind: str) -> bool:
    """Without `isChargeable`: on-demand when the kind says usage-based or on-demand (the English
    labels compared without case, hyphen or space, and the enum kind). Anything else is included."""
    if kind in _ON_DEMAND_KINDS:
        return True
    return kind.casefold().replace("-", "").replace(" ", "").replace("_", "") in _ON_DEMAND_KINDS


def event_cost_micro(raw: dict[str, Any]) -> int:
    """The cost of one usage event in micro-cents: chargedCents, else the token formula
    (0 when the kind says it was not charged, or for a free Bugbot run)."""
    if not isinstance(raw, dict):
        raise EventFormatError("a usage event is not a JSON object")
    charged = raw.get("chargedCents")
    if charged is not None:
        return _micro(charged, "chargedCents")
    if not_charged(_kind_of(raw), raw):
        return 0
    return _fallback_cost_micro(_token_usage(raw), raw)


# --------------------------------------------------------------------------- days

_EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()
_MAX_TIMESTAMP_MS = (datetime.date(9999, 12, 31).toordinal() - _EPOCH_ORDINAL + 1) * DAY_MS - 1
# Epoch milliseconds are beyond the 1e12 that bounds money and counts (today is ~1.8e12).
_TIMESTAMP_LIMIT_D = Decimal(_MAX_TIMESTAMP_MS)
_day_cache: dict[int, datetime.date] = {}


def _day_of(day_number: int) -> datetime.date:
    day = _day_cache.get(day_number)
    if day is None:
        if len(_day_cache) > 100_000:
            _day_cache.clear()
        day = _day_cache[day_number] = datetime.date.fromordinal(_EPOCH_ORDINAL + day_number)
    return day


def day_bounds_ms(first: datetime.date, last: datetime.date) -> tuple[int, int]:
    """Inclusive UTC bounds in epoch ms: first 00:00:00.000Z .. last 23:59:59.999Z."""
    start = (first.toordinal() - _EPOCH_ORDINAL) * DAY_MS
    end = (last.toordinal() - _EPOCH_ORDINAL + 1) * DAY_MS - 1
    return start, end


# --------------------------------------------------------------------------- events


@dataclass(slots=True)
class UsageEvent:
    timestamp_ms: int
    day: datetime.date
    user_email: str
    model: str
    kind: str
    chargeable: bool
    cost_micro: int
    request_units_micro: int
    input_tokens: int
    output_tokens: int
    cache_write_tokens: int
    cache_read_tokens: int
    conversation_id: str | None
    has_tokens: bool = True  # False: no tokenUsage (not token-based): its token counts are 0 and not reported


def _iso_timestamp(value: str) -> int | None:
    """Epoch ms of an ISO 8601 time with a zone (`Z` or ±hh:mm), or None when it is not one."""
    if len(value) > 40 or "T" not in value:
        return None
    try:
        moment = datetime.datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None  # a time without a zone could be any day: not one Grafient can place
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def _timestamp(value: Any) -> int:
    if type(value) is str:
        try:
            ts = int(value)
        except ValueError:
            iso = _iso_timestamp(value)
            ts = iso if iso is not None else _integral(value, "timestamp", _TIMESTAMP_LIMIT_D)
    elif type(value) is int:
        ts = value
    elif value is None:
        raise EventFormatError("usage event field timestamp is missing")
    else:
        ts = _integral(value, "timestamp", _TIMESTAMP_LIMIT_D)
    if not 0 <= ts <= _MAX_TIMESTAMP_MS:
        raise EventFormatError("usage event field timestamp is not a plausible epoch-milliseconds value")
    return ts


def _integral(value: Any, field_name: str, limit: Decimal = _LIMIT_D) -> int:
    """A whole number from an int, an integral float or a numeric string."""
    d = _decimal(value, field_name, limit)
    if d != d.to_integral_value(context=_CTX):
        raise _bad(field_name, value, "a whole number")
    return int(d)


def _tokens(usage: dict[str, Any], name: str) -> int:
    value = usage.get(name)
    if type(value) is int and -_LIMIT <= value <= _LIMIT:
        return value
    if value is None:
        return 0
    return _integral(value, "tokenUsage." + name)


def _text(value: Any, field_name: str, default: str) -> str:
    if value is None or value == "":
        return default
    if type(value) is str:
        return value
    raise _bad(field_name, value, "a string")


_TRUTHY = {"true": True, "false": False, "1": True, "0": False}


def _flag(value: Any, field_name: str) -> bool:
    if type(value) is int and value in (0, 1):
        return bool(value)
    if type(value) is str and value.strip().lower() in _TRUTHY:
        return _TRUTHY[value.strip().lower()]
    raise _bad(field_name, value, "true or false")


def parse_event(raw: dict[str, Any]) -> UsageEvent:
    """One usage event as Cursor sends it, read tolerantly; EventFormatError if it cannot be."""
    if type(raw) is not dict:
        raise EventFormatError("a usage event is not a JSON object")
    get = raw.get
    ts = _timestamp(get("timestamp"))

    email = get("userEmail")
    if type(email) is not str or not email:
        # Service accounts, cloud agents and automations are team spend too: they count under
        # the service account's name when there is one.
        email = _text(email, "userEmail", "") or _text(get("serviceAccountName"), "serviceAccountName", UNATTRIBUTED)
    model = get("model")
    if type(model) is not str or not model:
        model = _text(model, "model", "unknown")
    kind = get("kind")
    if kind is None:
        kind = get("kindLabel")
    if type(kind) is not str:
        kind = _text(kind, "kind", "")
    chargeable = get("isChargeable")
    if type(chargeable) is not bool:
        chargeable = on_demand_kind(kind) if chargeable is None else _flag(chargeable, "isChargeable")

    units = get("requestsCosts")
    if units is None:
        units = get("requestCosts")  # an older, misspelt name for the same field
    units = 0 if units is None else _micro(units, "requestsCosts")

    usage = get("tokenUsage")
    if usage is None:
        tokens_in = tokens_out = cache_write = cache_read = 0
    elif type(usage) is dict:
        # Inlined int checks: this is the hot loop of every sync. A count beyond 1e12 is
        # no real count, and would not fit the store once summed.
        uget = usage.get
        tokens_in = uget("inputTokens", 0)
        if type(tokens_in) is not int or not -_LIMIT <= tokens_in <= _LIMIT:
            tokens_in = _tokens(usage, "inputTokens")
        tokens_out = uget("outputTokens", 0)
        if type(tokens_out) is not int or not -_LIMIT <= tokens_out <= _LIMIT:
            tokens_out = _tokens(usage, "outputTokens")
        cache_write = uget("cacheWriteTokens", 0)
        if type(cache_write) is not int or not -_LIMIT <= cache_write <= _LIMIT:
            cache_write = _tokens(usage, "cacheWriteTokens")
        cache_read = uget("cacheReadTokens", 0)
        if type(cache_read) is not int or not -_LIMIT <= cache_read <= _LIMIT:
            cache_read = _tokens(usage, "cacheReadTokens")
    else:
        raise _bad("tokenUsage", usage, "an object")

    charged = get("chargedCents")
    if charged is not None:
        cost = _micro(charged, "chargedCents")
    elif not_charged(kind, raw):
        cost = 0
    else:
        cost = _fallback_cost_micro(usage, raw)

    conversation = get("conversationId")
    if conversation is not None and type(conversation) is not str:
        raise _bad("conversationId", conversation, "a string")

    return UsageEvent(
        ts,
        _day_of(ts // DAY_MS),
        email if len(email) <= MAX_NAME and email.isprintable() else stored_name(email),
        model if len(model) <= MAX_NAME and model.isprintable() else stored_name(model),
        kind,
        chargeable,
        cost,
        units,
        tokens_in,
        tokens_out,
        cache_write,
        cache_read,
        conversation,
        usage is not None,
    )


# --------------------------------------------------------------------------- cost lines


def cost_lines(events: list[UsageEvent]) -> list[CostLine]:
    """Events summed per day, model, member, billing kind and whether they count tokens: one request
    per event. An event that is not token-based reports no tokens (never 0 tokens): its line says
    so, and a model whose events are all like it has unknown tokens (store/sums.py `reported_plus`).

    Sums are exact integers, so summing here and again in the engine gives the same totals."""
    sums: dict[tuple[datetime.date, str, str, bool, bool], list[int]] = {}
    get = sums.get
    for e in events:
        key = (e.day, e.model, e.user_email, e.chargeable, e.has_tokens)
        s = get(key)
        if s is None:
            sums[key] = [
                e.cost_micro,
                1,
                e.request_units_micro,
                e.input_tokens,
                e.output_tokens,
                e.cache_read_tokens,
                e.cache_write_tokens,
            ]
        else:
            s[0] += e.cost_micro
            s[1] += 1
            s[2] += e.request_units_micro
            s[3] += e.input_tokens
            s[4] += e.output_tokens
            s[5] += e.cache_read_tokens
            s[6] += e.cache_write_tokens
    return [
        CostLine(
            day,
            model,
            actor,
            on_demand,
            s[0],
            s[1],
            s[2],
            input_tokens=s[3] if tokens else None,
            output_tokens=s[4] if tokens else None,
            cache_read_tokens=s[5] if tokens else None,
            cache_write_tokens=s[6] if tokens else None,
            reports_tokens=tokens,
        )
        for (day, model, actor, on_demand, tokens), s in sums.items()
    ]
