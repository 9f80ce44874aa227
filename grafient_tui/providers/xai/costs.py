"""xAI's cost rules: one answer of `POST /v1/billing/teams/{team}/usage` read exactly, and its cost lines.

The rules are shared/xai-management-api.md's. Money is integer micro-cents (1 USD = 100_000_000): each
point's `values[0]` is US dollars (a binary double on xAI's side), read by the one money parser
(money.exact_amount: the literal text of a JSON number or numeric string, exact, refused past any
plausible bill), summed exactly per day, description label and API key, and rounded half-even once per
cost line (money.micro_of, bounded per line).

- Day = the UTC date of the point's `timestamp`, a UTC midnight inside the window. The answer is dense:
  every day of the window is a synced day; one without a non-zero point is $0.00.
- Model = the `description` label, whole (`Chat grok-4-0709`; cut to 255 characters with a visible mark,
  like every stored name): its format is undocumented. A zero point makes no model.
- Actor = the API key: the label's text before ` (` (the redacted key after it is never kept), `(no
  API key)` for usage without one, `(all keys)` for a day only readable without the key split; two keys
  of one name get the first 8 characters of their id beside it.
- Requests and tokens are unknown (None); there is no on-demand split.

An answer is walked series by series and point by point (jsonstream), never decoded whole; series,
keys and the window's distinct (day, description, key) sums are counted as they arrive.

Pure: no network, no Textual. Every shape error is a ShapeError (its `detail` never quotes a value).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Context, Decimal
from typing import Any

from grafient_tui.errors import MAX_SUMS_PER_WINDOW, ShapeError, too_many_sums
from grafient_tui.providers import amounts
from grafient_tui.providers.base import CostLine, distinct_names
from grafient_tui.providers.jsonstream import JsonObject
from grafient_tui.untrusted import stored_name

NO_KEY = "(no API key)"  # usage without an API key (the Console's playground, say)
ALL_KEYS = "(all keys)"  # a day whose answer could only be read without the split by key
NO_DESCRIPTION = "(no description)"
MAX_SERIES = 20_000  # in one answer: far beyond any real team's labels x keys
MAX_KEYS = 10_000  # API keys one answer (and one sync) may name
MAX_ID = 256  # characters of a group's id (a key id is a UUID): a longer one is no id

_CTX = Context(prec=60)  # our own: a caller's decimal context cannot change our sums


@dataclass(frozen=True)
class Answer:
    """One usage answer, read: exact dollars per (day, description, key id), the keys' names as the
    labels give them, and whether xAI cut the series short."""

    sums: dict[tuple[datetime.date, str, str | None], Decimal]
    key_names: dict[str, str]  # key id -> the label's text before " ("
    limit_reached: bool


def _point_value(reason: str) -> ShapeError:
    return ShapeError(f"a point whose value is {reason}")


_DAY_SUM = amounts.shape("a day of one model and key")


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
    """The name shown for a key: its label's text before ` (` (never the redacted key after it; cut to
    255 characters with a visible mark), else "key" and the id's first 8 characters."""
    name = label.split(" (", 1)[0].strip() if type(label) is str else ""
    return stored_name(name or f"key {stored_name(key_id[:8])}")


def read_usage(
    answer: JsonObject, first: datetime.date, last: datetime.date, *, by_key: bool, sums_before: int = 0
) -> Answer:
    """An answer to a usage query for first..last grouped by description (and `by_key`, api_key_id),
    read series by series and point by point. A missing `timeSeries` is no usage; a missing
    `limitReached` is false. `sums_before`: the distinct sums the window's earlier answers made (a
    window asked in halves is bounded as one)."""
    reached = answer.get("limitReached", False)
    if type(reached) is not bool:
        raise ShapeError("an answer whose limitReached is not true or false")
    series = answer.array("timeSeries")
    if series is None and answer.kind("timeSeries") != "missing":
        raise ShapeError("an answer whose timeSeries is not a list")
    width = 2 if by_key else 1
    sums: dict[tuple[datetime.date, str, str | None], Decimal] = {}
    names: dict[str, str] = {}
    descriptions: dict[str, str] = {}  # one copy of each description, shared by its sums
    for count, one in enumerate(series.objects() if series is not None else (), 1):
        if count > MAX_SERIES:
            raise ShapeError(f"more than {MAX_SERIES:,} series in one answer")
        if isinstance(one, str):
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
        if any(len(v) > MAX_ID for v in group[1:]):
            raise ShapeError(f"an API key id longer than {MAX_ID} characters")
        description = stored_name(labels[0].strip() or group[0].strip() or NO_DESCRIPTION)
        description = descriptions.setdefault(description, description)
        key: str | None = None
        if by_key:
            key = group[1] or None
            if key is not None and key not in names:
                names[key] = key_name(labels[1], key)
                if len(names) > MAX_KEYS:
                    raise ShapeError(f"more than {MAX_KEYS:,} API keys in one answer")
        points = one.array("dataPoints")
        if points is None and one.kind("dataPoints") != "missing":
            raise ShapeError("a series whose dataPoints is not a list")
        for point in points.objects() if points is not None else ():
            if isinstance(point, str):
                raise ShapeError("a point that is not an object")
            day = _day_of(point.get("timestamp"), first, last)
            values = point.get("values")
            if type(values) is not list or len(values) != 1:
                raise ShapeError("a point whose values is not a list of one number")
            amount = amounts.exact(values[0], _point_value)
            if amount == 0:
                continue  # dense answers send every day; a zero point makes no model
            slot = (day, description, key)
            known = sums.get(slot)
            if known is None:
                if sums_before + len(sums) >= MAX_SUMS_PER_WINDOW:
                    raise too_many_sums("xAI", "usage", MAX_SUMS_PER_WINDOW)
                sums[slot] = amount
            else:
                sums[slot] = _CTX.add(known, amount)
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
                amounts.micro_of_sum(amount, _DAY_SUM),
                None,  # xAI gives no request count
                input_tokens=None,  # nor tokens: Grafient asks for dollars only
                output_tokens=None,
                cache_read_tokens=None,
                cache_write_tokens=None,
            )
        )
    return lines
