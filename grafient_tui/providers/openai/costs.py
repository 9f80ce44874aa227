"""OpenAI's cost rules: the costs and completions-usage buckets as sent, read exactly and placed on their UTC day.

Money is integer micro-cents (1 USD = 100_000_000): `amount.value` is dollars, read from the literal
JSON text by the one money parser (money.to_micro: exact, rounded half-even once at the micro-cent,
bounded per row), and summed exactly per day, model and project; the sums are counted as they grow
(MAX_SUMS_PER_WINDOW). Pure: no network, no Textual.

Every shape error is a `BadResponse` whose sentence the caller completes with "nothing from this
window was saved"; `FormatError.detail` says what was wrong without quoting the value (server text
may echo anything, the key included).
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterator, Mapping
from decimal import Context, Decimal
from typing import Any

from grafient_tui.errors import MAX_SUMS_PER_WINDOW, LimitExceeded, ShapeError, too_many_sums
from grafient_tui.money import plausible
from grafient_tui.providers import amounts
from grafient_tui.providers.base import CostLine
from grafient_tui.providers.jsonstream import JsonObject
from grafient_tui.untrusted import stored_name

MICRO_PER_USD = 100_000_000
DAY_SECONDS = 86_400
MAX_MODELS_PER_WINDOW = 5_000
MAX_PROJECTS = 10_000  # in the project list, and project ids in one window's answers
NO_PROJECT = "No project"  # the actor of costs that belong to no project
OTHER_MODEL = "other"  # the model of a cost whose line_item is null
_EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()

# A count past _COUNT_LIMIT is no real day's tokens; bounding it keeps every sum inside what the
# store's integers hold (money is bounded by the money parser).
_COUNT_LIMIT = 10**15
# Our own context, so a caller that changed the thread's decimal context cannot change our checks.
_CTX = Context(prec=60)


# A bucket or result of a shape Grafient cannot read; `detail` is the part after the path.
FormatError = ShapeError


# --------------------------------------------------------------------------- days


def day_start(day: datetime.date) -> int:
    """Unix seconds of `day` 00:00 UTC."""
    return (day.toordinal() - _EPOCH_ORDINAL) * DAY_SECONDS


def day_of(start_time: int) -> datetime.date:
    return datetime.date.fromordinal(_EPOCH_ORDINAL + start_time // DAY_SECONDS)


def bucket_day(
    bucket: JsonObject | str, first: datetime.date, last: datetime.date
) -> tuple[datetime.date, Iterator[Any]]:
    """The UTC day of a bucket and its results (read one at a time); FormatError unless its
    start_time is a UTC midnight of first..last and it has a results list. Whether buckets snap to
    midnight is undocumented: we always ask from a midnight, so one that does not is not an answer
    we understand."""
    if isinstance(bucket, str):
        raise FormatError("a bucket that is not a JSON object")
    start = bucket.get("start_time")
    if type(start) is not int:
        raise FormatError("a bucket without a whole-number start_time")
    if start % DAY_SECONDS or not day_start(first) <= start <= day_start(last):
        raise FormatError("a bucket that does not start at a UTC midnight inside the window")
    results = bucket.array("results")
    if results is None:
        raise FormatError("a bucket without a results list")
    return day_of(start), results.values()


# --------------------------------------------------------------------------- fields


def _describe(value: Any) -> str:
    """What a bad value is, never the value itself."""
    if isinstance(value, str):
        return f"a string of {len(value)} character{'s' if len(value) != 1 else ''}"
    return {bool: "a boolean", list: "a list", dict: "an object"}.get(type(value), "a number out of range")


def usd_micro(value: Any) -> int:
    """The dollars a JSON value was written as (a Decimal, as the client decodes fractions, an int,
    or a numeric string: one public fixture sends "2.25"), in micro-cents, through the one money parser."""
    return amounts.micro(value, amounts.shape("an amount value"))


def amount_micro(result: dict[str, Any]) -> int | None:
    """The micro-cents of one costs result; None when `amount` or its `value` is absent or null (the SDK
    marks both optional): such a result carries no money. A currency other than usd is an error, as
    Grafient never converts; an absent or null currency is taken as usd, the only one the costs
    endpoint is known to send."""
    amount = result.get("amount")
    if amount is None:
        return None
    if type(amount) is not dict:
        raise FormatError(f"an amount that is not an object (got {_describe(amount)})")
    value = amount.get("value")
    if value is None:
        return None
    currency = amount.get("currency")
    if currency is not None and (type(currency) is not str or currency.strip().casefold() != "usd"):
        raise FormatError("an amount in a currency other than usd (Grafient never converts)")
    return usd_micro(value)


def model_of(line_item: Any) -> str:
    """The model of a line_item label: its text before the first comma (`gpt-4o-2024-08-06, input`
    -> `gpt-4o-2024-08-06`), the whole label when it has none (`Web search tool calls`), "other"
    for null or a label with nothing before its comma. The format is undocumented."""
    if line_item is None:
        return OTHER_MODEL
    if type(line_item) is not str:
        raise FormatError(f"a line_item that is not a string (got {_describe(line_item)})")
    model = line_item.split(",", 1)[0].strip()
    return stored_name(model) if model else OTHER_MODEL


def project_of(result: dict[str, Any]) -> str | None:
    project = result.get("project_id")
    if project is None:
        return None
    if type(project) is str:
        return stored_name(project)
    raise FormatError(f"a project_id that is not a string (got {_describe(project)})")


def count(result: dict[str, Any], name: str) -> int:
    """A token or request count: a whole number, 0 when absent or null (the optional ones)."""
    value = result.get(name)
    if value is None:
        return 0
    if type(value) is int and 0 <= value <= _COUNT_LIMIT:
        return value
    if type(value) is float and math.isfinite(value) and value.is_integer() and 0 <= value <= _COUNT_LIMIT:
        return int(value)
    if (
        type(value) is Decimal
        and plausible(value)
        and value == value.to_integral_value(context=_CTX)
        and 0 <= value <= _COUNT_LIMIT
    ):
        return int(value)
    raise FormatError(f"a {name} that is not a whole number of a plausible size")


# --------------------------------------------------------------------------- sums


class Seen:
    """The models and projects one window's answers have named so far, for its bounds: checked on the
    result that passes one, so an answer that invents new ones result after result is stopped there.
    Each name is kept once and handed back (`add`), so a window's sums share their strings."""

    __slots__ = ("models", "path", "projects")

    def __init__(self, path: str = "the usage endpoints") -> None:
        self.path = path
        self.models: dict[str, str] = {}
        self.projects: dict[str | None, str | None] = {}

    def add(self, model: str, project: str | None) -> tuple[str, str | None]:
        """The window's own copies of `model` and `project` (the first seen), after the bounds."""
        kept_model = self.models.get(model)
        if kept_model is None:
            kept_model = self.models[model] = model
            if len(self.models) > MAX_MODELS_PER_WINDOW:
                raise LimitExceeded(
                    f"the OpenAI API sent {self.path} for more than {MAX_MODELS_PER_WINDOW:,} different "
                    f"models in one window, more than any real organization has; nothing from this window was saved"
                )
        if project in self.projects:
            return kept_model, self.projects[project]
        self.projects[project] = project
        if len(self.projects) > MAX_PROJECTS:
            raise LimitExceeded(
                f"the OpenAI API sent {self.path} for more than {MAX_PROJECTS:,} different projects "
                f"in one window, more than Grafient keeps; nothing from this window was saved"
            )
        return kept_model, project


# (day, model, project id or None) -> exact micro-cents
CostSums = dict[tuple[datetime.date, str, "str | None"], int]
# (day, model, project id or None) -> [requests, input, output, cache read, cache write]
UsageSums = dict[tuple[datetime.date, str, "str | None"], list[int]]


def add_cost_results(sums: CostSums, day: datetime.date, results: list[Any], seen: Seen) -> None:
    """Add one costs bucket's results to `sums`, exactly."""
    for result in results:
        add_cost_result(sums, day, result, seen)


def add_cost_result(sums: CostSums, day: datetime.date, result: Any, seen: Seen) -> None:
    """Add one costs result to `sums`; a new (day, model, project) past MAX_SUMS_PER_WINDOW fails the window."""
    if type(result) is not dict:
        raise FormatError("a result that is not a JSON object")
    micro = amount_micro(result)
    model, project = seen.add(model_of(result.get("line_item")), project_of(result))
    if micro is None:
        return
    key = (day, model, project)
    if key in sums:
        sums[key] += micro
    elif len(sums) >= MAX_SUMS_PER_WINDOW:
        raise too_many_sums("OpenAI", "costs", MAX_SUMS_PER_WINDOW)
    else:
        sums[key] = micro


def add_usage_results(sums: UsageSums, day: datetime.date, results: list[Any], seen: Seen) -> None:
    """Add one completions-usage bucket's results to `sums`: requests, then uncached input, output,
    cache read and cache write. `input_tokens` includes both cache figures; `input_uncached_tokens`,
    when sent, excludes them. A total smaller than its cache parts is counted as 0 uncached."""
    for result in results:
        add_usage_result(sums, day, result, seen)


def add_usage_result(sums: UsageSums, day: datetime.date, result: Any, seen: Seen) -> None:
    """Add one completions-usage result to `sums`; a new key past MAX_SUMS_PER_WINDOW fails the window."""
    if type(result) is not dict:
        raise FormatError("a result that is not a JSON object")
    model = result.get("model")
    if model is None or model == "":
        model = OTHER_MODEL
    elif type(model) is not str:
        raise FormatError(f"a model that is not a string (got {_describe(model)})")
    else:
        model = stored_name(model)
    cache_read = count(result, "input_cached_tokens")
    cache_write = count(result, "input_cache_write_tokens")
    if result.get("input_uncached_tokens") is not None:
        uncached = count(result, "input_uncached_tokens")
    else:
        uncached = max(0, count(result, "input_tokens") - cache_read - cache_write)
    figures = (
        count(result, "num_model_requests"),
        uncached,
        count(result, "output_tokens"),
        cache_read,
        cache_write,
    )
    model, project = seen.add(model, project_of(result))
    key = (day, model, project)
    s = sums.get(key)
    if s is None:
        if len(sums) >= MAX_SUMS_PER_WINDOW:
            raise too_many_sums("OpenAI", "completions usage", MAX_SUMS_PER_WINDOW)
        sums[key] = list(figures)
    else:
        for i, value in enumerate(figures):
            s[i] += value


def actor_of(project: str | None, names: Mapping[str, str]) -> str:
    """The display name of a project: its name, "No project" for null, the id when it is unknown."""
    if project is None:
        return NO_PROJECT
    return names.get(project, project)


def cost_lines(costs: CostSums, names: Mapping[str, str], *, usage_known: bool) -> list[CostLine]:
    """The cost sums as lines. They count no requests or tokens of their own: when the usage answer
    came, they do not report them (the usage lines count the completions; nothing counts embeddings,
    web search and the other families, whose figures stay unknown); when it could not be read, they
    are unknown (None), which makes every sum they join unknown."""
    return [
        CostLine(
            day,
            model,
            actor_of(project, names),
            False,
            micro,
            None,
            input_tokens=None,
            output_tokens=None,
            cache_read_tokens=None,
            cache_write_tokens=None,
            reports_requests=not usage_known,
            reports_tokens=not usage_known,
        )
        for (day, model, project), micro in costs.items()
    ]


def usage_lines(usage: UsageSums, names: Mapping[str, str]) -> list[CostLine]:
    """The usage sums as lines without money (cost comes from the costs lines)."""
    return [
        CostLine(
            day,
            model,
            actor_of(project, names),
            False,
            0,
            s[0],
            input_tokens=s[1],
            output_tokens=s[2],
            cache_read_tokens=s[3],
            cache_write_tokens=s[4],
        )
        for (day, model, project), s in usage.items()
    ]
