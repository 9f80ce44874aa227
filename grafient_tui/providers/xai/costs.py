"""xAI's cost rules: one answer of `POST /v1/billing/teams/{team}/usage` read exactly, and its cost lines.

The rules are shared/xai-management-api.md's. Money is integer micro-cents (1 USD = 100_000_000): each
point's `values[0]` is US dollars as a JSON number (a binary double on xAI's side), read from its
literal text (the HTTP client decodes fractions as Decimal, exponent forms included), summed exactly
per day, description label and API key, and rounded half-even once per cost line.

- Day = the UTC date of the point's `timestamp`, a UTC midnight inside the window. The answer is dense:
  every day of the window is a synced day; one without a non-zero point is $0.00.
- Model = the `description` label, whole (`Chat grok-4-0709`): its format is undocumented. A zero point
  makes no model.
- Actor = the API key: the label's text before ` (` (the redacted key after it is never kept), `(no
  API key)` for usage without one, `(all keys)` for a day only readable without the key split; two keys
  of one name get the first 8 characters of their id beside it.
- Requests and tokens are unknown (None); there is no on-demand split.

Pure: no network, no Textual. Every shape error is a ShapeError (its `detail` never quotes a value).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import Any

from grafient_tui.money import plausible
from grafient_tui.providers.base import CostLine, distinct_names
from grafient_tui.providers.http import ShapeError

NO_KEY = "(no API key)"  # usage without an API key (the Console's playground, say)
ALL_KEYS = "(all keys)"  # a day whose answer could only be read without the split by key
NO_DESCRIPTION = "(no description)"
MAX_SERIES = 20_000  # in one answer: far beyond any real team's labels x keys
MAX_KEYS = 10_000
MAX_NAME = 256  # characters of a description label or a key's label

MICRO_PER_USD = 100_000_000
_CTX = Context(prec=60)  # our own: a caller's decimal context cannot change our sums
_MICRO = Decimal(MICRO_PER_USD)
_USD_LIMIT = Decimal(10) ** 12  # no real day of one team comes near a trillion dollars


@dataclass(frozen=True)
class Answer:
    """One usage answer, read: exact dollars per (day, description, key id), the keys' names as the
    labels give them, and whether xAI cut the series short."""

    sums: dict[tuple[datetime.date, str, str | None], Decimal]
    key_names: dict[str, str]  # key id -> the label's text before " ("
    limit_reached: bool


def dollars(value: Any) -> Decimal:
    """The exact dollars of a point: a JSON number (a Decimal as the client decodes fractions, or an
    int). Strings ("NaN", "Infinity", "1.5"), null, booleans and the floats JSON's NaN and Infinity decode
    to are malformed. (Issue 18 brings one bounded parser to money.py; this is the one place to swap.)"""
    if type(value) is Decimal:
        d = value
    elif type(value) is int:
        d = Decimal(value)
    else:
        raise ShapeError("a point whose value is not a finite number")
    if not plausible(d) or _CTX.abs(d) > _USD_LIMIT:
        raise ShapeError("a point whose value is not of a plausible size")
    return d


def to_micro(value: Decimal) -> int:
    """Dollars as integer micro-cents, rounded half-even at the eighth decimal."""
    return int(_CTX.multiply(value, _MICRO).to_integral_value(rounding=ROUND_HALF_EVEN, context=_CTX))


def _day_of(timestamp: Any, first: datetime.date, last: datetime.date) -> datetime.date:
    if type(timestamp) is not str or len(timestamp) > 40:
        raise ShapeError("a point without a timestamp")
    try:
        moment = datetime.datetime.fromisoformat(timestamp)
    except ValueError:
        raise ShapeError("a point whose timestamp is not RFC 3339") from None
    offset = moment.utcoffset()
    if offset is None or offset or moment.time() != datetime.time(0):
        raise ShapeError("a point whose timestamp is not a UTC midnight")
    day = moment.date()
    if not first <= day <= last:
        raise ShapeError("a point outside the window asked")
    return day


def key_name(label: Any, key_id: str) -> str:
    """The name shown for a key: its label's text before ` (` (never the redacted key after it), else
    "key" and the id's first 8 characters."""
    name = label.split(" (", 1)[0].strip() if type(label) is str else ""
    return name or f"key {key_id[:8]}"


def read_usage(data: dict[str, Any], first: datetime.date, last: datetime.date, *, by_key: bool) -> Answer:
    """An answer to a usage query for first..last grouped by description (and `by_key`, api_key_id).
    A missing `timeSeries` is no usage; a missing `limitReached` is false."""
    series = data.get("timeSeries", [])
    if type(series) is not list:
        raise ShapeError("an answer whose timeSeries is not a list")
    if len(series) > MAX_SERIES:
        raise ShapeError(f"more than {MAX_SERIES:,} series in one answer")
    reached = data.get("limitReached", False)
    if type(reached) is not bool:
        raise ShapeError("an answer whose limitReached is not true or false")
    width = 2 if by_key else 1
    sums: dict[tuple[datetime.date, str, str | None], Decimal] = {}
    names: dict[str, str] = {}
    for one in series:
        if type(one) is not dict:
            raise ShapeError("a series that is not an object")
        group, labels = one.get("group"), one.get("groupLabels")
        if (
            type(group) is not list
            or type(labels) is not list
            or len(group) != width
            or len(labels) != width
            or not all(type(v) is str for v in (*group, *labels))
        ):
            raise ShapeError("a series whose group or groupLabels does not name each field asked")
        if any(len(v) > MAX_NAME for v in (*group, *labels)):
            raise ShapeError(f"a label longer than {MAX_NAME} characters")
        description = labels[0].strip() or group[0].strip() or NO_DESCRIPTION
        key: str | None = None
        if by_key:
            key = group[1] or None
            if key is not None:
                names.setdefault(key, key_name(labels[1], key))
                if len(names) > MAX_KEYS:
                    raise ShapeError(f"more than {MAX_KEYS:,} API keys in one answer")
        points = one.get("dataPoints", [])
        if type(points) is not list:
            raise ShapeError("a series whose dataPoints is not a list")
        for point in points:
            if type(point) is not dict:
                raise ShapeError("a point that is not an object")
            day = _day_of(point.get("timestamp"), first, last)
            values = point.get("values")
            if type(values) is not list or len(values) != 1:
                raise ShapeError("a point whose values is not a list of one number")
            amount = dollars(values[0])
            if amount == 0:
                continue  # dense answers send every day; a zero point makes no model
            slot = (day, description, key)
            sums[slot] = _CTX.add(sums.get(slot, Decimal(0)), amount)
    return Answer(sums, names, reached)


def shown_names(key_names: Mapping[str, str]) -> dict[str, str]:
    """Key id -> the name to show: its own, or with its id's first 8 characters when another key (or
    `(no API key)`, `(all keys)`) has that name too."""
    return distinct_names(key_names, (NO_KEY, ALL_KEYS))


def cost_lines(answer: Answer, shown: Mapping[str, str], *, whole_day: bool = False) -> list[CostLine]:
    """The answer's sums as lines: by key name (`shown`, from `shown_names`), `(no API key)` without
    one, `(all keys)` for a day read without the key split (`whole_day`)."""
    lines = []
    for (day, description, key), amount in answer.sums.items():
        actor = ALL_KEYS if whole_day else shown.get(key, key) if key is not None else NO_KEY
        lines.append(
            CostLine(
                day,
                description,
                actor,
                False,
                to_micro(amount),
                None,  # xAI gives no request count
                input_tokens=None,  # nor tokens: Grafient asks for dollars only
                output_tokens=None,
                cache_read_tokens=None,
                cache_write_tokens=None,
            )
        )
    return lines
