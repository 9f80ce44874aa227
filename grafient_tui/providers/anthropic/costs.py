"""Anthropic's cost rules: report pages read strictly, money summed exactly, lines per day, model, workspace.

The cost report sends `amount` as a decimal STRING in US cents with fractions ("1534.2215" is
$15.342215). It is read by the one money parser (money.to_micro): exactly, as integer micro-cents
(1 cent = 1_000_000), half to even (only an amount with more than six decimals of a cent rounds at
all), bounded per row; the sums per (day, model, workspace) are exact integer sums, counted as they
grow (MAX_SUMS_PER_WINDOW).

A page of the wrong shape is an error for its window, never an empty day (shared doc, "A malformed
answer"): every sentence here ends "nothing from this window was saved". Pure: no network, no Textual.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Context, Decimal
from typing import Any

from grafient_tui.errors import MAX_SUMS_PER_WINDOW, BadResponse, LimitExceeded, too_many_sums
from grafient_tui.money import plausible
from grafient_tui.providers import amounts
from grafient_tui.providers.base import CostLine
from grafient_tui.providers.jsonstream import JsonArray, JsonObject
from grafient_tui.untrusted import stored_name

MICRO_PER_CENT = 1_000_000
DEFAULT_WORKSPACE = "Default workspace"  # the actor of rows whose workspace_id is null
OTHER = "other"  # the model of a cost with neither a model nor a cost_type
SAVED_NOTHING = "nothing from this window was saved"
# What one window may make us hold. A real organization's month is far inside these; past them
# the answer is broken or hostile, and the window fails with one sentence.
MAX_MODELS_PER_WINDOW = 5_000
MAX_WORKSPACES_PER_WINDOW = 10_000

_CTX = Context(prec=80)  # our own: a caller's decimal context cannot change a check
_TOKEN_LIMIT = 10**15


def malformed(report: str, what: str) -> BadResponse:
    """One sentence for a page we cannot read. `what` never quotes the server's text (it may echo the key)."""
    return BadResponse(f"the Anthropic API sent {what} in its {report}; {SAVED_NOTHING}")


def _kind(value: Any) -> str:
    """What a bad value is, never the value itself."""
    if isinstance(value, str):
        return f"a string of {len(value)} character{'s' if len(value) != 1 else ''}"
    return {bool: "a boolean", list: "a list", dict: "an object", type(None): "null"}.get(type(value), "a number")


# --------------------------------------------------------------------------- dates


def rfc3339(day: datetime.date) -> str:
    """Midnight UTC of `day`, as the reports take it: 2026-08-03T00:00:00Z."""
    return f"{day.isoformat()}T00:00:00Z"


def _moment(value: Any) -> datetime.datetime | None:
    if type(value) is not str or not 10 <= len(value) <= 40 or "T" not in value:
        return None
    try:
        moment = datetime.datetime.fromisoformat(value.strip().replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None  # a time without a zone could be any day
    return moment.astimezone(datetime.UTC)


def bucket_day(bucket: JsonObject | str, first: datetime.date, last: datetime.date, report: str) -> datetime.date:
    """The UTC day of a bucket's `starting_at`, which must lie in first..last."""
    if isinstance(bucket, str):
        raise malformed(report, f"a bucket that is {bucket}, not an object")
    start = _moment(bucket.get("starting_at"))
    if start is None:
        raise malformed(report, "a bucket whose starting_at is not an RFC 3339 time")
    end = bucket.get("ending_at")
    if end is not None:
        end_moment = _moment(end)
        if end_moment is None or end_moment <= start:
            raise malformed(report, "a bucket whose ending_at is not an RFC 3339 time after its start")
    day = start.date()
    if not first <= day <= last:
        raise malformed(
            report,
            f"a bucket for {day.isoformat()}, outside the days asked for ({first.isoformat()} to {last.isoformat()})",
        )
    return day


def bucket_rows(bucket: JsonObject, report: str) -> Iterator[Any]:
    """The bucket's results, decoded one at a time as they are read."""
    results = bucket.array("results")
    if results is None:
        raise malformed(report, f"a bucket whose results are {bucket.kind('results')}, not a list")
    return results.values()


# --------------------------------------------------------------------------- pages


@dataclass(frozen=True, slots=True)
class Page:
    buckets: JsonArray
    next_page: str | None  # None: the last page


def read_page(data: JsonObject, report: str, seen: set[str]) -> Page:
    """The buckets of one answer and the cursor to the next page.

    `next_page` is opaque and only followed while `has_more` is true: has_more without a cursor, or
    a cursor seen before (`seen`, updated here), would page forever or skip days, so both are
    malformed. A missing or null `has_more` is taken as the last page."""
    buckets = data.array("data")
    if buckets is None:
        raise malformed(report, "an answer without a data list")
    has_more = data.get("has_more")
    if has_more is None or has_more is False:
        return Page(buckets, None)
    if has_more is not True:
        raise malformed(report, f"a has_more that is {_kind(has_more)}, not true or false")
    cursor = data.get("next_page")
    if type(cursor) is not str or not cursor:
        raise malformed(report, "has_more without a next_page")
    if cursor in seen:
        raise malformed(report, "a next_page it had already sent (the pages would repeat)")
    seen.add(cursor)
    return Page(buckets, cursor)


# --------------------------------------------------------------------------- fields


def amount_micro(row: dict[str, Any]) -> int:
    """A row's `amount` (US cents, a decimal string) as integer micro-cents, through the one money
    parser; its currency must be USD (Grafient never converts)."""
    micro = amounts.micro(
        row.get("amount"), lambda reason: malformed("cost report", f"an amount that is {reason}"), "cents"
    )
    currency = row.get("currency")
    if currency != "USD":
        shown = currency if type(currency) is str and currency.isalpha() and len(currency) <= 5 else _kind(currency)
        raise malformed("cost report", f"a cost in {shown}, not USD (Grafient never converts currencies)")
    return micro


def _text(row: dict[str, Any], name: str, report: str) -> str | None:
    value = row.get(name)
    if value is None or value == "":
        return None
    if type(value) is not str:
        raise malformed(report, f"a {name} that is {_kind(value)}, not a string")
    return stored_name(value)  # cut as it arrives: what a window holds grows with these


def cost_model(row: dict[str, Any]) -> str:
    """The raw `model` id; else the `cost_type` (web_search, code_execution, session_usage); else "other",
    so the models always add up to the day. `model` wins over the model named in `description`."""
    return _text(row, "model", "cost report") or _text(row, "cost_type", "cost report") or OTHER


def workspace_of(row: dict[str, Any], report: str) -> str | None:
    """The row's workspace_id; None for the default workspace."""
    return _text(row, "workspace_id", report)


def _count(value: Any, name: str) -> int:
    """A token count: a whole number (or a whole-valued JSON fraction); missing or null is 0."""
    if value is None:
        return 0
    if type(value) is int:
        count = value
    elif isinstance(value, Decimal) and plausible(value) and value == value.to_integral_value(context=_CTX):
        count = int(value)
    else:
        raise malformed("usage report", f"a {name} that is {_kind(value)}, not a whole number")
    if not 0 <= count <= _TOKEN_LIMIT:
        raise malformed("usage report", f"a {name} that is not a plausible token count")
    return count


@dataclass(frozen=True, slots=True)
class Tokens:
    input: int
    output: int
    cache_read: int
    cache_write: int


def row_tokens(row: dict[str, Any]) -> Tokens:
    """input = uncached_input_tokens, cache write = both cache_creation counts, cache read =
    cache_read_input_tokens, output = output_tokens."""
    creation = row.get("cache_creation")
    if creation is None:
        creation = {}
    elif type(creation) is not dict:
        raise malformed("usage report", f"a cache_creation that is {_kind(creation)}, not an object")
    write = _count(creation.get("ephemeral_5m_input_tokens"), "cache_creation.ephemeral_5m_input_tokens") + _count(
        creation.get("ephemeral_1h_input_tokens"), "cache_creation.ephemeral_1h_input_tokens"
    )
    return Tokens(
        input=_count(row.get("uncached_input_tokens"), "uncached_input_tokens"),
        output=_count(row.get("output_tokens"), "output_tokens"),
        cache_read=_count(row.get("cache_read_input_tokens"), "cache_read_input_tokens"),
        cache_write=write,
    )


# --------------------------------------------------------------------------- sums


def actor_name(workspace_id: str | None, names: dict[str, str]) -> str:
    """A workspace's display name: "Default workspace" for null, its id when the list does not know it."""
    if workspace_id is None:
        return DEFAULT_WORKSPACE
    return names.get(workspace_id, workspace_id)


class _Bounded:
    """Counts the models and workspaces a window names, and stops an answer that invents too many."""

    def __init__(self, report: str) -> None:
        self._report = report
        self._models: dict[str, str] = {}
        self._workspaces: dict[str | None, str | None] = {}

    def note(self, model: str, workspace: str | None) -> tuple[str, str | None]:
        """The window's own copies of `model` and `workspace` (the first seen: a window's sums share
        their strings), after the bounds."""
        if model in self._models:
            model = self._models[model]
        else:
            self._models[model] = model
            if len(self._models) > MAX_MODELS_PER_WINDOW:
                raise LimitExceeded(
                    f"the Anthropic API sent more than {MAX_MODELS_PER_WINDOW:,} different models in its "
                    f"{self._report} for one window, more than any real organization has; {SAVED_NOTHING}"
                )
        if workspace in self._workspaces:
            workspace = self._workspaces[workspace]
        else:
            self._workspaces[workspace] = workspace
            if len(self._workspaces) > MAX_WORKSPACES_PER_WINDOW:
                raise LimitExceeded(
                    f"the Anthropic API sent more than {MAX_WORKSPACES_PER_WINDOW:,} different workspaces in its "
                    f"{self._report} for one window, more than Grafient keeps; {SAVED_NOTHING}"
                )
        return model, workspace


class CostSums:
    """The cost report of one window, summed exactly per (day, model, workspace), in micro-cents."""

    def __init__(self) -> None:
        self._sums: dict[tuple[datetime.date, str, str | None], int] = {}
        self._bounds = _Bounded("cost report")

    def add(self, day: datetime.date, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            self.add_row(day, row)

    def add_row(self, day: datetime.date, row: Any) -> None:
        if type(row) is not dict:
            raise malformed("cost report", f"a result that is {_kind(row)}, not an object")
        micro = amount_micro(row)
        model, workspace = self._bounds.note(cost_model(row), workspace_of(row, "cost report"))
        key = (day, model, workspace)
        sums = self._sums
        if key not in sums:
            if len(sums) >= MAX_SUMS_PER_WINDOW:
                raise too_many_sums("Anthropic", "its cost report", MAX_SUMS_PER_WINDOW)
            sums[key] = micro
        else:
            sums[key] += micro

    def lines(self, names: dict[str, str], *, tokens_known: bool) -> list[CostLine]:
        """One line per sum. Its tokens are not its to report when the usage report came (its own
        lines carry them; a cost no usage line counts, web search, leaves them unknown) and unknown
        when it failed; requests are always unknown: these reports count none."""
        return [
            CostLine(
                day,
                model,
                actor_name(workspace, names),
                False,
                micro,
                None,
                input_tokens=None,
                output_tokens=None,
                cache_read_tokens=None,
                cache_write_tokens=None,
                reports_tokens=not tokens_known,
            )
            for (day, model, workspace), micro in self._sums.items()
        ]


class TokenSums:
    """The usage report of one window, summed per (day, model, workspace)."""

    def __init__(self) -> None:
        self._sums: dict[tuple[datetime.date, str, str | None], list[int]] = {}
        self._bounds = _Bounded("usage report")

    def add(self, day: datetime.date, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            self.add_row(day, row)

    def add_row(self, day: datetime.date, row: Any) -> None:
        if type(row) is not dict:
            raise malformed("usage report", f"a result that is {_kind(row)}, not an object")
        sums = self._sums
        tokens = row_tokens(row)
        model, workspace = self._bounds.note(
            _text(row, "model", "usage report") or OTHER, workspace_of(row, "usage report")
        )
        key = (day, model, workspace)
        s = sums.get(key)
        if s is None:
            if len(sums) >= MAX_SUMS_PER_WINDOW:
                raise too_many_sums("Anthropic", "its usage report", MAX_SUMS_PER_WINDOW)
            s = sums[key] = [0, 0, 0, 0]
        s[0] += tokens.input
        s[1] += tokens.output
        s[2] += tokens.cache_read
        s[3] += tokens.cache_write

    def lines(self, names: dict[str, str], days: set[datetime.date]) -> list[CostLine]:
        """Token-only lines (no money, requests unknown) for the days the cost report covered."""
        return [
            CostLine(
                day,
                model,
                actor_name(workspace, names),
                False,
                0,
                None,
                input_tokens=s[0],
                output_tokens=s[1],
                cache_read_tokens=s[2],
                cache_write_tokens=s[3],
            )
            for (day, model, workspace), s in self._sums.items()
            if day in days
        ]
