"""OpenRouter's cost rules: an /activity answer read exactly, and summed into cost lines.

Money comes as US dollars; it is stored as integer micro-cents (USD × 100_000_000), made from the
literal the API wrote (the client decodes JSON fractions as Decimal) by the one money parser
(money.to_micro: exact, rounded once per row, half to even, at the micro-cent, 1e-8 USD: finer than
any figure Grafient shows, and bounded), never through a binary float; sums are exact integers.

Choices where OpenRouter's documentation is silent (see shared/openrouter-api.md):
- `date` is "YYYY-MM-DD"; a time after it ("2026-08-03 00:00:00", "...T00:00:00Z") is tolerated and
  ignored, anything else is a malformed row.
- A row without `model` (or with an empty one) is put under "unknown"; a model or workspace id
  that is not a string is a malformed row.
- A count (`requests`, `prompt_tokens`, `completion_tokens`, `reasoning_tokens`) that is absent or
  null is unknown: the cost line it falls in carries None for it, never 0. A count of any other
  shape than a whole number is a malformed row (dropping it would understate without a word).
- `byok_usage_inference` absent or null on every row of a line: the line's BYOK is None; present
  on some: the sum of those. Not a number: malformed, like `usage`.
- A row without `workspace_id` is the default workspace's (activity from before workspaces).

Pure: no network, no Textual.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Context, Decimal
from typing import Any

from grafient_tui.errors import MAX_SUMS_PER_WINDOW, ActivityFormatError, LimitExceeded, too_many_sums
from grafient_tui.money import plausible
from grafient_tui.providers import amounts
from grafient_tui.providers.base import CostLine, distinct_names
from grafient_tui.untrusted import stored_name

MICRO_PER_USD = 100_000_000  # the store's unit: micro-cents, as Cursor's cost_micro
DEFAULT_WORKSPACE = "Default workspace"  # the actor of rows that name no workspace
UNKNOWN_MODEL = "unknown"
SAVED_NOTHING = "nothing from this window was saved"

# What one answer may make us hold. A real account's 30 days are far inside these; past them
# the answer is broken or hostile, and the sync fails with one sentence.
MAX_ROWS = 500_000
MAX_MODELS = 5_000
MAX_WORKSPACES = 10_000

_COUNT_LIMIT = 10**12  # requests or tokens in one row
_CTX = Context(prec=60)  # our own: a caller's decimal context cannot change our checks


@dataclass(frozen=True, slots=True)
class ActivityRow:
    """One row of /activity: a day, model, endpoint and workspace, as OpenRouter sums them."""

    day: datetime.date
    model: str
    workspace_id: str | None
    usage: int  # micro-cents of OpenRouter credits
    byok: int | None  # micro-cents billed on the account's own provider key; None: not sent
    requests: int | None
    prompt_tokens: int | None
    completion_tokens: int | None
    reasoning_tokens: int | None


# --------------------------------------------------------------------------- reading one row


def _describe(value: Any) -> str:
    """What a bad value is, never the value itself (server text may echo a key)."""
    if isinstance(value, str):
        return f"a string of {len(value)} character{'s' if len(value) != 1 else ''}"
    if value is None:
        return "nothing"
    if isinstance(value, (float, Decimal)):
        if not Decimal(value).is_finite():
            return "a number that is not finite"
        if not plausible(Decimal(value)):
            return "a number out of range"
        if Decimal(value) != Decimal(value).to_integral_value(context=_CTX):
            return "a fractional number"
    return {bool: "a boolean", list: "a list", dict: "an object"}.get(type(value), "a number out of range")


def _bad(index: int, field: str, value: Any, what: str) -> ActivityFormatError:
    return ActivityFormatError(
        f"the OpenRouter API sent an activity row Grafient cannot read (row {index + 1}: {field} is not "
        f"{what}, got {_describe(value)}); {SAVED_NOTHING}"
    )


def dollars(index: int, field: str, value: Any) -> int:
    """A JSON money value in US dollars as micro-cents, through the one money parser."""
    return amounts.micro(
        value,
        lambda reason: ActivityFormatError(
            f"the OpenRouter API sent an activity row Grafient cannot read (row {index + 1}: {field} is "
            f"{reason}); {SAVED_NOTHING}"
        ),
    )


def _day(index: int, value: Any) -> datetime.date:
    # "YYYY-MM-DD", optionally followed by a time that says nothing more about the UTC day.
    if type(value) is str and 10 <= len(value) <= 40 and (len(value) == 10 or value[10] in "T "):
        try:
            return datetime.date.fromisoformat(value[:10])
        except ValueError:
            pass
    raise _bad(index, "date", value, "a YYYY-MM-DD day")


def _count(index: int, raw: dict[str, Any], field: str) -> int | None:
    value = raw.get(field)
    if value is None:
        return None
    if type(value) is int:
        number = value
    elif (isinstance(value, Decimal) and plausible(value) and value == value.to_integral_value(context=_CTX)) or (
        type(value) is str and value.strip().isascii() and value.strip().isdigit() and len(value) <= 20
    ):
        number = int(value)
    else:
        raise _bad(index, field, value, "a whole number")
    if not 0 <= number <= _COUNT_LIMIT:
        raise _bad(index, field, value, "a whole number of a plausible size")
    return number


def _text(index: int, raw: dict[str, Any], field: str) -> str | None:
    value = raw.get(field)
    if value is None or value == "":
        return None
    if type(value) is not str:
        raise _bad(index, field, value, "a string")
    return value


def _stored_or_none(text: str | None) -> str | None:
    return None if text is None else stored_name(text)


def parse_row(index: int, raw: Any) -> ActivityRow:
    """Row `index` of the answer's `data`; ActivityFormatError when it cannot be read."""
    if type(raw) is not dict:
        raise ActivityFormatError(
            f"the OpenRouter API sent an activity row Grafient cannot read (row {index + 1} is not an object); "
            f"{SAVED_NOTHING}"
        )
    day = _day(index, raw.get("date"))
    usage = dollars(index, "usage", raw.get("usage"))
    byok_raw = raw.get("byok_usage_inference")
    byok = None if byok_raw is None else dollars(index, "byok_usage_inference", byok_raw)
    return ActivityRow(
        day=day,
        model=stored_name(_text(index, raw, "model") or UNKNOWN_MODEL),
        workspace_id=_stored_or_none(_text(index, raw, "workspace_id")),
        usage=usage,
        byok=byok,
        requests=_count(index, raw, "requests"),
        prompt_tokens=_count(index, raw, "prompt_tokens"),
        completion_tokens=_count(index, raw, "completion_tokens"),
        reasoning_tokens=_count(index, raw, "reasoning_tokens"),
    )


class Activity:
    """An /activity answer summed as its rows arrive, per (day, model, workspace id): memory grows with
    the distinct keys (at most MAX_SUMS_PER_WINDOW), never with the rows, and every bound is checked
    on the row that would pass it. One unreadable row means the answer cannot be trusted for any
    day (a malformed answer replaces nothing already stored)."""

    __slots__ = ("_models", "_workspaces", "days", "rows", "sums")

    def __init__(self) -> None:
        self.rows = 0
        # (day, model, workspace id) -> [usage, byok, requests, prompt, completion, reasoning]
        self.sums: dict[tuple[datetime.date, str, str | None], list[int | None]] = {}
        self.days: set[datetime.date] = set()  # the days with at least one row
        self._models: dict[str, str] = {}  # each name kept once: the sums share their strings
        self._workspaces: dict[str | None, str | None] = {}

    def add(self, raw: Any) -> None:
        """Read and add the answer's next row."""
        index = self.rows
        self.rows += 1
        if self.rows > MAX_ROWS:
            raise LimitExceeded(
                f"the OpenRouter API sent more than {MAX_ROWS:,} activity rows, more than any real account has; "
                f"stopped reading, {SAVED_NOTHING}"
            )
        row = parse_row(index, raw)
        model, workspace = self._models.get(row.model), self._workspaces.get(row.workspace_id, row.workspace_id)
        if model is None:
            model = self._models[row.model] = row.model
            if len(self._models) > MAX_MODELS:
                raise LimitExceeded(
                    f"the OpenRouter API sent activity for more than {MAX_MODELS:,} different models, more than "
                    f"any real account has; stopped reading, {SAVED_NOTHING}"
                )
        if row.workspace_id not in self._workspaces:
            self._workspaces[row.workspace_id] = row.workspace_id
            if len(self._workspaces) > MAX_WORKSPACES:
                raise LimitExceeded(
                    f"the OpenRouter API sent activity for more than {MAX_WORKSPACES:,} different workspaces, "
                    f"more than Grafient keeps; stopped reading, {SAVED_NOTHING}"
                )
        self.days.add(row.day)
        key = (row.day, model, workspace)
        figures = (row.requests, row.prompt_tokens, row.completion_tokens, row.reasoning_tokens)
        s = self.sums.get(key)
        if s is None:
            if len(self.sums) >= MAX_SUMS_PER_WINDOW:
                raise too_many_sums("OpenRouter", "activity", MAX_SUMS_PER_WINDOW)
            self.sums[key] = [row.usage, row.byok, *figures]
            return
        s[0] = _add(s[0], row.usage)
        if row.byok is not None:
            s[1] = row.byok if s[1] is None else s[1] + row.byok
        for i, value in enumerate(figures, 2):
            s[i] = _add(s[i], value)


def parse_activity(answer: Mapping[str, Any]) -> Activity:
    """Every row of a decoded /activity answer (tests and small answers; the client streams them)."""
    data = answer.get("data")
    if type(data) is not list:
        raise ActivityFormatError(f"the OpenRouter API answered /v1/activity without a data list; {SAVED_NOTHING}")
    activity = Activity()
    for raw in data:
        activity.add(raw)
    return activity


# --------------------------------------------------------------------------- workspaces


def workspace_names(named: Mapping[str, str]) -> dict[str, str]:
    """Workspace id -> the name to show, from the listed id -> name (an id the list misses is shown
    as the id). Two workspaces of the same name get their id's first 8 characters beside it, so
    their spend is not merged under one actor."""
    # No reserved name: the listed default workspace and rows that name none are the same workspace.
    return distinct_names(named)


def actor_of(workspace_id: str | None, names: Mapping[str, str]) -> str:
    if workspace_id is None:
        return DEFAULT_WORKSPACE
    return names.get(workspace_id, workspace_id)


# --------------------------------------------------------------------------- cost lines


def _add(total: int | None, value: int | None) -> int | None:
    return None if total is None or value is None else total + value


def cost_lines(
    activity: Activity,
    first: datetime.date,
    last: datetime.date,
    today: datetime.date,
    names: Mapping[str, str],
) -> list[CostLine]:
    """The sums of the UTC days first..last that are before `today`, per day, model and workspace's
    name. Cost = Σ usage; BYOK = Σ byok_usage_inference, kept beside it and never added."""
    lines: dict[tuple[datetime.date, str, str], list[int | None]] = {}
    for (day, model, workspace), s in activity.sums.items():
        if not first <= day <= last or day >= today:
            continue
        key = (day, model, actor_of(workspace, names))
        line = lines.get(key)
        if line is None:
            lines[key] = list(s)
            continue
        line[0] = _add(line[0], s[0])
        if s[1] is not None:
            line[1] = s[1] if line[1] is None else line[1] + s[1]
        for i in range(2, 6):
            line[i] = _add(line[i], s[i])
    return [
        CostLine(
            day,
            model,
            actor,
            False,
            usage or 0,
            requests,
            input_tokens=prompt,
            output_tokens=completion,
            cache_read_tokens=None,
            cache_write_tokens=None,
            reasoning_tokens=reasoning,
            byok_micro=byok,
        )
        for (day, model, actor), (usage, byok, requests, prompt, completion, reasoning) in lines.items()
    ]


def days_reported(
    activity: Activity, first: datetime.date, last: datetime.date, today: datetime.date
) -> list[datetime.date]:
    """The days of first..last an answer speaks for: those with rows, and the days of OpenRouter's
    window (the 30 before today) without rows but older than yesterday ($0 days). Yesterday
    without rows may still be on its way, today is never reported, and a day older than the
    window cannot be known: those are left as they are."""
    with_rows = {day for day in activity.days if day < today}
    oldest = today - datetime.timedelta(days=30)
    yesterday = today - datetime.timedelta(days=1)
    days = [first + datetime.timedelta(days=i) for i in range((last - first).days + 1)]
    return [d for d in days if d in with_rows or oldest <= d < yesterday]
